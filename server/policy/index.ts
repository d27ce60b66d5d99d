export { loadPolicyEngine } from './policy.engine';
export { PolicyLoadError } from './policy.errors';
export type {
  Decision,
  DecisionContext,
  HumanFacts,
  PolicyAction,
  PolicyEngine,
  PolicyPrincipal,
  PolicyRequest,
  ScopeFacts,
  TaskFacts,
  WorkloadFacts,
} from './policy.types';
export { POLICY_ACTIONS } from './policy.types';
