import { listReply, noContent, ok, type Reply } from './envelope';
import { type KvStore, versionMetadata } from './kv-store';
import type { RequestContext, Route } from './route-types';
import { invalidRequest, notFound } from './vault-error';

const V1_PATH_WARNING =
  "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the OpenBao CLI, use 'bao kv get' for this operation.";

function readData(kv: KvStore, ctx: RequestContext): Reply {
  const found = kv.read(ctx.params[0]!, ctx.fields.int('version'));
  if (!found) throw notFound();
  const metadata = versionMetadata(found.entry, found.version);
  // A deleted or destroyed version is a 404 that still carries the envelope (spec §5).
  if (found.entry.deletedMs !== null || found.entry.destroyed)
    return ok({ data: { data: null, metadata } }, 404);
  return ok({ data: { data: found.entry.data, metadata } });
}

function writeData(kv: KvStore, ctx: RequestContext): Reply {
  const data = ctx.fields.raw.data;
  if (data === undefined || data === null) throw invalidRequest('no data provided');
  if (typeof data !== 'object' || Array.isArray(data)) throw invalidRequest('data must be a JSON object');
  const options = ctx.fields.raw.options as { cas?: unknown } | undefined;
  const cas = options?.cas === undefined ? undefined : Number(options.cas);
  if (cas !== undefined && !Number.isInteger(cas)) throw invalidRequest('cas must be an integer');
  return ok({ data: kv.write(ctx.params[0]!, data as Record<string, unknown>, cas) });
}

export function createKvRoutes(kv: KvStore): Route[] {
  return [
    {
      pattern: /^secret\/data\/(.+)$/,
      fields: ['data', 'options', 'version'],
      exists: ([p]) => kv.has(p!),
      handlers: {
        read: (ctx) => readData(kv, ctx),
        update: (ctx) => writeData(kv, ctx),
        delete: (ctx) => {
          kv.softDelete(ctx.params[0]!);
          return noContent();
        },
      },
    },
    {
      pattern: /^secret\/metadata(?:\/(.*))?$/,
      fields: [],
      handlers: {
        list: (ctx) => listReply(kv.list(ctx.params[0] ?? '')),
        read: (ctx) => {
          const metadata = kv.metadata(ctx.params[0] ?? '');
          if (!metadata) throw notFound();
          return ok({ data: metadata });
        },
        delete: (ctx) => {
          kv.deleteAll(ctx.params[0] ?? '');
          return noContent();
        },
      },
    },
    {
      // The v1 path on a v2 mount: 404 with Vault's warning (spec §5, node-vault#145).
      pattern: /^secret\/(.*)$/,
      handlers: {
        read: () => ok({ data: null, warnings: [V1_PATH_WARNING] }, 404),
        update: () => ok({ data: null, warnings: [V1_PATH_WARNING] }, 404),
      },
    },
  ];
}
