import type { EntityUidJson, PolicyJson } from '@cedar-policy/cedar-wasm/nodejs';
import { POLICY_ACTIONS, type PolicyAction } from './policy.types';

/** The actions a policy's scope can match, or 'all'. */
export type ActionScope = ReadonlySet<string> | 'all';

export interface SlicedPolicy {
  id: string;
  actions: ActionScope;
}

/**
 * Reads the action part of a policy's scope. A policy whose scope excludes an action is never
 * satisfied and never evaluated for it, so leaving it out of that action's set changes no decision;
 * it only spares Cedar the work. With action groups in the schema, `action in` could match members,
 * so such a policy is kept for every action.
 */
export function actionScopeOf(policy: PolicyJson, schemaHasActionGroups: boolean): ActionScope {
  const constraint = policy.action;
  if (constraint.op === 'All') return 'all';
  if (constraint.op === '==') return 'entity' in constraint ? new Set([uidId(constraint.entity)]) : 'all';
  if (schemaHasActionGroups) return 'all';
  return new Set(('entities' in constraint ? constraint.entities : [constraint.entity]).map(uidId));
}

export function appliesTo(policy: SlicedPolicy, action: PolicyAction): boolean {
  return policy.actions === 'all' || policy.actions.has(action);
}

/** For each action, the policies that can apply to it. */
export function sliceByAction<T extends SlicedPolicy>(policies: T[]): Record<PolicyAction, T[]> {
  const slices = {} as Record<PolicyAction, T[]>;
  for (const action of POLICY_ACTIONS) slices[action] = policies.filter((p) => appliesTo(p, action));
  return slices;
}

function uidId(uid: EntityUidJson): string {
  return '__entity' in uid ? uid.__entity.id : uid.id;
}
