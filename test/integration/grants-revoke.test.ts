import {
  AGENT_A,
  AGENT_B,
  eventually,
  RESOURCE,
  STRANGER,
  startTestBroker,
  type TestBroker,
  tryLogin,
} from '../helpers/broker';
import { grantOk, introspect, openTask, taskRow } from '../helpers/scenario';

type Creds = { username: string; password: string };

/** DESIGN "HTTP API": `POST /v1/grants/:id/revoke`, RFC 7009 `POST /oauth2/revoke`, and the revocation feed. */
describe('revoking one grant', () => {
  let t: TestBroker;
  let taskId: string;
  beforeAll(async () => {
    t = await startTestBroker();
    taskId = await openTask(t, { agents: [AGENT_A, AGENT_B] });
  });
  afterAll(async () => {
    await t?.stop();
  });

  const feed = async (after = 0) =>
    (await t.call('GET', `/v1/revocations?after=${after}`, { as: RESOURCE })).body;

  test('when its holder revokes it, then it is dead in the broker, in Vault and at PostgreSQL, and other grants live on', async () => {
    const victim = await grantOk(t, taskId, ['db:demo:read']);
    const bystander = await grantOk(t, taskId, ['db:demo:read'], { as: AGENT_B });
    const victimCreds = victim.secrets[0]!.data as Creds;
    const bystanderCreds = bystander.secrets[0]!.data as Creds;
    const before = await taskRow(t, taskId);

    const res = await t.call('POST', `/v1/grants/${victim.grant_id}/revoke`, {
      as: AGENT_A,
      body: { reason: 'done with it' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ grant_id: victim.grant_id, status: 'revoked', revoked: [victim.grant_id] });
    expect((await introspect(t, victim.access_token)).body).toEqual({ active: false });
    expect(
      await eventually(
        async () => (await t.broker.vault.vault.lookupLease(victim.secrets[0]!.lease_id!)) === null,
      ),
    ).toBe(true);
    expect(await eventually(async () => !(await tryLogin(t, victimCreds)).ok)).toBe(true);
    const grantRow = await t.db.db
      .selectFrom('grants')
      .select(['vault_token_accessor', 'revoke_reason'])
      .where('id', '=', victim.grant_id)
      .executeTakeFirstOrThrow();
    expect(grantRow.revoke_reason).toBe('done with it');
    expect(
      await eventually(
        async () =>
          (await t.broker.vault.vault.lookupTokenByAccessor(grantRow.vault_token_accessor!)) === null,
      ),
    ).toBe(true);

    expect((await introspect(t, bystander.access_token)).body).toMatchObject({
      active: true,
      client_id: AGENT_B,
    });
    const still = await tryLogin(t, bystanderCreds);
    expect(still.ok).toBe(true);
    if (still.ok) await still.client.end();
    expect(await t.broker.vault.vault.lookupLease(bystander.secrets[0]!.lease_id!)).not.toBeNull();
    expect(await taskRow(t, taskId)).toEqual({ ...before, active_grants: before.active_grants - 1 });

    const again = await t.call('POST', `/v1/grants/${victim.grant_id}/revoke`, { as: AGENT_A, body: {} });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ grant_id: victim.grant_id, status: 'revoked', revoked: [] });
    expect((await taskRow(t, taskId)).active_grants).toBe(before.active_grants - 1);
  });

  test('when a stranger or another agent of the task revokes it, then 404 and nothing changes', async () => {
    const grant = await grantOk(t, taskId, ['kv:demo/api-key']);
    const before = await taskRow(t, taskId);
    for (const who of [STRANGER, AGENT_B]) {
      const res = await t.call('POST', `/v1/grants/${grant.grant_id}/revoke`, { as: who, body: {} });
      expect(res.status).toBe(404);
      expect(res.body.error).toBe('not_found');
    }
    expect((await introspect(t, grant.access_token)).body.active).toBe(true);
    expect(await taskRow(t, taskId)).toEqual(before);
    const jobs = await t.db.db
      .selectFrom('revocation_jobs')
      .select('id')
      .where('grant_id', '=', grant.grant_id)
      .execute();
    expect(jobs).toEqual([]);
    const unknown = await t.call('POST', '/v1/grants/00000000-0000-4000-8000-000000000000/revoke', {
      as: AGENT_A,
      body: {},
    });
    expect(unknown.status).toBe(404);
  });

  test('when the holder revokes through RFC 7009, then 200 and inactive; an unknown token is 200 too', async () => {
    const grant = await grantOk(t, taskId, ['kv:demo/api-key']);
    const notHolder = await t.call('POST', '/oauth2/revoke', {
      as: AGENT_B,
      form: { token: grant.access_token },
    });
    // RFC 7009 §2.2: 200 like any token the caller does not hold (an error would reveal it is live).
    expect(notHolder.status).toBe(200);
    expect((await introspect(t, grant.access_token)).body.active).toBe(true);

    const res = await t.call('POST', '/oauth2/revoke', { as: AGENT_A, form: { token: grant.access_token } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect((await introspect(t, grant.access_token)).body).toEqual({ active: false });
    const twice = await t.call('POST', '/oauth2/revoke', {
      as: AGENT_A,
      form: { token: grant.access_token },
    });
    expect(twice.status).toBe(200);
    const unknown = await t.call('POST', '/oauth2/revoke', {
      as: AGENT_A,
      form: { token: 'not-a-token-at-all' },
    });
    expect(unknown.status).toBe(200);
    const missing = await t.call('POST', '/oauth2/revoke', { as: AGENT_A, form: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');
  });

  test('when grants were revoked, then the revocation feed lists their jti in order, and only resource servers read it', async () => {
    const grant = await grantOk(t, taskId, ['kv:demo/api-key']);
    const head = (await feed()).next as number;
    expect(
      (await t.call('POST', `/v1/grants/${grant.grant_id}/revoke`, { as: AGENT_A, body: {} })).status,
    ).toBe(200);
    const page = await feed(head);
    expect(page.revocations).toEqual([
      {
        seq: expect.any(Number),
        jti: grant.grant_id,
        task_id: taskId,
        reason: 'revoked by request',
        revoked_at: expect.any(String),
      },
    ]);
    expect(page.next).toBe(page.revocations[0].seq);
    const all = await feed();
    expect(all.revocations.map((r: { jti: string }) => r.jti)).toContain(grant.grant_id);
    expect(all.revocations.length).toBeGreaterThanOrEqual(3);
    const byAgent = await t.call('GET', '/v1/revocations?after=0', { as: AGENT_A });
    expect(byAgent.status).toBe(403);
    expect(byAgent.body.error).toBe('access_denied');
  });
});
