import { loadPolicyEngine, type PolicyEngine, type PolicyRequest } from '../../../server/policy';
import {
  agentA,
  approverWorkload,
  auditor,
  crmKey,
  grantRequest,
  human,
  orchestrator,
  ordersRead,
  otherOrchestrator,
  outsideCeiling,
  POLICY_DIR,
  refund,
  resourceServer,
  silentLogger,
  stranger,
  subAgentB,
  taskFacts,
  workload,
} from './policy-fixtures';

type Case = [name: string, request: PolicyRequest, allowed: boolean, policyIds: string[]];

const ownTask = taskFacts();
const othersTask = taskFacts({ owner: otherOrchestrator.spiffeId });
const liveApproval = { live: true, approver: 'alice@example.com', id: 'appr-1' };
const highScope = { ...crmKey, sensitivity: 'high' as const };

let engine: PolicyEngine;
beforeAll(() => {
  engine = loadPolicyEngine({ dir: POLICY_DIR, logger: silentLogger });
});

function runCases(cases: Case[]): void {
  const rows = cases.map(([name, request, allowed, ids]) => ({
    name,
    request,
    allowed,
    ids,
    verdict: allowed ? 'allowed' : 'denied',
  }));
  test.each(rows)('when $name, then it is $verdict by $ids', ({ request, allowed, ids }) => {
    const decision = engine.authorize(request);
    expect(decision.errors).toEqual([]);
    expect({ allowed: decision.allowed, policyIds: decision.policyIds }).toEqual({ allowed, policyIds: ids });
  });
}

describe('orchestrator policies', () => {
  const cases: Case[] = [
    [
      'an orchestrator opens a task',
      { principal: orchestrator, action: 'OpenTask' },
      true,
      ['orchestrator-open-task'],
    ],
    ['an agent opens a task', { principal: agentA, action: 'OpenTask' }, false, []],
    [
      'a look-alike path /orchestrator-x/ opens a task',
      { principal: workload('/orchestrator-x/evil'), action: 'OpenTask' },
      false,
      [],
    ],
    [
      'an orchestrator closes its own task',
      { principal: orchestrator, action: 'CloseTask', task: ownTask },
      true,
      ['orchestrator-manage-own-task'],
    ],
    [
      "an orchestrator closes another's task",
      { principal: orchestrator, action: 'CloseTask', task: othersTask },
      false,
      [],
    ],
    [
      'an orchestrator approves in its own task',
      { principal: orchestrator, action: 'ApproveTask', task: ownTask },
      false,
      ['no-self-approval'],
    ],
    [
      "an orchestrator approves in another's task",
      { principal: orchestrator, action: 'ApproveTask', task: othersTask },
      false,
      [],
    ],
    [
      'an orchestrator reads its own task',
      { principal: orchestrator, action: 'ReadTask', task: ownTask },
      true,
      ['orchestrator-manage-own-task'],
    ],
    [
      "an orchestrator reads another's task",
      { principal: orchestrator, action: 'ReadTask', task: othersTask },
      false,
      [],
    ],
    [
      'an orchestrator lists tasks',
      { principal: orchestrator, action: 'ReadTask' },
      true,
      ['orchestrator-list-tasks'],
    ],
    [
      'a non-orchestrator recorded as owner closes the task',
      { principal: agentA, action: 'CloseTask', task: taskFacts({ owner: agentA.spiffeId }) },
      false,
      [],
    ],
  ];
  runCases(cases);
});

