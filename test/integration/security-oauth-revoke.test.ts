import { AGENT_A, AGENT_B, startTestBroker, type TestBroker } from '../helpers/broker';
import { grantOk, introspect, openTask } from '../helpers/scenario';

/**
 * Issue 11 §6, RFC 7009: `/oauth2/revoke` answers 200 for any token the caller does not hold, so the
 * answer never tells a caller whether someone else's token is live (§2.2); `token_type_hint` is only a
 * hint, so an unknown or unsupported one is ignored, not refused (§2.1).
 */
describe('POST /oauth2/revoke', () => {
  let t: TestBroker;
  let taskId: string;

  const revoke = (as: string, form: Record<string, string>) => t.call('POST', '/oauth2/revoke', { as, form });
  const isActive = async (token: string) => (await introspect(t, token)).body.active as boolean;

  beforeAll(async () => {
    t = await startTestBroker();
    taskId = await openTask(t, { agents: [AGENT_A, AGENT_B], scopes: ['kv:demo/api-key'] });
  });
  afterAll(async () => {
    await t?.stop();
  });

  test("when a client revokes another client's live token, then 200 like an unknown token, and the token stays live", async () => {
    const grant = await grantOk(t, taskId, ['kv:demo/api-key'], { as: AGENT_A });
    const foreign = await revoke(AGENT_B, { token: grant.access_token });
    const unknown = await revoke(AGENT_B, { token: 'not-a-token-at-all' });
    expect(foreign.status).toBe(200);
    expect(unknown.status).toBe(200);
    expect(foreign.body).toEqual(unknown.body);
    expect(await isActive(grant.access_token)).toBe(true);
  });

  test('when the holder revokes with token_type_hint=refresh_token, then the hint is ignored and the token is revoked', async () => {
    const grant = await grantOk(t, taskId, ['kv:demo/api-key'], { as: AGENT_A });
    const res = await revoke(AGENT_A, { token: grant.access_token, token_type_hint: 'refresh_token' });
    expect(res.status).toBe(200);
    expect(await isActive(grant.access_token)).toBe(false);
  });

  test('when the hint is unknown, then it is ignored too', async () => {
    const grant = await grantOk(t, taskId, ['kv:demo/api-key'], { as: AGENT_A });
    const res = await revoke(AGENT_A, { token: grant.access_token, token_type_hint: 'something_else' });
    expect(res.status).toBe(200);
    expect(await isActive(grant.access_token)).toBe(false);
  });

  test('when the holder revokes an already revoked token, then 200 again', async () => {
    const grant = await grantOk(t, taskId, ['kv:demo/api-key'], { as: AGENT_A });
    expect((await revoke(AGENT_A, { token: grant.access_token })).status).toBe(200);
    expect((await revoke(AGENT_A, { token: grant.access_token })).status).toBe(200);
    expect(await isActive(grant.access_token)).toBe(false);
  });

  test('when the token parameter is missing, then 400 invalid_request', async () => {
    const res = await revoke(AGENT_A, { token_type_hint: 'access_token' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });
});
