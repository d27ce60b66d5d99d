import type { Access } from '../../access/access';
import type { AuditKeys, AuditSequencer } from '../../audit';
import type { Db } from '../../db/database';
import type { GrantService } from '../../grants/grant.service';
import type { IntrospectionService } from '../../grants/introspection.service';
import type { LineageService } from '../../grants/lineage.service';
import type { RevocationHub } from '../../revocation/feed-hub';
import type { ApprovalRequestService, TaskService } from '../../tasks';
import type { TokenIssuer } from '../../tokens/access-token';
import { approvalRequestHandlers } from './approval-requests.routes';
import { auditHandlers } from './audit.routes';
import { auditProofRoutes } from './audit-proof.routes';
import { grantHandlers } from './grants.routes';
import { lineageHandlers } from './lineage.routes';
import { oauthHandlers } from './oauth.routes';
import { revocationHandlers } from './revocations.routes';
import type { Handler } from './route-helpers';
import { taskHandlers } from './tasks.routes';
import { wellKnownHandlers } from './wellknown.routes';

export interface Route {
  method: 'get' | 'post';
  path: string;
  /** Public routes need no SVID; every other one passes `authenticate` first. */
  public?: boolean;
  /** The answer carries a credential: `Cache-Control: no-store` (RFC 6749 §5.1). */
  credential?: boolean;
  /** RFC 9207: answers (errors too) name this issuer in `iss`: the routes that issue grants. */
  issuer?: string;
  handler: Handler;
}

export interface RouteServices {
  db: Db;
  access: Access;
  tasks: TaskService;
  grants: GrantService;
  approvalRequests: ApprovalRequestService;
  introspection: IntrospectionService;
  lineage: LineageService;
  hub: RevocationHub;
  tokens: TokenIssuer;
  scopes: string[];
  auditSequencer: AuditSequencer;
  auditKeys: AuditKeys;
}

/** Every route of the API in one table (the same table as DESIGN.md's "HTTP API"). */
export function routeTable(s: RouteServices): Route[] {
  const tasks = taskHandlers(s.tasks);
  const grants = grantHandlers(s.grants);
  const lineage = lineageHandlers(s.lineage);
  const oauth = oauthHandlers(s);
  const feed = revocationHandlers(s);
  const audit = auditHandlers(s);
  const wellKnown = wellKnownHandlers(s);
  const approvals = approvalRequestHandlers(s.approvalRequests);
  // RFC 8414 §3.1: for an issuer with a path, the metadata is at the path-inserted well-known URL.
  const issuerPath = new URL(s.tokens.issuer).pathname.replace(/\/$/, '');
  // Characters path-to-regexp would read as syntax are escaped: the issuer's path is matched as it is.
  const metadataPaths = ['', ...(issuerPath ? [issuerPath.replace(/[{}()[\]+?!:*\\]/g, '\\$&')] : [])];
  return [
    { method: 'get', path: '/.well-known/jwks.json', public: true, handler: wellKnown.jwks },
    ...metadataPaths.map(
      (p): Route => ({
        method: 'get',
        path: `/.well-known/oauth-authorization-server${p}`,
        public: true,
        handler: wellKnown.metadata,
      }),
    ),
    { method: 'post', path: '/v1/tasks', handler: tasks.open },
    { method: 'get', path: '/v1/tasks', handler: tasks.list },
    { method: 'get', path: '/v1/tasks/:id', handler: tasks.get },
    { method: 'post', path: '/v1/tasks/:id/approvals', handler: tasks.approve },
    { method: 'post', path: '/v1/tasks/:id/close', handler: tasks.close },
    { method: 'get', path: '/v1/tasks/:id/receipt', handler: tasks.receipt },
    { method: 'get', path: '/v1/tasks/:id/lineage', handler: lineage.ofTask },
    {
      method: 'post',
      path: '/v1/tasks/:id/grants',
      credential: true,
      issuer: s.tokens.issuer,
      handler: grants.request,
    },
    { method: 'post', path: '/v1/grants/:id/delegations', credential: true, handler: grants.offer },
    { method: 'post', path: '/v1/grants/:id/revoke', handler: grants.revoke },
    { method: 'post', path: '/v1/grants/:id/usage', handler: grants.usage },
    { method: 'get', path: '/v1/grants/:id/lineage', handler: lineage.ofGrant },
    { method: 'get', path: '/v1/approval-requests', handler: approvals.list },
    { method: 'get', path: '/v1/approval-requests/:id', handler: approvals.get },
    { method: 'post', path: '/v1/approval-requests/:id/decision', handler: approvals.decide },
    {
      method: 'post',
      path: '/oauth2/token',
      credential: true,
      issuer: s.tokens.issuer,
      handler: oauth.token,
    },
    { method: 'post', path: '/oauth2/introspect', credential: true, handler: oauth.introspect },
    { method: 'post', path: '/oauth2/revoke', credential: true, handler: oauth.revoke },
    { method: 'get', path: '/v1/revocations', handler: feed.feed },
    { method: 'get', path: '/v1/audit/events', handler: audit.events },
    { method: 'get', path: '/v1/audit/verify', handler: audit.verify },
    ...auditProofRoutes(s),
  ];
}