describe('auditor and resource-server policies', () => {
  const cases: Case[] = [
    [
      "an auditor reads another's task",
      { principal: auditor, action: 'ReadTask', task: othersTask },
      true,
      ['auditor-read'],
    ],
    ['an auditor lists tasks', { principal: auditor, action: 'ReadTask' }, true, ['auditor-read']],
    ['an auditor reads the audit log', { principal: auditor, action: 'ReadAudit' }, true, ['auditor-read']],
    [
      'an auditor reads a lineage',
      { principal: auditor, action: 'ReadLineage', task: ownTask },
      true,
      ['auditor-read'],
    ],
    ['an auditor closes a task', { principal: auditor, action: 'CloseTask', task: ownTask }, false, []],
    ['an auditor introspects', { principal: auditor, action: 'Introspect' }, false, []],
    ['an agent reads the audit log', { principal: agentA, action: 'ReadAudit' }, false, []],
    [
      'an orchestrator reads a lineage',
      { principal: orchestrator, action: 'ReadLineage', task: ownTask },
      false,
      [],
    ],
    [
      'a resource server introspects',
      { principal: resourceServer, action: 'Introspect' },
      true,
      ['resource-server-verify'],
    ],
    [
      'a resource server reads revocations',
      { principal: resourceServer, action: 'ReadRevocations' },
      true,
      ['resource-server-verify'],
    ],
    ['a resource server reads the audit log', { principal: resourceServer, action: 'ReadAudit' }, false, []],
    ['an agent introspects', { principal: agentA, action: 'Introspect' }, false, []],
    [
      'a resource server reports the calls made with a grant',
      { principal: resourceServer, action: 'ReportUsage', task: ownTask },
      true,
      ['resource-server-report-usage'],
    ],
    [
      'an agent reports its own usage',
      { principal: agentA, action: 'ReportUsage', task: ownTask },
      false,
      [],
    ],
    [
      'an orchestrator reports usage in its own task',
      { principal: orchestrator, action: 'ReportUsage', task: ownTask },
      false,
      [],
    ],
  ];
  runCases(cases);
});

describe('RequestGrant policies', () => {
  const cases: Case[] = [
    ['a listed agent asks for a scope in the ceiling', grantRequest(), true, ['agent-request-grant']],
    ['an agent not listed asks', grantRequest({ principal: stranger }), false, []],
    ['the scope is outside the ceiling', grantRequest({ scope: outsideCeiling }), false, []],
    ['the task is closing', grantRequest({ task: taskFacts({ status: 'closing' }) }), false, []],
    ['the task is closed', grantRequest({ task: taskFacts({ status: 'closed' }) }), false, []],
    [
      'a privileged scope has no approval',
      grantRequest({ scope: refund }),
      false,
      ['privileged-needs-approval'],
    ],
    [
      'a privileged scope has an approval that is not live',
      grantRequest({ scope: refund, context: { approval: { ...liveApproval, live: false } } }),
      false,
      ['privileged-needs-approval'],
    ],
    [
      'a privileged scope has a live approval',
      grantRequest({ scope: refund, context: { approval: liveApproval } }),
      true,
      ['agent-request-grant'],
    ],
    [
      'a high-sensitivity scope in a task of risk 71',
      grantRequest({ scope: highScope, task: taskFacts({ riskScore: 71 }) }),
      false,
      ['high-risk-sensitive-data'],
    ],
    [
      'a high-sensitivity scope in a task of risk 70',
      grantRequest({ scope: highScope, task: taskFacts({ riskScore: 70 }) }),
      true,
      ['agent-request-grant'],
    ],
    [
      'a task with high-sensitivity data and risk 71',
      grantRequest({ task: taskFacts({ dataSensitivity: 'high', riskScore: 71 }) }),
      false,
      ['high-risk-sensitive-data'],
    ],
    [
      'a task with high-sensitivity data and risk 70',
      grantRequest({ task: taskFacts({ dataSensitivity: 'high', riskScore: 70 }) }),
      true,
      ['agent-request-grant'],
    ],
    [
      'a medium scope in a medium task of risk 95',
      grantRequest({ task: taskFacts({ riskScore: 95 }) }),
      true,
      ['agent-request-grant'],
    ],
    [
      'an unapproved privileged high scope in a risk 90 task',
      grantRequest({ scope: refund, task: taskFacts({ riskScore: 90 }) }),
      false,
      ['high-risk-sensitive-data', 'privileged-needs-approval'],
    ],
  ];
  runCases(cases);
});

