import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { loadPolicyEngine, type PolicyEngine } from '../../../server/policy';
import {
  agentA,
  auditor,
  copyPolicyDir,
  grantRequest,
  orchestrator,
  POLICY_DIR,
  refund,
  resourceServer,
  silentLogger,
  stranger,
  taskFacts,
  workload,
} from './policy-fixtures';

let engine: PolicyEngine;
beforeAll(() => {
  engine = loadPolicyEngine({ dir: POLICY_DIR, logger: silentLogger });
});

describe('decision shape', () => {
  test('when a request is allowed, then the decision names the permitting policy and the version', () => {
    expect(engine.authorize(grantRequest())).toEqual({
      allowed: true,
      policyIds: ['agent-request-grant'],
      errors: [],
      policyVersion: engine.version,
      shadow: { allowed: true, policyIds: ['agent-request-grant'] },
      reasons: ['permitted by policy agent-request-grant'],
    });
  });

  test('when a forbid decides, then the reason names it', () => {
    const decision = engine.authorize(grantRequest({ scope: refund }));
    expect(decision.allowed).toBe(false);
    expect(decision.reasons).toEqual(['denied by policy privileged-needs-approval']);
  });

  test('when nothing permits, then the reason says so for the action', () => {
    const decision = engine.authorize(grantRequest({ principal: stranger }));
    expect(decision.reasons).toEqual(['no policy permits RequestGrant']);
  });
});

describe('shadow policies', () => {
  test('when a shadow forbid matches, then it is reported and the request is still allowed', () => {
    const decision = engine.authorize(grantRequest({ context: { requestedTtl: 900 } }));
    expect(decision.allowed).toBe(true);
    expect(decision.policyIds).toEqual(['agent-request-grant']);
    expect(decision.shadow).toEqual({ allowed: false, policyIds: ['shadow-max-ttl-600'] });
  });

  test('when the shadow forbid does not match, then the shadow decision agrees', () => {
    const decision = engine.authorize(grantRequest({ context: { requestedTtl: 600 } }));
    expect(decision.shadow).toEqual({ allowed: true, policyIds: ['agent-request-grant'] });
  });

  test('when an enforced forbid and a shadow forbid both match, then the shadow decision names both', () => {
    const decision = engine.authorize(grantRequest({ scope: refund, context: { requestedTtl: 900 } }));
    expect(decision.policyIds).toEqual(['privileged-needs-approval']);
    expect(decision.shadow).toEqual({
      allowed: false,
      policyIds: ['privileged-needs-approval', 'shadow-max-ttl-600'],
    });
  });

  test('when no shadow policy can apply to the action, then the shadow decision is the enforced one', () => {
    const decision = engine.authorize({ principal: resourceServer, action: 'Introspect' });
    expect(decision.shadow).toEqual({ allowed: true, policyIds: ['resource-server-verify'] });
  });

  test('when a shadow policy leaves the action unconstrained, then it is evaluated for every action', () => {
    const policies = copyPolicyDir();
    try {
      policies.write(
        'shadow/auditors-read-only-lineage.cedar',
        '@id("shadow-auditor-lineage-only")\nforbid (principal is Workload, action, resource)\n' +
          'when { principal.path like "/auditor/*" } unless { action == Action::"ReadLineage" };\n',
      );
      const withShadow = loadPolicyEngine({ dir: policies.dir, logger: silentLogger });
      const decision = withShadow.authorize({ principal: auditor, action: 'ReadAudit' });
      expect(decision.allowed).toBe(true);
      expect(decision.shadow).toEqual({ allowed: false, policyIds: ['shadow-auditor-lineage-only'] });
      expect(withShadow.authorize({ principal: auditor, action: 'ReadLineage' }).shadow?.allowed).toBe(true);
    } finally {
      policies.dispose();
    }
  });

  test('when there are no shadow policies, then the shadow decision is null', () => {
    const policies = copyPolicyDir();
    try {
      rmSync(path.join(policies.dir, 'shadow'), { recursive: true });
      const plain = loadPolicyEngine({ dir: policies.dir, logger: silentLogger });
      expect(plain.authorize(grantRequest()).shadow).toBeNull();
      expect(plain.version).not.toBe(engine.version);
    } finally {
      policies.dispose();
    }
  });
});

