import fs from 'node:fs';
import pg from 'pg';
import type { DynamicSecret } from '../../server/vault';
import { eventually, startTestBroker, type TestBroker, tryLogin } from '../helpers/broker';
import { withDatabase } from '../helpers/database';
import {
  configDirWithScopes,
  grantRows,
  leaseRows,
  openTask,
  requestGrant,
  taskRow,
} from '../helpers/scenario';

const BROKEN = 'db:broken:read';
const BROKEN_POLICY = 'grantline-broken-read';

/**
 * DESIGN "HTTP API": 503 `unavailable` when Vault is down, with nothing half-issued. A grant that fails
 * half-way revokes what was already minted (the grant token, and with it the leases it owns).
 */
describe('grant issuance when Vault fails', () => {
  let t: TestBroker;
  let configDir: string;

  beforeAll(async () => {
    // A scope whose dynamic secret cannot be minted: its path names a database role Vault does not have.
    configDir = configDirWithScopes({
      [BROKEN]: {
        cost: 1,
        sensitivity: 'medium',
        vault: { kind: 'dynamic', path: 'database/creds/no-such-role' },
        audiences: ['orders-api'],
        policies: [BROKEN_POLICY],
      },
    });
    t = await startTestBroker({ env: { GRANTLINE_CONFIG_DIR: configDir } });
    await t.broker.vault.vault.writePolicy(BROKEN_POLICY, {
      path: { 'database/creds/no-such-role': { capabilities: ['read'] } },
    });
  });
  afterAll(async () => {
    await t?.stop();
    if (configDir) fs.rmSync(configDir, { recursive: true, force: true });
  });

  const devVault = () => t.broker.vault.devVault!;

  test('when Vault is stopped, then 503 unavailable, nothing is active, the quota is given back, and it works once Vault is back', async () => {
    const taskId = await openTask(t);
    await devVault().stop();
    try {
      const res = await requestGrant(t, taskId, ['db:demo:read']);
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('unavailable');
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await taskRow(t, taskId)).toEqual({
        status: 'open',
        grants_issued: 0,
        active_grants: 0,
        budget_spent: 0,
        actions_spent: 0,
      });
      const grants = await grantRows(t, taskId);
      expect(grants.map((g) => g.status)).toEqual(['failed']);
      expect((await leaseRows(t, taskId)).map((l) => l.kind)).toEqual(['task_token']);
      const ready = await t.call('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.vault).toBe('unavailable');
    } finally {
      await devVault().start();
    }
    const after = await requestGrant(t, taskId, ['db:demo:read']);
    expect(after.status).toBe(201);
    expect((await tryLogin(t, after.body.secrets[0].data)).ok).toBe(true);
    expect(await taskRow(t, taskId)).toMatchObject({ grants_issued: 1, active_grants: 1, budget_spent: 1 });
  });

  test('when Vault is sealed, then 503 unavailable and nothing is active; unsealed, then it works', async () => {
    const taskId = await openTask(t);
    devVault().setSealed(true);
    try {
      const res = await requestGrant(t, taskId, ['kv:demo/api-key']);
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('unavailable');
      expect(await taskRow(t, taskId)).toEqual({
        status: 'open',
        grants_issued: 0,
        active_grants: 0,
        budget_spent: 0,
        actions_spent: 0,
      });
      expect((await grantRows(t, taskId)).every((g) => g.status === 'failed')).toBe(true);
    } finally {
      devVault().setSealed(false);
    }
    expect((await requestGrant(t, taskId, ['kv:demo/api-key'])).status).toBe(201);
  });

  test('when the second scope cannot be minted, then 503 and the grant token and the lease already minted are revoked', async () => {
    const taskId = await openTask(t, { scopes: ['db:demo:read', BROKEN] });
    const minted: Array<Promise<DynamicSecret>> = [];
    const adapter = t.broker.vault.vault;
    const original = adapter.readDynamicSecret;
    // Capture what Vault handed out before the failure, to prove it no longer works.
    adapter.readDynamicSecret = (token, path) => {
      const p = original(token, path);
      minted.push(p);
      return p;
    };
    let res: Awaited<ReturnType<typeof requestGrant>>;
    try {
      res = await requestGrant(t, taskId, ['db:demo:read', BROKEN]);
    } finally {
      adapter.readDynamicSecret = original;
    }
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('unavailable');
    expect(JSON.stringify(res.body)).not.toMatch(/password|hvs\./);
    expect(await taskRow(t, taskId)).toEqual({
      status: 'open',
      grants_issued: 0,
      active_grants: 0,
      budget_spent: 0,
      actions_spent: 0,
    });
    const [grant] = await grantRows(t, taskId);
    expect(grant!.status).toBe('failed');

    const settled = await Promise.allSettled(minted);
    const creds = settled.find(
      (s): s is PromiseFulfilledResult<DynamicSecret> => s.status === 'fulfilled',
    )!.value;
    expect(creds.leaseId).toMatch(/^database\/creds\/demo-read\//);

    const leases = await leaseRows(t, taskId);
    const grantToken = leases.find((l) => l.kind === 'grant_token')!;
    const lease = leases.find((l) => l.kind === 'lease')!;
    expect(lease.vault_lease_id).toBe(creds.leaseId);
    expect(await adapter.lookupTokenByAccessor(grantToken.vault_token_accessor!)).toBeNull();
    expect(await eventually(async () => (await adapter.lookupLease(creds.leaseId)) === null)).toBe(true);
    expect(
      await eventually(
        async () => !(await tryLogin(t, creds.data as { username: string; password: string })).ok,
      ),
    ).toBe(true);
    expect(
      await eventually(async () =>
        (await leaseRows(t, taskId)).filter((l) => l.grant_id).every((l) => l.state === 'revoked'),
      ),
    ).toBe(true);
    expect(
      await eventually(async () => !(await roleExists(t, (creds.data as { username: string }).username))),
    ).toBe(true);

    const failed = await t.db.db
      .selectFrom('audit_events')
      .select('payload')
      .where('task_id', '=', taskId)
      .where('type', '=', 'grant.failed')
      .execute();
    expect(failed).toHaveLength(1);
    expect(failed[0]!.payload).toMatchObject({ minted_handles: 2 });
  });
});

/** Whether the PostgreSQL role that Vault created for a credential still exists. */
async function roleExists(t: TestBroker, role: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: withDatabase(t.db.url, t.demoDatabase) });
  await client.connect();
  try {
    const r = await client.query('select 1 from pg_roles where rolname = $1', [role]);
    return r.rowCount === 1;
  } finally {
    await client.end();
  }
}