describe('DelegateGrant and RedeemGrant policies', () => {
  const hop = { depth: 1, chain: [agentA.spiffeId], parentHolder: agentA.spiffeId };
  const delegate = (o: Partial<PolicyRequest> = {}) =>
    grantRequest({ action: 'DelegateGrant', context: { delegation: hop }, ...o });
  const redeem = (o: Partial<PolicyRequest> = {}) =>
    grantRequest({ principal: subAgentB, action: 'RedeemGrant', context: { delegation: hop }, ...o });
  const secondHop = {
    depth: 2,
    chain: [agentA.spiffeId, subAgentB.spiffeId],
    parentHolder: subAgentB.spiffeId,
  };
  const cases: Case[] = [
    ['a listed agent delegates a scope in the ceiling', delegate(), true, ['agent-delegate-grant']],
    [
      'an unlisted sub-agent re-delegates the grant it holds',
      delegate({ principal: subAgentB, context: { delegation: secondHop } }),
      true,
      ['agent-delegate-grant'],
    ],
    ['an unlisted agent delegates a grant it does not hold', delegate({ principal: stranger }), false, []],
    ['a delegation is outside the ceiling', delegate({ scope: outsideCeiling }), false, []],
    ['a delegation is in a closed task', delegate({ task: taskFacts({ status: 'closed' }) }), false, []],
    [
      'a privileged delegation has no approval',
      delegate({ scope: refund }),
      false,
      ['privileged-needs-approval'],
    ],
    ['an unlisted sub-agent redeems a delegation', redeem(), true, ['subagent-redeem-grant']],
    [
      'a redemption has no parent grant',
      redeem({ context: { delegation: { depth: 0, chain: [] } } }),
      false,
      [],
    ],
    ['a redemption is outside the ceiling', redeem({ scope: outsideCeiling }), false, []],
    ['a redemption is in a closing task', redeem({ task: taskFacts({ status: 'closing' }) }), false, []],
    [
      'a privileged redemption has no approval',
      redeem({ scope: refund }),
      false,
      ['privileged-needs-approval'],
    ],
    [
      'a privileged redemption has a live approval',
      redeem({ scope: refund, context: { delegation: hop, approval: liveApproval } }),
      true,
      ['subagent-redeem-grant'],
    ],
    [
      'a high-sensitivity redemption in a risk 71 task',
      redeem({ scope: highScope, task: taskFacts({ riskScore: 71 }) }),
      false,
      ['high-risk-sensitive-data'],
    ],
  ];
  runCases(cases);
});

describe('RevokeGrant policies', () => {
  const revoke = (principal: PolicyRequest['principal']): PolicyRequest => ({
    principal,
    action: 'RevokeGrant',
    task: ownTask,
    context: {
      holder: subAgentB.spiffeId,
      delegation: { depth: 1, chain: [agentA.spiffeId, subAgentB.spiffeId], parentHolder: agentA.spiffeId },
    },
  });
  const cases: Case[] = [
    ['the holder revokes', revoke(subAgentB), true, ['holder-revoke-grant']],
    ["an ancestor's holder revokes", revoke(agentA), true, ['holder-revoke-grant']],
    ['the task owner revokes', revoke(orchestrator), true, ['owner-revoke-grant']],
    ['a stranger revokes', revoke(stranger), false, []],
    ['another orchestrator revokes', revoke(otherOrchestrator), false, []],
    ['an auditor revokes', revoke(auditor), false, []],
  ];
  runCases(cases);
});

describe('deny by default', () => {
  const nobody = workload('/misc/thing');
  const actions = [
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
  ] as const;
  test.each(actions)(
    'when a workload with an unknown path asks for %s, then no policy permits it',
    (action) => {
      const decision = engine.authorize({ principal: nobody, action, task: ownTask, scope: ordersRead });
      expect(decision).toMatchObject({
        allowed: false,
        policyIds: [],
        errors: [],
        reasons: [`no policy permits ${action}`],
      });
    },
  );
});

describe('roles are for the local trust domain only', () => {
  const partner = (p: string) => workload(p, 'partner.example');
  const partnerTask = taskFacts({ owner: partner('/orchestrator/evil').spiffeId });
  test.each([
    ['OpenTask', partner('/orchestrator/evil'), undefined],
    ['CloseTask', partner('/orchestrator/evil'), partnerTask],
    ['ReadAudit', partner('/auditor/evil'), undefined],
    ['ReadLineage', partner('/auditor/evil'), ownTask],
    ['Introspect', partner('/resource/evil'), undefined],
    ['ReadRevocations', partner('/resource/evil'), undefined],
    ['ReportUsage', partner('/resource/evil'), ownTask],
  ] as const)(
    'when a federated workload asks for %s by its path, then it is denied',
    (action, principal, task) => {
      expect(engine.authorize({ principal, action, ...(task ? { task } : {}) }).allowed).toBe(false);
    },
  );

  test('when a federated agent is listed on a task, then it may still request grants in it', () => {
    const agent = partner('/agent/helper');
    const task = taskFacts({ agents: [agent.spiffeId] });
    expect(engine.authorize(grantRequest({ principal: agent, task })).allowed).toBe(true);
  });
});