describe('action groups in the schema', () => {
  test('when a policy permits an action group, then its member actions are permitted', () => {
    const policies = copyPolicyDir();
    try {
      const schema = readFileSync(path.join(policies.dir, 'grantline.cedarschema'), 'utf8');
      policies.write(
        'grantline.cedarschema',
        `${schema}\naction AuditReads;\n`.replace(
          'action ReadAudit appliesTo',
          'action ReadAudit in [AuditReads] appliesTo',
        ),
      );
      policies.write(
        'compliance-read.cedar',
        '@id("compliance-read")\npermit (principal is Workload, action in Action::"AuditReads", resource)\n' +
          'when { principal.path like "/compliance/*" };\n',
      );
      const grouped = loadPolicyEngine({ dir: policies.dir, logger: silentLogger });
      const decision = grouped.authorize({ principal: workload('/compliance/bot'), action: 'ReadAudit' });
      expect({ allowed: decision.allowed, policyIds: decision.policyIds }).toEqual({
        allowed: true,
        policyIds: ['compliance-read'],
      });
      expect(
        grouped.authorize({ principal: workload('/compliance/bot'), action: 'Introspect' }).allowed,
      ).toBe(false);
    } finally {
      policies.dispose();
    }
  });
});

describe('failing closed', () => {
  test('when the facts an action needs are missing, then it is denied with an error', () => {
    const decision = engine.authorize({ principal: orchestrator, action: 'CloseTask' });
    expect(decision).toMatchObject({
      allowed: false,
      policyIds: [],
      errors: ['CloseTask needs the task facts'],
      reasons: ['the request could not be evaluated against the policies'],
    });
  });

  test('when a number is not an integer, then it is denied with an error', () => {
    const decision = engine.authorize(grantRequest({ task: taskFacts({ riskScore: 70.5 }) }));
    expect(decision.allowed).toBe(false);
    expect(decision.errors).toEqual(['task riskScore must be an integer, got 70.5']);
  });

  test('when a value does not fit the schema, then Cedar refuses the request and it is denied', () => {
    const scope = { ...refund, privileged: 'no' as unknown as boolean };
    const decision = engine.authorize(grantRequest({ scope, context: { approval: { live: true } } }));
    expect(decision.allowed).toBe(false);
    expect(decision.errors).toHaveLength(1);
    expect(decision.errors[0]).toContain('privileged');
  });

  test('when an unknown action is asked for, then it is denied with an error', () => {
    const decision = engine.authorize({ principal: agentA, action: 'DropTables' as 'OpenTask' });
    expect(decision).toMatchObject({ allowed: false, errors: ['unknown policy action DropTables'] });
  });

  test('when a forbid errors while evaluating, then the request is denied although a permit matched', () => {
    const policies = copyPolicyDir();
    try {
      // Long overflow at run time: Cedar would skip the erroring forbid and allow.
      policies.write(
        'overflow.cedar',
        '@id("overflow")\nforbid (principal, action == Action::"RequestGrant", resource is Scope)\n' +
          'when { context has requested_ttl && context.requested_ttl * 4611686018427387904 > 0 };\n',
      );
      const strict = loadPolicyEngine({ dir: policies.dir, logger: silentLogger });
      const decision = strict.authorize(grantRequest({ context: { requestedTtl: 300 } }));
      expect(decision.allowed).toBe(false);
      expect(decision.policyIds).toEqual(['overflow']);
      expect(decision.reasons).toEqual(['policy overflow could not be evaluated']);
      expect(decision.errors[0]).toMatch(/^policy overflow: .*overflow/);
    } finally {
      policies.dispose();
    }
  });
});
