import type { Clock } from '../../shared/clock';
import { noContent, ok, type Reply } from './envelope';
import type { PolicyStore } from './policy-store';
import { callerOf, type RequestContext, type Route } from './route-types';
import { createTokenHandler, TOKEN_CREATE_FIELDS } from './token-create-handler';
import type { TokenEntry, TokenStore } from './token-store';
import { tokenAuth, tokenLookupData } from './token-views';
import { invalidRequest, multiError, VaultApiError } from './vault-error';

export interface TokenRouteDeps {
  tokens: TokenStore;
  policies: PolicyStore;
  clock: Clock;
}

const required = (ctx: RequestContext, name: 'token' | 'accessor'): string => {
  const v = ctx.fields.string(name);
  if (!v) throw invalidRequest(multiError(`missing ${name}`));
  return v;
};

function lookupHandlers(deps: TokenRouteDeps) {
  const now = (): number => deps.clock.now().getTime();
  const show = (entry: TokenEntry, showId: boolean): Reply =>
    ok({ data: tokenLookupData(entry, now(), showId) });
  return {
    /** Falls back to the calling token when none is given; unknown → 403 `bad token` (spec §2.2). */
    lookup: (ctx: RequestContext): Reply => {
      const id = ctx.fields.string('token') || callerOf(ctx).id;
      const entry = deps.tokens.lookup(id);
      if (!entry) throw new VaultApiError(403, 'bad token');
      return show(entry, true);
    },
    lookupSelf: (ctx: RequestContext): Reply => show(callerOf(ctx), true),
    lookupAccessor: (ctx: RequestContext): Reply => {
      const entry = deps.tokens.lookupAccessor(required(ctx, 'accessor'));
      if (!entry) throw invalidRequest(multiError('invalid accessor'));
      return show(entry, false);
    },
  };
}

function renewHandlers(deps: TokenRouteDeps) {
  const renew = (
    ctx: RequestContext,
    entry: TokenEntry | undefined,
    clientToken: (e: TokenEntry) => string,
  ) => {
    if (!entry) throw invalidRequest('token not found');
    const { ttl, warnings } = deps.tokens.renew(entry, ctx.fields.duration('increment') ?? 0);
    return ok({ data: null, auth: tokenAuth(entry, clientToken(entry), ttl), warnings });
  };
  return {
    renew: (ctx: RequestContext) => renew(ctx, deps.tokens.lookup(required(ctx, 'token')), (e) => e.id),
    renewSelf: (ctx: RequestContext) => renew(ctx, callerOf(ctx), (e) => e.id),
    renewAccessor: (ctx: RequestContext) =>
      renew(ctx, deps.tokens.lookupAccessor(required(ctx, 'accessor')), () => ''),
  };
}

/** All revocations answer 204 and are idempotent, except the cases spec §2.4 lists. */
function revokeHandlers(deps: TokenRouteDeps) {
  return {
    revoke: (ctx: RequestContext): Reply => {
      deps.tokens.revoke(required(ctx, 'token'));
      return noContent();
    },
    revokeSelf: (ctx: RequestContext): Reply => {
      deps.tokens.revoke(callerOf(ctx).id);
      return noContent();
    },
    revokeAccessor: (ctx: RequestContext): Reply => {
      const entry = deps.tokens.lookupAccessor(required(ctx, 'accessor'));
      if (!entry) return ok({ data: null, warnings: ['No token found with this accessor'] });
      deps.tokens.revoke(entry.id);
      return noContent();
    },
    revokeOrphan: (ctx: RequestContext): Reply => {
      const entry = deps.tokens.lookup(required(ctx, 'token'));
      if (!entry) throw invalidRequest('token to revoke not found');
      deps.tokens.revokeOrphan(entry.id);
      return noContent();
    },
  };
}

export function createTokenRoutes(deps: TokenRouteDeps): Route[] {
  const l = lookupHandlers(deps);
  const r = renewHandlers(deps);
  const v = revokeHandlers(deps);
  const route = (p: string, handlers: Route['handlers'], fields: readonly string[], sudo?: true): Route => ({
    pattern: new RegExp(`^auth/token/${p}$`),
    handlers,
    fields,
    ...(sudo ? { sudo } : {}),
  });
  return [
    route('create', { update: createTokenHandler(deps, false) }, TOKEN_CREATE_FIELDS),
    route('create-orphan', { update: createTokenHandler(deps, true) }, TOKEN_CREATE_FIELDS),
    route(
      'create/([^/]+)',
      { update: (ctx) => Promise.reject(invalidRequest(`unknown role: ${ctx.params[0]}`)) },
      [],
    ),
    route('lookup', { read: l.lookup, update: l.lookup }, ['token']),
    route('lookup-self', { read: l.lookupSelf }, ['token']),
    route('lookup-accessor', { update: l.lookupAccessor }, ['accessor']),
    route('renew', { update: r.renew }, ['token', 'increment']),
    route('renew-self', { update: r.renewSelf }, ['token', 'increment']),
    route('renew-accessor', { update: r.renewAccessor }, ['accessor', 'increment']),
    route('revoke', { update: v.revoke }, ['token']),
    route('revoke-self', { update: v.revokeSelf }, []),
    route('revoke-accessor', { update: v.revokeAccessor }, ['accessor']),
    route('revoke-orphan', { update: v.revokeOrphan }, ['token'], true),
    route(
      'accessors',
      { list: () => ok({ data: { keys: deps.tokens.all().map((t) => t.accessor) } }) },
      [],
      true,
    ),
  ];
}
