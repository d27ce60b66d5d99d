import { mintDevJwtSvid } from '../../server/dev/identity/dev-trust-domain';
import {
  AGENT_A,
  APPROVER,
  eventually,
  ORCHESTRATOR,
  RESOURCE,
  startTestBroker,
  type TestBroker,
} from '../helpers/broker';
import { dumpAllTables, grantOk, introspect, openTask, rawCall, requestGrant } from '../helpers/scenario';

/**
 * DESIGN "Rules": no secret value (Vault tokens, passwords, access tokens, SVIDs) is ever logged or
 * stored in PostgreSQL; only lease ids, token accessors and hashes. After a whole story (grant, use,
 * introspect, revoke, close, revocation done) neither the broker's log lines nor any row of any table
 * contains one.
 */
describe('no secret value reaches the logs or the database', () => {
  let t: TestBroker;
  const secrets = new Map<string, string>();
  beforeAll(async () => {
    t = await startTestBroker();
  });
  afterAll(async () => {
    await t?.broker.vault.devVault?.start();
    await t?.stop();
  });

  /** A JWT is also caught by its signature alone (a log line could carry a truncated token). */
  const remember = (name: string, value: string) => {
    expect(value.length).toBeGreaterThanOrEqual(8);
    secrets.set(name, value);
    const parts = value.split('.');
    if (parts.length === 3) secrets.set(`${name} (signature)`, parts[2]!);
  };

  test('when a full story ran, then no log line and no row contains a secret value', async () => {
    const taskId = await openTask(t);
    const approval = await t.call('POST', `/v1/tasks/${taskId}/approvals`, {
      as: APPROVER,
      body: { scope: 'tool:demo:deploy', approver: 'alice' },
    });
    expect(approval.status).toBe(201);
    const grant = await grantOk(t, taskId, ['db:demo:read', 'kv:demo/api-key', 'tool:demo:deploy']);
    const byScope = Object.fromEntries(grant.secrets.map((s) => [s.scope, s.data]));
    remember('access token', grant.access_token);
    remember('db password', byScope['db:demo:read']!.password!);
    remember('kv api key', byScope['kv:demo/api-key']!.api_key!);
    remember('scope vault token', byScope['tool:demo:deploy']!.token!);
    const custody = (kind: string, id: string) =>
      t.broker.vault.vault.readKv(t.broker.vault.brokerToken, `secret/data/grantline/custody/${kind}/${id}`);
    remember('grant vault token', (await custody('grant', grant.grant_id)).token as string);
    remember('task vault token', (await custody('task', taskId)).token as string);
    for (const id of [ORCHESTRATOR, AGENT_A, RESOURCE, APPROVER]) remember(`svid ${id}`, await t.svid(id));
    remember('vault root token', t.broker.vault.brokerToken);

    expect((await introspect(t, grant.access_token)).body.active).toBe(true);
    // A refused SVID (wrong audience) and a garbage bearer must not be logged either.
    const foreign = await mintDevJwtSvid({
      home: t.home,
      spiffeId: AGENT_A,
      audience: 'someone-else',
      ttlSeconds: 300,
    });
    remember('refused svid', foreign);
    expect(
      (await rawCall(t, 'GET', '/v1/tasks', { headers: { authorization: `Bearer ${foreign}` } })).status,
    ).toBe(401);
    const garbage = 'Zm9vYmFyLXNlY3JldC12YWx1ZS10aGF0LW11c3Qtbm90LWJlLWxvZ2dlZA';
    remember('garbage bearer', garbage);
    expect(
      (await rawCall(t, 'GET', '/v1/tasks', { headers: { authorization: `Bearer ${garbage}` } })).status,
    ).toBe(401);
    // The token in a query string must not be logged with the path.
    expect(
      (await rawCall(t, 'GET', `/v1/revocations?token=${grant.access_token}`, { as: RESOURCE })).status,
    ).toBe(400);

    const revoked = await t.call('POST', '/oauth2/revoke', {
      as: AGENT_A,
      form: { token: grant.access_token },
    });
    expect(revoked.status).toBe(200);

    // Error paths log the most: a grant refused while Vault is sealed, and a close while Vault is down.
    const second = await grantOk(t, taskId, ['db:demo:read', 'kv:demo/api-key']);
    remember('second access token', second.access_token);
    remember('second db password', second.secrets.find((x) => x.scope === 'db:demo:read')!.data.password!);
    const devVault = t.broker.vault.devVault!;
    devVault.setSealed(true);
    expect((await requestGrant(t, taskId, ['kv:demo/api-key'])).status).toBe(503);
    devVault.setSealed(false);
    await devVault.stop();
    expect((await t.call('POST', `/v1/tasks/${taskId}/close`, { as: ORCHESTRATOR, body: {} })).status).toBe(
      200,
    );
    const receipt = async () =>
      (await t.call('GET', `/v1/tasks/${taskId}/receipt`, { as: ORCHESTRATOR })).body;
    expect(await eventually(async () => (await receipt()).task_token.state === 'retrying')).toBe(true);
    await devVault.start();
    expect(await eventually(async () => (await receipt()).complete === true, 20_000)).toBe(true);

    expect(t.logs.length).toBeGreaterThan(20);
    expect(t.logs.some((l) => l.includes(grant.grant_id))).toBe(true);
    expect(t.logs.some((l) => l.includes('revocation incomplete, will retry'))).toBe(true);
    const rows = await dumpAllTables(t);
    expect(rows.some((r) => r.startsWith('grants:'))).toBe(true);
    const leaks: string[] = [];
    for (const [name, value] of secrets) {
      for (const line of t.logs)
        if (line.includes(value)) leaks.push(`log line holds ${name}: ${line.slice(0, 200)}`);
      for (const row of rows) if (row.includes(value)) leaks.push(`row holds ${name}: ${row.slice(0, 200)}`);
    }
    expect(leaks).toEqual([]);
  });
});
