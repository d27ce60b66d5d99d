import type { Operation } from './acl';
import type { Reply } from './envelope';
import type { Fields } from './request-fields';
import type { TokenEntry } from './token-store';
import { permissionDenied } from './vault-error';

export interface RequestContext {
  /** Request path after `/v1/`, without a trailing slash. */
  path: string;
  /** The route pattern's capture groups. */
  params: string[];
  op: Operation;
  fields: Fields;
  query: URLSearchParams;
  /** The authenticated caller; undefined only on unauthenticated routes. */
  caller: TokenEntry | undefined;
  /** Root policy, or `sudo` on this path: what Vault calls "root or sudo privileges". */
  privileged: boolean;
  headOnly: boolean;
}

export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;

export interface Route {
  pattern: RegExp;
  /** `create` falls back to `update` and the other way round (PUT ≡ POST, spec §1). */
  handlers: Partial<Record<Operation, Handler>>;
  /** Known body/query parameters; anything else earns the ignored-parameters warning. */
  fields?: readonly string[];
  /** Root-protected operations (all when `true`): the ACL must also grant `sudo` on the path. */
  sudo?: true | readonly Operation[];
  unauthenticated?: boolean;
  /** Answers while sealed and to HEAD (sys/health only). */
  health?: boolean;
  /** Vault's existence check: a write is `create` when this says false, else `update`. */
  exists?: (params: string[]) => boolean;
}

export function callerOf(ctx: RequestContext): TokenEntry {
  if (!ctx.caller) throw permissionDenied();
  return ctx.caller;
}

export function findRoute(
  routes: readonly Route[],
  path: string,
): { route: Route; params: string[] } | undefined {
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (m) return { route, params: m.slice(1).map((p) => p ?? '') };
  }
  return undefined;
}

export const needsSudo = (route: Route, op: Operation): boolean =>
  route.sudo === true || (Array.isArray(route.sudo) && route.sudo.includes(op));

export function handlerFor(route: Route, op: Operation): Handler | undefined {
  if (op === 'create') return route.handlers.create ?? route.handlers.update;
  if (op === 'update') return route.handlers.update ?? route.handlers.create;
  return route.handlers[op];
}
