export { loadPolicyEngine } from './policy.engine';
export { PolicyLoadError } from './policy.errors';
export type {
  Decision,
  DecisionContext,
  PolicyAction,
  PolicyEngine,
  PolicyPrincipal,
  PolicyRequest,
  ScopeFacts,
  TaskFacts,
} from './policy.types';
export { POLICY_ACTIONS } from './policy.types';
