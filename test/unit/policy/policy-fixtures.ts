import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { HumanFacts, PolicyRequest, ScopeFacts, TaskFacts, WorkloadFacts } from '../../../server/policy';
import { createLogger } from '../../../server/shared/logger';

export const POLICY_DIR = path.resolve(__dirname, '../../../config/policies');
export const silentLogger = createLogger({ level: 'silent' });

const TRUST_DOMAIN = 'dev.grantline.local';

export function workload(workloadPath: string, trustDomain = TRUST_DOMAIN): WorkloadFacts {
  return {
    spiffeId: `spiffe://${trustDomain}${workloadPath}`,
    trustDomain,
    path: workloadPath,
    local: trustDomain === TRUST_DOMAIN,
  };
}

/** A person signed in to the console with `roles`. */
export function human(subject: string, roles: string[], issuer = 'https://idp.example'): HumanFacts {
  return { kind: 'human', issuer, subject, roles };
}

export const orchestrator = workload('/orchestrator/planner');
export const approverWorkload = workload('/approver/alice-desk');
export const otherOrchestrator = workload('/orchestrator/other');
export const auditor = workload('/auditor/sec-team');
export const resourceServer = workload('/resource/orders-api');
export const agentA = workload('/agent/researcher');
export const subAgentB = workload('/agent/summariser');
export const stranger = workload('/agent/stranger');
export const unknownPath = workload('/misc/thing');

export function taskFacts(overrides: Partial<TaskFacts> = {}): TaskFacts {
  return {
    id: 'task-1',
    owner: orchestrator.spiffeId,
    agents: [agentA.spiffeId],
    ceiling: ['db:orders:read', 'payments:refund', 'kv:crm/api-key'],
    status: 'open',
    taskType: 'support',
    dataSensitivity: 'medium',
    riskScore: 20,
    ...overrides,
  };
}

export const ordersRead: ScopeFacts = {
  name: 'db:orders:read',
  cost: 1,
  sensitivity: 'medium',
  privileged: false,
};
export const refund: ScopeFacts = { name: 'payments:refund', cost: 5, sensitivity: 'high', privileged: true };
export const crmKey: ScopeFacts = {
  name: 'kv:crm/api-key',
  cost: 1,
  sensitivity: 'medium',
  privileged: false,
};
export const outsideCeiling: ScopeFacts = {
  name: 'db:users:write',
  cost: 2,
  sensitivity: 'medium',
  privileged: false,
};

/** A RequestGrant by agent A for `scope` in the default task. */
export function grantRequest(overrides: Partial<PolicyRequest> = {}): PolicyRequest {
  return {
    principal: agentA,
    action: 'RequestGrant',
    task: taskFacts(),
    scope: ordersRead,
    context: {},
    ...overrides,
  };
}

/** A throw-away copy of config/policies that a test may edit; remove it with `dispose`. */
export function copyPolicyDir(): { dir: string; write(name: string, text: string): void; dispose(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'grantline-policies-'));
  cpSync(POLICY_DIR, dir, { recursive: true });
  return {
    dir,
    write: (name, text) => writeFileSync(path.join(dir, name), text),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
