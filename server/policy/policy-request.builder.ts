import type { CedarValueJson, Context, EntityJson, EntityUidJson } from '@cedar-policy/cedar-wasm/nodejs';
import { PolicyInputError } from './policy.errors';
import type {
  DecisionContext,
  PolicyAction,
  PolicyPrincipal,
  PolicyRequest,
  ScopeFacts,
  TaskFacts,
} from './policy.types';

/** One Cedar request: the entities it mentions travel with it (Grantline keeps no entity store). */
export interface CedarRequest {
  principal: EntityUidJson;
  action: EntityUidJson;
  resource: EntityUidJson;
  context: Context;
  entities: EntityJson[];
}

type ResourceKind = 'service' | 'task' | 'task-or-service' | 'scope';

/** The resource each action is about; mirrors `appliesTo` in config/policies/grantline.cedarschema. */
const RESOURCE_OF: Record<PolicyAction, ResourceKind> = {
  OpenTask: 'service',
  Introspect: 'service',
  ReadAudit: 'service',
  ReadRevocations: 'service',
  ReadTask: 'task-or-service',
  ReadLineage: 'task-or-service',
  CloseTask: 'task',
  ApproveTask: 'task',
  ReadApprovals: 'task-or-service',
  RevokeGrant: 'task',
  RequestApproval: 'scope',
  ReportUsage: 'task',
  RequestGrant: 'scope',
  DelegateGrant: 'scope',
  RedeemGrant: 'scope',
};

const SERVICE: EntityUidJson = { type: 'Service', id: 'grantline' };

/** Maps Grantline's facts onto the schema's entities and context; throws PolicyInputError on bad facts. */
export function buildCedarRequest(req: PolicyRequest): CedarRequest {
  const kind = RESOURCE_OF[req.action] as ResourceKind | undefined;
  if (kind === undefined) throw new PolicyInputError(`unknown policy action ${String(req.action)}`);
  const principal = principalEntity(req.principal);
  const action = { type: 'Action', id: req.action };
  const context = contextRecord(req.context ?? {});
  const base = { principal: principal.uid, action, context };
  if (kind === 'service' || (kind === 'task-or-service' && req.task === undefined)) {
    return { ...base, resource: SERVICE, entities: [principal] };
  }
  const task = taskEntity(requireFact(req.task, 'task', req.action));
  if (kind !== 'scope') return { ...base, resource: task.uid, entities: [principal, task] };
  const scope = scopeEntity(requireFact(req.scope, 'scope', req.action));
  context.task = { __entity: { type: 'Task', id: task.uid.id } };
  return { ...base, resource: scope.uid, entities: [principal, task, scope] };
}

function requireFact<T>(fact: T | undefined, name: string, action: PolicyAction): T {
  if (fact === undefined) throw new PolicyInputError(`${action} needs the ${name} facts`);
  return fact;
}

type Entity = EntityJson & { uid: { type: string; id: string } };

function principalEntity(p: PolicyPrincipal): Entity {
  if (p.kind === 'human') {
    return {
      uid: { type: 'Human', id: `${p.issuer}#${p.subject}` },
      attrs: { issuer: p.issuer, subject: p.subject, roles: [...p.roles] },
      parents: [],
    };
  }
  return {
    uid: { type: 'Workload', id: p.spiffeId },
    attrs: { spiffe_id: p.spiffeId, trust_domain: p.trustDomain, path: p.path, local: p.local },
    parents: [],
  };
}

function taskEntity(t: TaskFacts): Entity {
  const attrs: Record<string, CedarValueJson> = {
    owner: t.owner,
    agents: [...t.agents],
    audiences: [...(t.audiences ?? [])],
    ceiling: [...t.ceiling],
    status: t.status,
    task_type: t.taskType,
    data_sensitivity: t.dataSensitivity,
    risk_score: integer(t.riskScore, 'task riskScore'),
  };
  return { uid: { type: 'Task', id: t.id }, attrs, parents: [] };
}

function scopeEntity(s: ScopeFacts): Entity {
  const attrs: Record<string, CedarValueJson> = {
    name: s.name,
    cost: integer(s.cost, 'scope cost'),
    sensitivity: s.sensitivity,
    privileged: s.privileged,
    audiences: [...(s.audiences ?? [])],
  };
  return { uid: { type: 'Scope', id: s.name }, attrs, parents: [] };
}

function contextRecord(c: DecisionContext): Record<string, CedarValueJson> {
  const approval = c.approval ?? { live: false };
  const delegation = c.delegation ?? { depth: 0, chain: [] };
  const out: Record<string, CedarValueJson> = {
    approval: withOptional({ live: approval.live }, { approver: approval.approver, id: approval.id }),
    delegation: withOptional(
      { depth: integer(delegation.depth, 'delegation depth'), chain: [...delegation.chain] },
      { parent_holder: delegation.parentHolder },
    ),
  };
  const ttl = c.requestedTtl === undefined ? undefined : integer(c.requestedTtl, 'requestedTtl');
  return withOptional(out, {
    tool: c.tool,
    target: c.target,
    intent: c.intent,
    requested_ttl: ttl,
    audience: c.audience,
    holder: c.holder,
  });
}

/** Cedar records are closed: an absent optional attribute must be left out, not set to null. */
function withOptional(
  record: Record<string, CedarValueJson>,
  optional: Record<string, string | number | undefined>,
): Record<string, CedarValueJson> {
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) record[key] = value;
  }
  return record;
}

function integer(value: number, name: string): number {
  if (!Number.isSafeInteger(value)) throw new PolicyInputError(`${name} must be an integer, got ${value}`);
  return value;
}
