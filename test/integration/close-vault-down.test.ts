import { eventually, ORCHESTRATOR, startTestBroker, type TestBroker, tryLogin } from '../helpers/broker';
import { grantOk, introspect, openTask } from '../helpers/scenario';

/**
 * DESIGN "Rules": close is durable. Once `close` returns no grant is active, and every Vault token and
 * lease is revoked eventually even when Vault is down: the jobs live in PostgreSQL and are retried.
 */
describe('closing a task while Vault is down', () => {
  let t: TestBroker;
  beforeAll(async () => {
    t = await startTestBroker();
  });
  afterAll(async () => {
    await t?.stop();
  });

  const receipt = async (taskId: string) =>
    (await t.call('GET', `/v1/tasks/${taskId}/receipt`, { as: ORCHESTRATOR })).body;

  test('when Vault is stopped at close, then close answers at once, leases retry, and all is revoked once Vault is back', async () => {
    const taskId = await openTask(t);
    const grant = await grantOk(t, taskId, ['db:demo:read', 'kv:demo/api-key']);
    const creds = grant.secrets.find((s) => s.scope === 'db:demo:read')!.data as {
      username: string;
      password: string;
    };
    const session = await tryLogin(t, creds);
    expect(session.ok).toBe(true);
    if (session.ok) await session.client.end();

    const devVault = t.broker.vault.devVault!;
    await devVault.stop();
    let vaultStarted = false;
    try {
      const started = Date.now();
      const closed = await t.call('POST', `/v1/tasks/${taskId}/close`, {
        as: ORCHESTRATOR,
        body: { reason: 'done' },
      });
      expect(closed.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(closed.body).toMatchObject({ task_id: taskId, status: 'closing', complete: false });
      expect(closed.body.grants[0].status).toBe('revoked');
      expect((await introspect(t, grant.access_token)).body).toEqual({ active: false });

      expect(
        await eventually(async () => {
          const r = await receipt(taskId);
          const leases = r.grants[0].leases as Array<{
            state: string;
            attempts: number;
            last_error: string | null;
          }>;
          const retrying =
            leases.length === 2 &&
            leases.every((l) => l.state === 'retrying' && l.attempts >= 1 && Boolean(l.last_error));
          return retrying && Boolean(r.jobs[0]?.last_error);
        }),
      ).toBe(true);
      const during = await receipt(taskId);
      expect(during.status).toBe('closing');
      expect(during.complete).toBe(false);
      expect(during.task_token.state).toBe('retrying');
      expect(during.jobs).toEqual([
        expect.objectContaining({ kind: 'revoke_task', status: 'pending', last_error: expect.any(String) }),
      ]);
      expect(during.jobs[0].attempts).toBeGreaterThanOrEqual(1);

      await devVault.start();
      vaultStarted = true;
      expect(await eventually(async () => (await receipt(taskId)).complete === true, 20_000)).toBe(true);
    } finally {
      if (!vaultStarted) await devVault.start();
    }
    const done = await receipt(taskId);
    expect(done.status).toBe('closed');
    expect(done.task_token.state).toBe('revoked');
    expect(done.grants[0].leases.map((l: { state: string }) => l.state)).toEqual(['revoked', 'revoked']);
    expect(done.jobs).toEqual([expect.objectContaining({ status: 'done' })]);
    expect(await t.broker.vault.vault.lookupTokenByAccessor(done.task_token.token_accessor)).toBeNull();
    const lease = done.grants[0].leases.find((l: { kind: string }) => l.kind === 'lease');
    expect(await t.broker.vault.vault.lookupLease(lease.lease_id)).toBeNull();
    expect((await tryLogin(t, creds)).ok).toBe(false);
    expect((await introspect(t, grant.access_token)).body).toEqual({ active: false });
  });

  test('when close is called again on a closing or closed task, then it is idempotent', async () => {
    const taskId = await openTask(t);
    await grantOk(t, taskId, ['kv:demo/api-key']);
    const first = await t.call('POST', `/v1/tasks/${taskId}/close`, { as: ORCHESTRATOR, body: {} });
    const second = await t.call('POST', `/v1/tasks/${taskId}/close`, {
      as: ORCHESTRATOR,
      body: { reason: 'again' },
    });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(await eventually(async () => (await receipt(taskId)).complete === true)).toBe(true);
    const third = await t.call('POST', `/v1/tasks/${taskId}/close`, { as: ORCHESTRATOR, body: {} });
    expect(third.status).toBe(200);
    expect(third.body).toMatchObject({ status: 'closed', close_reason: 'closed by orchestrator' });
    const jobs = await t.db.db
      .selectFrom('revocation_jobs')
      .select('kind')
      .where('task_id', '=', taskId)
      .execute();
    expect(jobs).toEqual([{ kind: 'revoke_task' }]);
    const closing = await t.db.db
      .selectFrom('audit_events')
      .select('type')
      .where('task_id', '=', taskId)
      .where('type', '=', 'task.closing')
      .execute();
    expect(closing).toHaveLength(1);
  });
});