describe('approval policies: consent comes from approvers, never from the task itself', () => {
  const approverHuman = human('alice', ['approver']);
  const auditorHuman = human('carol', ['auditor']);
  const nobody = human('mallory', []);
  const taskWithApproverAsAgent = taskFacts({ agents: [agentA.spiffeId, approverWorkload.spiffeId] });
  const ask = (overrides: Partial<PolicyRequest> = {}): PolicyRequest =>
    grantRequest({ action: 'RequestApproval', scope: refund, ...overrides });
  const cases: Case[] = [
    [
      'an approver workload approves',
      { principal: approverWorkload, action: 'ApproveTask', task: ownTask },
      true,
      ['approver-workload'],
    ],
    [
      'an approver workload listed as an agent approves',
      { principal: approverWorkload, action: 'ApproveTask', task: taskWithApproverAsAgent },
      false,
      ['no-self-approval'],
    ],
    [
      'a federated approver workload approves',
      {
        principal: workload('/approver/alice-desk', 'partner.example'),
        action: 'ApproveTask',
        task: ownTask,
      },
      false,
      [],
    ],
    [
      'an agent approves',
      { principal: agentA, action: 'ApproveTask', task: ownTask },
      false,
      ['no-self-approval'],
    ],
    [
      'a person with the approver role approves',
      { principal: approverHuman, action: 'ApproveTask', task: ownTask },
      true,
      ['approver-human'],
    ],
    [
      'a person with the auditor role approves',
      { principal: auditorHuman, action: 'ApproveTask', task: ownTask },
      false,
      [],
    ],
    [
      'a person without roles approves',
      { principal: nobody, action: 'ApproveTask', task: ownTask },
      false,
      [],
    ],
    [
      'a person with the approver role lists the inbox',
      { principal: approverHuman, action: 'ReadApprovals' },
      true,
      ['approver-human'],
    ],
    [
      'a person with the approver role reads the task lineage',
      { principal: approverHuman, action: 'ReadLineage', task: ownTask },
      false,
      [],
    ],
    [
      'a person with the auditor role reads the lineage',
      { principal: auditorHuman, action: 'ReadLineage', task: ownTask },
      true,
      ['auditor-human'],
    ],
    [
      'a person with the auditor role reads the audit log',
      { principal: auditorHuman, action: 'ReadAudit' },
      true,
      ['auditor-human'],
    ],
    ['a person without roles reads the audit log', { principal: nobody, action: 'ReadAudit' }, false, []],
    [
      'the agent that asked reads its approval request',
      { principal: agentA, action: 'ReadApprovals', task: ownTask, context: { holder: agentA.spiffeId } },
      true,
      ['requester-read-approval-request'],
    ],
    [
      "another agent reads an agent's approval request",
      { principal: subAgentB, action: 'ReadApprovals', task: ownTask, context: { holder: agentA.spiffeId } },
      false,
      [],
    ],
    ['an agent lists the inbox', { principal: agentA, action: 'ReadApprovals' }, false, []],
    ['a listed agent asks approval for a privileged scope', ask(), true, ['agent-request-approval']],
    ['a listed agent asks approval for a plain scope', ask({ scope: ordersRead }), false, []],
    ['a stranger asks approval', ask({ principal: stranger }), false, []],
    [
      'an agent asks approval in a risky task',
      ask({ task: taskFacts({ riskScore: 90 }) }),
      false,
      ['high-risk-sensitive-data'],
    ],
  ];
  runCases(cases);

  test('when a person asks for an action only workloads take (OpenTask), then it is denied', () => {
    const decision = engine.authorize({ principal: approverHuman, action: 'OpenTask' });
    expect(decision).toMatchObject({ allowed: false, policyIds: [] });
    expect(decision.errors.length).toBeGreaterThan(0);
  });
});
