import { eventually, ORCHESTRATOR, type TestBroker, tryLogin } from '../helpers/broker';
import { createDurableWorld, type DurableWorld } from '../helpers/broker-restart';
import { grantOk, introspect, openTask } from '../helpers/scenario';

/**
 * DESIGN "Rules": close is durable even if the broker is killed mid-way; the revocation jobs live in
 * PostgreSQL and another broker process picks them up. The dev Vault here runs outside the brokers, so
 * the tokens and leases of the first broker are still there for the second one to revoke.
 */
describe('revocation survives a broker restart', () => {
  let world: DurableWorld;
  const running: TestBroker[] = [];

  beforeAll(async () => {
    world = await createDurableWorld();
  });
  afterAll(async () => {
    for (const b of running) await b.stop();
    await world?.devVault.start();
    await world?.close();
  });

  test('when the broker stops with revocation jobs pending, then a new broker on the same database finishes them', async () => {
    const first = await world.startBroker();
    running.push(first);
    const taskId = await openTask(first);
    const grant = await grantOk(first, taskId, ['db:demo:read', 'kv:demo/api-key']);
    const dbSecret = grant.secrets.find((s) => s.scope === 'db:demo:read')!;
    expect(dbSecret).toMatchObject({ connection: { database: world.demoDatabase } });
    const creds = dbSecret.data as { username: string; password: string };
    const login = await tryLogin(first, creds);
    expect(login.ok).toBe(true);
    if (login.ok) await login.client.end();

    await world.devVault.stop();
    const closed = await first.call('POST', `/v1/tasks/${taskId}/close`, {
      as: ORCHESTRATOR,
      body: { reason: 'done' },
    });
    expect(closed.status).toBe(200);
    expect((await introspect(first, grant.access_token)).body).toEqual({ active: false });
    const receipt = async (b: TestBroker) =>
      (await b.call('GET', `/v1/tasks/${taskId}/receipt`, { as: ORCHESTRATOR })).body;
    expect(
      await eventually(async () =>
        (await receipt(first)).grants[0].leases.every((l: { state: string }) => l.state === 'retrying'),
      ),
    ).toBe(true);

    await first.stop();
    running.pop();
    const job = await world.db.db
      .selectFrom('revocation_jobs')
      .selectAll()
      .where('task_id', '=', taskId)
      .executeTakeFirstOrThrow();
    expect(job).toMatchObject({ kind: 'revoke_task', status: 'pending' });
    const attemptsBefore = job.attempts;

    // Vault is back, but no broker runs: nothing has been revoked yet, the credential still works.
    await world.devVault.start();
    const task = await world.db.db
      .selectFrom('tasks')
      .select(['status', 'vault_token_accessor'])
      .where('id', '=', taskId)
      .executeTakeFirstOrThrow();
    expect(task.status).toBe('closing');
    expect(await world.vault.lookupTokenByAccessor(task.vault_token_accessor!)).not.toBeNull();
    const stillWorks = await tryLogin(first, creds);
    expect(stillWorks.ok).toBe(true);
    if (stillWorks.ok) await stillWorks.client.end();

    const second = await world.startBroker();
    running.push(second);
    expect(await eventually(async () => (await receipt(second)).complete === true, 20_000)).toBe(true);
    const done = await receipt(second);
    expect(done.status).toBe('closed');
    expect(done.task_token.state).toBe('revoked');
    expect(done.grants[0].leases.map((l: { state: string }) => l.state)).toEqual(['revoked', 'revoked']);
    const finished = await world.db.db
      .selectFrom('revocation_jobs')
      .selectAll()
      .where('id', '=', job.id)
      .executeTakeFirstOrThrow();
    expect(finished.status).toBe('done');
    expect(finished.attempts).toBeGreaterThan(attemptsBefore);

    expect(await world.vault.lookupTokenByAccessor(task.vault_token_accessor!)).toBeNull();
    expect(await world.vault.lookupLease(dbSecret.lease_id!)).toBeNull();
    expect((await tryLogin(second, creds)).ok).toBe(false);
    expect((await introspect(second, grant.access_token)).body).toEqual({ active: false });
  });
});
