import type { z } from 'zod';
import { offerDelegationSchema, tokenExchangeSchema } from '../../../server/grants/delegation.schema';
import { requestGrantSchema, revokeGrantSchema } from '../../../server/grants/grant.schema';
import { usageReportSchema } from '../../../server/grants/usage.schema';
import { type Route, type RouteServices, routeTable } from '../../../server/http/routes';
import { onDemandCheckpointBody } from '../../../server/http/routes/audit-proof.routes';
import { tokenParam } from '../../../server/http/routes/oauth.routes';
import { workloadDecisionSchema } from '../../../server/tasks/approval-request.schema';
import { approvalSchema, closeTaskSchema, openTaskSchema } from '../../../server/tasks/task.schema';
import { AGENT_A, AGENT_B, APPROVER, AUDITOR, ORCHESTRATOR, RESOURCE } from '../../helpers/broker';

/** What the fault suite set up on the broker: ids and tokens the templates point at. */
export interface Fixture {
  taskId: string;
  grantId: string;
  /** A delegation token bound to AGENT_B (so only AGENT_B could ever redeem it). */
  delegationToken: string;
  /** A live access token of AGENT_A. */
  accessToken: string;
  /** A pending approval request of AGENT_A (a privileged scope, asked with `"approval": "request"`). */
  approvalRequestId: string;
}

/** A valid request to one body-taking route; the generators break it field by field. */
export interface BodyTemplate {
  as: string;
  path(f: Fixture): string;
  body(f: Fixture): Record<string, unknown>;
  /** The route's own input schema: a generated body counts as bad input only if this refuses it. */
  schema: z.ZodType;
  /** OAuth endpoints also take application/x-www-form-urlencoded (RFC 6749 §3.2). */
  form?: boolean;
}

/** A GET route whose query is validated strictly (an unknown parameter is bad input) and knows `limit`. */
export interface QueryTemplate {
  as: string;
  path(f: Fixture): string;
}

const key = (r: Pick<Route, 'method' | 'path'>) => `${r.method.toUpperCase()} ${r.path}`;

export const BODY_TEMPLATES: Record<string, BodyTemplate> = {
  'POST /v1/tasks': {
    as: ORCHESTRATOR,
    path: () => '/v1/tasks',
    body: () => ({
      purpose: 'fault suite',
      agents: [AGENT_A],
      delegates: [AGENT_B],
      scopes: ['kv:demo/api-key'],
      audiences: ['orders-api'],
      ttl: '10m',
      limits: { max_grants: 5, max_active: 5, max_depth: 2, max_fanout: 2, budget: 10 },
      context: { task_type: 'fault', data_sensitivity: 'low', risk_score: 1 },
    }),
    schema: openTaskSchema,
  },
  'POST /v1/tasks/:id/approvals': {
    as: ORCHESTRATOR,
    path: (f) => `/v1/tasks/${f.taskId}/approvals`,
    body: () => ({
      scope: 'tool:demo:deploy',
      approver: 'alice@example.com',
      ttl: '5m',
      note: 'n',
      single_use: true,
      args_digest: `sha256:${'a'.repeat(64)}`,
    }),
    schema: approvalSchema,
  },
  'POST /v1/tasks/:id/close': {
    as: ORCHESTRATOR,
    path: (f) => `/v1/tasks/${f.taskId}/close`,
    body: () => ({ reason: 'done' }),
    schema: closeTaskSchema,
  },
  'POST /v1/tasks/:id/grants': {
    as: AGENT_A,
    path: (f) => `/v1/tasks/${f.taskId}/grants`,
    body: () => ({
      scopes: ['kv:demo/api-key'],
      audience: 'orders-api',
      ttl: '1m',
      context: { tool: 't', target: 'x', intent: 'i', args_digest: `sha256:${'b'.repeat(64)}` },
    }),
    schema: requestGrantSchema,
  },
  'POST /v1/grants/:id/delegations': {
    as: AGENT_A,
    path: (f) => `/v1/grants/${f.grantId}/delegations`,
    body: () => ({ to: AGENT_B, scopes: ['kv:demo/api-key'], ttl: 30, budget: 1, may_redelegate: false }),
    schema: offerDelegationSchema,
  },
  'POST /v1/grants/:id/revoke': {
    as: AGENT_A,
    path: (f) => `/v1/grants/${f.grantId}/revoke`,
    body: () => ({ reason: 'r' }),
    schema: revokeGrantSchema,
  },
  'POST /v1/grants/:id/usage': {
    as: RESOURCE,
    path: (f) => `/v1/grants/${f.grantId}/usage`,
    body: () => ({
      report_id: '6f1c2a9e-8d3b-4c5a-9e7f-0a1b2c3d4e5f',
      calls: [{ cost: 1, at: new Date().toISOString(), tool: 't' }],
    }),
    schema: usageReportSchema,
  },
  'POST /oauth2/token': {
    as: AGENT_B,
    path: () => '/oauth2/token',
    body: (f) => ({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: f.delegationToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      actor_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      scope: 'kv:demo/api-key',
      audience: 'orders-api',
    }),
    schema: tokenExchangeSchema,
    form: true,
  },
  'POST /oauth2/introspect': {
    as: RESOURCE,
    path: () => '/oauth2/introspect',
    body: (f) => ({ token: f.accessToken, token_type_hint: 'access_token' }),
    schema: tokenParam,
    form: true,
  },
  'POST /oauth2/revoke': {
    as: AGENT_A,
    path: () => '/oauth2/revoke',
    body: (f) => ({ token: f.accessToken, token_type_hint: 'access_token' }),
    schema: tokenParam,
    form: true,
  },
  'POST /v1/approval-requests/:id/decision': {
    as: APPROVER,
    path: (f) => `/v1/approval-requests/${f.approvalRequestId}/decision`,
    body: () => ({ decision: 'deny', reason: 'not this deployment', ttl: 600, single_use: true }),
    schema: workloadDecisionSchema,
  },
  'POST /v1/audit/checkpoints': {
    as: AUDITOR,
    path: () => '/v1/audit/checkpoints',
    body: () => ({}),
    schema: onDemandCheckpointBody,
  },
};

