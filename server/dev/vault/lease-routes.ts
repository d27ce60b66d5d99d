import type { Clock } from '../../shared/clock';
import { accepted, listReply, noContent, ok, type Reply } from './envelope';
import { type LeaseManager, leaseLookupData } from './lease-manager';
import type { RequestContext, Route } from './route-types';
import type { TokenStore } from './token-store';
import { invalidRequest } from './vault-error';

export interface LeaseRouteDeps {
  leases: LeaseManager;
  tokens: TokenStore;
  clock: Clock;
}

/** The body's `lease_id` wins over the one in the path (spec §3.2). */
function leaseIdOf(ctx: RequestContext): string {
  const id = ctx.fields.string('lease_id') || ctx.params[0];
  if (!id) throw invalidRequest('lease_id must be specified');
  return id;
}

function renew(deps: LeaseRouteDeps) {
  return async (ctx: RequestContext): Promise<Reply> => {
    const id = leaseIdOf(ctx);
    if (id.startsWith('auth/')) throw invalidRequest('tokens cannot be renewed through this endpoint');
    const { ttl, warnings } = await deps.leases.renew(id, ctx.fields.duration('increment') ?? 0);
    return ok({ data: null, lease: { id, renewable: true, duration: ttl }, warnings });
  };
}

/** `sync` defaults to true in Vault's server code: 204 once done; `sync: false` → 202 (spec §3.2). */
function revoke(deps: LeaseRouteDeps) {
  return async (ctx: RequestContext): Promise<Reply> => {
    const id = leaseIdOf(ctx);
    if (ctx.fields.bool('sync') === false) {
      deps.leases.revokeQueuedById(id);
      return accepted();
    }
    await deps.leases.revoke(id);
    return noContent();
  };
}

const isRootToken = (t: { parentId: string | null; policies: string[] }): boolean =>
  t.parentId === null && t.policies.length === 1 && t.policies[0] === 'root';

/** Also revokes tokens whose creation path is under the prefix (spec §3.2), never the root token. */
function revokePrefix(deps: LeaseRouteDeps) {
  return async (ctx: RequestContext): Promise<Reply> => {
    const prefix = ctx.params[0]!;
    const tokenPrefix = prefix.replace(/\/?$/, '/');
    for (const t of deps.tokens.all()) {
      if (!isRootToken(t) && `${t.path}/`.startsWith(tokenPrefix)) deps.tokens.revoke(t.id);
    }
    const sync = ctx.fields.bool('sync') !== false;
    await deps.leases.revokePrefix(prefix, sync);
    return sync ? noContent() : accepted();
  };
}

export function createLeaseRoutes(deps: LeaseRouteDeps): Route[] {
  const lookup = (ctx: RequestContext): Reply => {
    const lease = deps.leases.lookup(leaseIdOf(ctx));
    if (!lease) throw invalidRequest('invalid lease');
    return ok({ data: leaseLookupData(lease, deps.clock.now().getTime()) });
  };
  const list = (ctx: RequestContext): Reply => listReply(deps.leases.list(ctx.params[0] ?? ''));
  return [
    {
      pattern: /^sys\/leases\/lookup(?:\/(.*))?$/,
      fields: ['lease_id'],
      sudo: ['list'],
      handlers: { update: lookup, list },
    },
    {
      pattern: /^sys\/leases\/renew(?:\/(.+))?$/,
      fields: ['lease_id', 'increment'],
      handlers: { update: renew(deps) },
    },
    {
      pattern: /^sys\/leases\/revoke(?:\/(.+))?$/,
      fields: ['lease_id', 'sync'],
      handlers: { update: revoke(deps) },
    },
    {
      pattern: /^sys\/leases\/revoke-prefix\/(.+)$/,
      fields: ['sync'],
      sudo: true,
      handlers: { update: revokePrefix(deps) },
    },
    {
      pattern: /^sys\/leases\/revoke-force\/(.+)$/,
      fields: [],
      sudo: true,
      handlers: {
        update: async (ctx) => {
          await deps.leases.revokeForce(ctx.params[0]!);
          return noContent();
        },
      },
    },
  ];
}
