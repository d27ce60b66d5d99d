import { ManualClock } from '../../server/shared/clock';
import { startTestBroker, type TestBroker, tryLogin } from '../helpers/broker';
import { grantOk, openTask } from '../helpers/scenario';

/**
 * Reconciliation: a credential alive in Vault or the database without a live grant behind it (a broker
 * killed between minting and recording, a revocation that was lost) is found, revoked after the grace
 * period, and reported in the audit log.
 */
describe('reconciliation', () => {
  let t: TestBroker;
  const clock = new ManualClock(Date.now());
  beforeAll(async () => {
    t = await startTestBroker({ clock, manualBackground: true });
  });
  afterAll(() => t?.stop());

  test('when a grant token and a database login exist that no grant knows, then a dry run lists them and a pass after the grace period revokes both', async () => {
    const taskId = await openTask(t);
    const kept = await grantOk(t, taskId, ['db:demo:read']);
    // What a broker killed mid-mint leaves: a grant token and a login, with no grant row recording them.
    const vault = t.broker.vault.vault;
    const strayToken = await vault.createChildToken(t.broker.vault.brokerToken, {
      policies: ['grantline-demo-read'],
      ttlSeconds: 600,
      displayName: 'grantline-grant',
      meta: { grantline_grant: '00000000-0000-4000-8000-0000000000ff' },
    });
    const stray = await vault.readDynamicSecret(strayToken.clientToken, 'database/creds/demo-read');
    const creds = stray.data as { username: string; password: string };
    expect((await tryLogin(t, creds)).ok).toBe(true);

    const dry = await t.broker.reconcileOnce(true);
    const ids = dry.orphans.map((o) => o.id);
    expect(ids).toEqual(expect.arrayContaining([strayToken.accessor, stray.leaseId, creds.username]));
    expect(ids).not.toContain((kept.secrets[0]!.data as { username: string }).username);
    expect((await tryLogin(t, creds)).ok).toBe(true);

    // First sighting: the token waits out the grace period, but the login is proved lost at once (no
    // grant is being minted that could own it: it was made before any pending grant was reserved).
    const first = await t.broker.reconcileOnce();
    expect(first.revoked.map((o) => o.id)).toEqual([creds.username]);
    expect((await tryLogin(t, creds)).ok).toBe(false);
    expect(await vault.lookupTokenByAccessor(strayToken.accessor)).not.toBeNull();
    clock.advance(121_000);
    const pass = await t.broker.reconcileOnce();
    expect(pass.revoked.map((o) => o.id)).toEqual(expect.arrayContaining([strayToken.accessor]));
    expect(await vault.lookupTokenByAccessor(strayToken.accessor)).toBeNull();
    // The live grant's login is untouched, and every revocation is on the record.
    expect((await tryLogin(t, kept.secrets[0]!.data as { username: string; password: string })).ok).toBe(
      true,
    );
    const events = await t.broker.database.db
      .selectFrom('audit_events')
      .select(['type', 'payload'])
      .where('type', '=', 'reconcile.revoked')
      .execute();
    expect(events.map((e) => (e.payload as { id: string }).id)).toEqual(
      expect.arrayContaining([strayToken.accessor, creds.username]),
    );
  });
});
