import { randomInt } from 'node:crypto';
import {
  AGENT_A,
  AGENT_B,
  AUDITOR,
  ORCHESTRATOR,
  RESOURCE,
  startTestBroker,
  type TestBroker,
} from '../helpers/broker';
import { argsDigest, grantOk, openTask } from '../helpers/scenario';
import { buildCases } from './support/case-builders';
import type { Fixture } from './support/route-templates';
import { routesWithoutTemplate } from './support/route-templates';
import { runCases } from './support/run-cases';
import { loadSvidKeys } from './support/svid-cases';

/** Rows of every table a request could add to: bad input must add none (DESIGN "Rules that must hold"). */
async function rowCounts(t: TestBroker) {
  const count = async (
    table: 'tasks' | 'grants' | 'approvals' | 'approval_requests' | 'delegation_offers' | 'leases',
  ) =>
    Number(
      (
        await t.db.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    tasks: await count('tasks'),
    grants: await count('grants'),
    approvals: await count('approvals'),
    approvalRequests: await count('approval_requests'),
    offers: await count('delegation_offers'),
    leases: await count('leases'),
  };
}

/**
 * A task, AGENT_A's grant in it, an offer of that grant to AGENT_B and AGENT_A's pending approval request
 * for a privileged call: what the generated requests aim at.
 */
async function setUp(t: TestBroker): Promise<Fixture> {
  const taskId = await openTask(t, { scopes: ['kv:demo/api-key', 'tool:demo:deploy'] });
  const grant = await grantOk(t, taskId, ['kv:demo/api-key'], { audience: 'orders-api', ttl: '30m' });
  const offer = await t.call('POST', `/v1/grants/${grant.grant_id}/delegations`, {
    as: AGENT_A,
    body: { to: AGENT_B, scopes: ['kv:demo/api-key'], ttl: 600, budget: 1 },
  });
  if (offer.status !== 201) throw new Error(`offer: ${offer.status} ${JSON.stringify(offer.body)}`);
  const asked = await t.call('POST', `/v1/tasks/${taskId}/grants`, {
    as: AGENT_A,
    body: {
      scopes: ['tool:demo:deploy'],
      audience: 'orders-api',
      approval: 'request',
      context: { tool: 'deploy', args_digest: argsDigest('deploy --target demo') },
    },
  });
  if (asked.status !== 202)
    throw new Error(`approval request: ${asked.status} ${JSON.stringify(asked.body)}`);
  return {
    approvalRequestId: asked.body.id,
    taskId,
    grantId: grant.grant_id,
    delegationToken: offer.body.delegation_token,
    accessToken: grant.access_token,
  };
}

/**
 * Issue 11 §7 (generated input): more than 10,000 generated requests and SVIDs against a running
 * broker (wrong alg, wrong aud, foreign trust domain, malformed SPIFFE IDs, oversize values, bad
 * encodings, wrong types in every body field of every route) get a clear 4xx in DESIGN's error shape,
 * never a 5xx, and change nothing: no grant, task, approval, offer or lease is added. The seed is
 * printed; FAULTS_SEED=<n> replays a run.
 */
describe('generated bad input against a running broker', () => {
  let t: TestBroker;

  beforeAll(async () => {
    t = await startTestBroker();
  });
  afterAll(async () => {
    await t?.stop();
  });

  test('when every route is in the route table, then the suite has a template for it', () => {
    expect(routesWithoutTemplate()).toEqual([]);
  });

  test('when 10,000+ generated bad requests and SVIDs arrive, then each gets a clear 4xx and nothing changes', async () => {
    const fixture = await setUp(t);
    const seed = Number(process.env.FAULTS_SEED ?? randomInt(2 ** 31 - 1));
    const svids = Object.fromEntries(
      await Promise.all(
        [ORCHESTRATOR, AGENT_A, AGENT_B, RESOURCE, AUDITOR].map(async (id) => [id, await t.svid(id)]),
      ),
    );
    const before = await rowCounts(t);
    const cases = buildCases({ fixture, keys: loadSvidKeys(t.home), svids, seed });
    const started = performance.now();
    const report = await runCases(t.broker.url, cases);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      JSON.stringify(
        {
          seed,
          cases: report.cases,
          seconds: Number(seconds.toFixed(1)),
          byStatus: report.byStatus,
          byCategory: report.byCategory,
          failures: report.failures,
        },
        null,
        1,
      ),
    );

    expect(report.problems).toEqual({});
    expect(report.failures).toEqual([]);
    expect(report.failed).toBe(0);
    expect(report.serverErrors).toBe(0);
    expect(report.cases).toBeGreaterThanOrEqual(10_000);
    expect(report.cases).toBe(cases.length);
    expect(await rowCounts(t)).toEqual(before);
    const task = await t.db.db
      .selectFrom('tasks')
      .select('status')
      .where('id', '=', fixture.taskId)
      .executeTakeFirstOrThrow();
    expect(task.status).toBe('open');
    const grant = await t.db.db
      .selectFrom('grants')
      .select('status')
      .where('id', '=', fixture.grantId)
      .executeTakeFirstOrThrow();
    expect(grant.status).toBe('active');
    const offers = await t.db.db
      .selectFrom('delegation_offers')
      .select('status')
      .where('parent_grant_id', '=', fixture.grantId)
      .execute();
    expect(offers.map((o) => o.status)).toEqual(['pending']);
    const request = await t.db.db
      .selectFrom('approval_requests')
      .select('status')
      .where('id', '=', fixture.approvalRequestId)
      .executeTakeFirstOrThrow();
    expect(request.status).toBe('pending');
  }, 600_000);
});
