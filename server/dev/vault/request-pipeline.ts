import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../shared/logger';
import type { Operation } from './acl';
import { type Reply, sendError, sendReply, withWarnings } from './envelope';
import type { PolicyStore } from './policy-store';
import { newRequestId } from './random-ids';
import { Fields, parseJsonObject, readBody } from './request-fields';
import { findRoute, handlerFor, needsSudo, type RequestContext, type Route } from './route-types';
import { MOUNT_PREFIXES } from './sys-routes';
import type { TokenEntry, TokenStore } from './token-store';
import {
  multiError,
  permissionDenied,
  sealedError,
  toVaultError,
  unsupportedOperation,
  VaultApiError,
} from './vault-error';

export interface PipelineDeps {
  routes: Route[];
  tokens: TokenStore;
  policies: PolicyStore;
  logger: Logger;
  isSealed(): boolean;
}

const truthy = (v: string | null): boolean =>
  v !== null && ['1', 't', 'true', 'T', 'TRUE', 'True'].includes(v);

/**
 * HTTP method → Vault operation. PUT ≡ POST (spec §1). Node's HTTP parser (llhttp) rejects the `LIST`
 * verb with a 400 before any handler runs (it is not in `http.METHODS`), so the dev server can only offer
 * the equivalent `GET …?list=true`; clients must use that (node-vault: `noCustomHTTPVerbs: true`).
 */
function operationFor(method: string | undefined, query: URLSearchParams): Operation {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return truthy(query.get('list')) ? 'list' : 'read';
    case 'POST':
    case 'PUT':
      return 'update';
    case 'DELETE':
      return 'delete';
    default:
      throw unsupportedOperation();
  }
}

function tokenOf(req: IncomingMessage): string | undefined {
  const header = req.headers['x-vault-token'];
  if (typeof header === 'string' && header !== '') return header;
  const auth = req.headers.authorization;
  return auth?.startsWith('Bearer ') ? auth.slice(7).trim() || undefined : undefined;
}

/** GET/DELETE carry their parameters in the query string; POST/PUT in a JSON body. */
async function readFields(req: IncomingMessage, query: URLSearchParams): Promise<Fields> {
  const body = await readBody(req);
  if (req.method === 'POST' || req.method === 'PUT') return new Fields(parseJsonObject(body));
  const params: Record<string, unknown> = {};
  for (const [k, v] of query) if (k !== 'list' && k !== 'help') params[k] = v;
  return new Fields(params);
}

const noRoute = (path: string): VaultApiError =>
  MOUNT_PREFIXES.some((m) => `${path}/`.startsWith(m))
    ? new VaultApiError(404, multiError('unsupported path'))
    : new VaultApiError(404, `no handler for route "${path}". route entry not found.`);

function decodePath(raw: string): string {
  try {
    return decodeURIComponent(raw).replace(/\/+$/, '');
  } catch {
    throw new VaultApiError(400, 'invalid URL path encoding');
  }
}

/** Only the first segments of token paths are logged: legacy paths can carry a token in the URL. */
function loggablePath(url: string | undefined): string {
  const path = (url ?? '').split('?')[0]!.replace(/^\/v1\//, '');
  return path.startsWith('auth/token/') ? path.split('/').slice(0, 3).join('/') : path;
}

export function createRequestPipeline(deps: PipelineDeps) {
  /** Root passes every ACL; anyone else needs the capability, plus `sudo` on root-protected paths. */
  function authorize(caller: TokenEntry, aclPath: string, op: Operation, route: Route | undefined): boolean {
    if (caller.policies.includes('root')) return true;
    const acl = deps.policies.aclFor(caller.policies);
    const caps = acl.capabilities(aclPath);
    if (!acl.allows(aclPath, op)) throw permissionDenied();
    if (route && needsSudo(route, op) && !caps.has('sudo')) throw permissionDenied();
    return caps.has('sudo');
  }

  /** Authenticates the caller and checks the ACL; true when the caller just spent its last use. */
  function authenticate(req: IncomingMessage, ctx: RequestContext, route: Route | undefined): boolean {
    const id = tokenOf(req);
    const caller = id === undefined ? undefined : deps.tokens.lookup(id);
    if (!caller) throw permissionDenied();
    if (ctx.op === 'update' && route?.exists && !route.exists(ctx.params)) ctx.op = 'create';
    ctx.privileged = authorize(caller, ctx.op === 'list' ? `${ctx.path}/` : ctx.path, ctx.op, route);
    ctx.caller = caller;
    return deps.tokens.consumeUse(caller);
  }

  async function dispatch(ctx: RequestContext, route: Route | undefined): Promise<Reply> {
    if (!route) throw noRoute(ctx.path);
    const handler = handlerFor(route, ctx.op);
    if (!handler) throw unsupportedOperation();
    const ignored = route.fields ? ctx.fields.unknownKeys(route.fields) : [];
    const warnings = ignored.length
      ? [`Endpoint ignored these unrecognized parameters: [${ignored.join(' ')}]`]
      : [];
    return withWarnings(await handler(ctx), warnings);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<number> {
    const url = new URL(req.url ?? '/', 'http://dev-vault');
    if (!url.pathname.startsWith('/v1/')) throw new VaultApiError(404, []);
    const path = decodePath(url.pathname.slice(4));
    const op = operationFor(req.method, url.searchParams);
    const match = findRoute(deps.routes, path);
    if (deps.isSealed() && !match?.route.health) throw sealedError();
    if (req.method === 'HEAD' && !match?.route.health) throw unsupportedOperation();
    const ctx: RequestContext = {
      path,
      params: match?.params ?? [],
      op,
      fields: await readFields(req, url.searchParams),
      query: url.searchParams,
      caller: undefined,
      privileged: false,
      headOnly: req.method === 'HEAD',
    };
    const spent = match?.route.unauthenticated ? false : authenticate(req, ctx, match?.route);
    try {
      const reply = await dispatch(ctx, match?.route);
      sendReply(res, reply, requestId, ctx.headOnly);
      return reply.status;
    } finally {
      // A token's last use is revoked once that request is done (num_uses, spec §2.1).
      if (spent && ctx.caller) deps.tokens.revoke(ctx.caller.id);
    }
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    const requestId = newRequestId();
    const started = Date.now();
    const path = loggablePath(req.url);
    handle(req, res, requestId)
      .then((status) =>
        deps.logger.debug({ method: req.method, path, status, ms: Date.now() - started }, 'request'),
      )
      .catch((err: unknown) => {
        const vaultErr = toVaultError(err);
        if (vaultErr.status >= 500)
          deps.logger.error({ method: req.method, path, error: vaultErr.message }, 'request failed');
        else deps.logger.debug({ method: req.method, path, status: vaultErr.status }, 'request rejected');
        sendError(res, vaultErr);
      });
  };
}