export const QUERY_TEMPLATES: Record<string, QueryTemplate> = {
  'GET /v1/tasks': { as: ORCHESTRATOR, path: () => '/v1/tasks' },
  'GET /v1/audit/events': { as: AUDITOR, path: () => '/v1/audit/events' },
  'GET /v1/audit/checkpoints': { as: AUDITOR, path: () => '/v1/audit/checkpoints' },
  'GET /v1/revocations': { as: RESOURCE, path: () => '/v1/revocations' },
};

/** Who may call each GET route with a parameter in its path (so a bad value meets the route, not the policy). */
export const PARAM_ROUTE_CALLERS: Record<string, string> = {
  'GET /v1/tasks/:id': ORCHESTRATOR,
  'GET /v1/tasks/:id/receipt': ORCHESTRATOR,
  'GET /v1/tasks/:id/lineage': AUDITOR,
  'GET /v1/grants/:id/lineage': AUDITOR,
  'GET /v1/audit/events/:leaf_index': AUDITOR,
  'GET /v1/audit/events/:leaf_index/proof': AUDITOR,
  'GET /v1/approval-requests/:id': APPROVER,
};

/** Routes whose path parameter is a number (a leaf index): a small number names something there. */
export const NUMERIC_PARAM_ROUTES = new Set([
  'GET /v1/audit/events/:leaf_index',
  'GET /v1/audit/events/:leaf_index/proof',
]);

/** A generated id that names nothing on `route`: on a numeric route, digits are pushed beyond any log. */
export const idNamingNothing = (route: string, id: string): string =>
  NUMERIC_PARAM_ROUTES.has(route) && /^\d+$/.test(id) ? `${id}900000000000` : id;

/** The route table as the broker builds it (handlers are never called here). */
export function apiRoutes(): Route[] {
  // Only the issuer is read while the table is built (for the path-inserted metadata route).
  return routeTable({ tokens: { issuer: 'http://127.0.0.1:8080' } } as unknown as RouteServices);
}

/**
 * Every authenticated route of `server/http/routes/index.ts` that takes input must have a template here,
 * so a route added later is fuzzed too: a POST needs a body template, a GET with a path parameter a
 * caller (GETs without either have nothing to break but the credential, which every route shares).
 * Returns the routes without one (the suite fails on any).
 */
export function routesWithoutTemplate(): string[] {
  return apiRoutes()
    .filter((r) => !r.public)
    .map(key)
    .filter((k) => (k.startsWith('POST ') ? !BODY_TEMPLATES[k] : k.includes(':') && !PARAM_ROUTE_CALLERS[k]));
}

/** GET routes with a path parameter, to fuzz with values that name nothing. */
export const paramRoutes = (): string[] =>
  apiRoutes()
    .filter((r) => !r.public && r.method === 'get' && r.path.includes(':'))
    .map(key);
