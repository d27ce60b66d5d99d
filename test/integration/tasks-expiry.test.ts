import { ManualClock } from '../../server/shared/clock';
import { eventually, ORCHESTRATOR, startTestBroker, type TestBroker, tryLogin } from '../helpers/broker';
import { grantOk, introspect, leaseRows, openTask, requestGrant } from '../helpers/scenario';

/** DESIGN "Rules": task expiry runs the same path as close. */
describe('a task whose TTL runs out is closed like an explicit close', () => {
  const clock = new ManualClock();
  let t: TestBroker;
  beforeAll(async () => {
    t = await startTestBroker({ clock, manualBackground: true });
  });
  afterAll(async () => {
    await t?.stop();
  });

  test('when the task TTL passes and the sweeper runs, then the task is expired, its grant inactive and its leases revoked', async () => {
    const taskId = await openTask(t, { ttl: '60s' });
    const grant = await grantOk(t, taskId, ['db:demo:read'], { ttl: '10m' });
    expect(grant.expires_in).toBeLessThanOrEqual(60);
    const creds = grant.secrets[0]!.data as { username: string; password: string };
    const login = await tryLogin(t, creds);
    expect(login.ok).toBe(true);
    if (login.ok) await login.client.end();

    clock.advance(30_000);
    await t.broker.runBackgroundOnce();
    expect((await introspect(t, grant.access_token)).body.active).toBe(true);

    clock.advance(31_000);
    // Past its TTL the task refuses new grants even before the sweeper ran.
    const late = await requestGrant(t, taskId, ['kv:demo/api-key']);
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ error: 'conflict', task_status: 'expired' });
    expect((await introspect(t, grant.access_token)).body).toEqual({ active: false });

    await t.broker.runBackgroundOnce();
    await t.broker.vault.devVault!.tick();
    const receipt = (await t.call('GET', `/v1/tasks/${taskId}/receipt`, { as: ORCHESTRATOR })).body;
    expect(receipt).toMatchObject({ status: 'expired', close_reason: 'task ttl expired', complete: true });
    expect(receipt.grants[0].status).toBe('revoked');
    for (const lease of await leaseRows(t, taskId)) expect(['revoked', 'expired']).toContain(lease.state);
    const leaseId = grant.secrets[0]!.lease_id!;
    expect(await t.broker.vault.vault.lookupLease(leaseId)).toBeNull();
    expect(await eventually(async () => !(await tryLogin(t, creds)).ok)).toBe(true);

    const types = (
      await t.db.db.selectFrom('audit_events').select('type').where('task_id', '=', taskId).execute()
    ).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['task.expired', 'grant.revoked', 'task.closed']));
  });

  test('when a grant TTL passes inside an open task, then it turns expired and stops counting against max_active', async () => {
    const taskId = await openTask(t, {
      limits: { max_grants: 10, max_active: 1, max_depth: 3, max_fanout: 3, budget: 10 },
    });
    const grant = await grantOk(t, taskId, ['kv:demo/api-key'], { ttl: 30 });
    expect((await requestGrant(t, taskId, ['kv:demo/api-key'])).body).toMatchObject({
      error: 'quota_exceeded',
      limit: 'max_active',
    });
    clock.advance(31_000);
    expect((await introspect(t, grant.access_token)).body).toEqual({ active: false });
    await t.broker.runBackgroundOnce();
    const row = await t.db.db
      .selectFrom('grants')
      .select('status')
      .where('id', '=', grant.grant_id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('expired');
    expect((await requestGrant(t, taskId, ['kv:demo/api-key'])).status).toBe(201);
  });
});
