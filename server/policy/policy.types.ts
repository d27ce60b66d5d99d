export type PolicyAction =
  | 'OpenTask'
  | 'ReadTask'
  | 'CloseTask'
  | 'ApproveTask'
  | 'ReadApprovals'
  | 'RequestApproval'
  | 'RequestGrant'
  | 'DelegateGrant'
  | 'RedeemGrant'
  | 'RevokeGrant'
  | 'Introspect'
  | 'ReadAudit'
  | 'ReadLineage'
  | 'ReadRevocations'
  | 'ReportUsage';

export const POLICY_ACTIONS: readonly PolicyAction[] = [
  'OpenTask',
  'ReadTask',
  'CloseTask',
  'ApproveTask',
  'ReadApprovals',
  'RequestApproval',
  'RequestGrant',
  'DelegateGrant',
  'RedeemGrant',
  'RevokeGrant',
  'Introspect',
  'ReadAudit',
  'ReadLineage',
  'ReadRevocations',
  'ReportUsage',
];

/** Who asks: a workload or a person. */
export type PolicyPrincipal = WorkloadFacts | HumanFacts;

/** The authenticated workload. Its SPIFFE ID is the Cedar entity id (`Workload::"spiffe://…"`). */
export interface WorkloadFacts {
  kind?: 'workload';
  spiffeId: string;
  trustDomain: string;
  /** The SPIFFE ID's path, e.g. `/orchestrator/planner`. */
  path: string;
  /** In the broker's own trust domain (path-based roles are for local workloads only). */
  local: boolean;
}

/**
 * A person signed in to the console: the Cedar entity `Human::"<issuer>#<subject>"` (an OIDC issuer has
 * no fragment, OIDC Discovery §3, so the id is unambiguous). `roles` come from configuration.
 */
export interface HumanFacts {
  kind: 'human';
  issuer: string;
  subject: string;
  roles: string[];
}

export interface TaskFacts {
  id: string;
  owner: string;
  agents: string[];
  /** The audiences the task's tokens may carry (none for a task that declared none). */
  audiences?: string[];
  ceiling: string[];
  status: string;
  taskType: string;
  dataSensitivity: 'low' | 'medium' | 'high';
  /** Integer 0–100. */
  riskScore: number;
}

export interface ScopeFacts {
  name: string;
  /** Integer. */
  cost: number;
  sensitivity: 'low' | 'medium' | 'high';
  privileged: boolean;
  /** Where the scope's tokens are used, from the catalogue. */
  audiences?: string[];
}

/**
 * Per-request facts. "The grant in question" is the grant the action creates (RequestGrant,
 * DelegateGrant: the child to be created, RedeemGrant) or acts on (RevokeGrant).
 */
export interface DecisionContext {
  tool?: string;
  target?: string;
  intent?: string;
  /** Integer seconds. */
  requestedTtl?: number;
  /** The `aud` the grant in question will carry (grant actions only). */
  audience?: string;
  /** Defaults to `{ live: false }`. */
  approval?: { live: boolean; approver?: string; id?: string };
  /**
   * Defaults to `{ depth: 0, chain: [] }`. `depth`: of the grant in question (0 = requested directly on
   * the task). `chain`: holders from the task's root grant down to the grant in question's parent
   * (and, for RevokeGrant, the grant itself). `parentHolder`: holder of the grant in question's parent.
   */
  delegation?: { depth: number; chain: string[]; parentHolder?: string };
  /** Holder of the grant in question (RevokeGrant). */
  holder?: string;
}

/**
 * What each action needs: `task` for ReadTask/ReadLineage about one task, CloseTask, ApproveTask,
 * RevokeGrant, and the grant actions; `scope` for RequestGrant, DelegateGrant, RedeemGrant (one
 * decision per scope). A missing fact is a denial with an error, never an allow.
 */
export interface PolicyRequest {
  principal: PolicyPrincipal;
  action: PolicyAction;
  task?: TaskFacts;
  scope?: ScopeFacts;
  context?: DecisionContext;
}

export interface Decision {
  allowed: boolean;
  /** Ids (`@id` annotations) of the policies that decided: the permits on allow, the forbids on deny. */
  policyIds: string[];
  errors: string[];
  policyVersion: string;
  /** What enforced + shadow policies together would have decided; null when there are no shadow policies. */
  shadow: { allowed: boolean; policyIds: string[] } | null;
  /** Human sentences for 403 bodies and audit events. */
  reasons: string[];
}

export interface PolicyEngine {
  readonly version: string;
  authorize(req: PolicyRequest): Decision;
}
