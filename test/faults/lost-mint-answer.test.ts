import { setTimeout as sleep } from 'node:timers/promises';
import type { BrokerProcess } from './support/broker-process';
import { createFaultWorld, type FaultWorld } from './support/fault-world';
import { liveDemoLogins, settled } from './support/invariants';
import { story } from './support/story';
import { describeBackends, vaultBackends } from './support/vault-backends';

const ABORTED_READS = 300;
/** How the grant token of a grant is named (mint.ts): Vault's template makes its logins `v-token-gr-…`. */
const GRANT_DISPLAY_NAME = 'grantline-grant';

console.log(describeBackends('lost-mint-answer'));

/**
 * Reads of the demo role's credentials with a grant-like token, each abandoned 0-40 ms in (as a broker
 * SIGKILLed mid-mint, or its own Vault timeout, abandons one), then the token revoked as a close would:
 * Vault revokes every lease it registered. What is left is the logins whose lease was never registered.
 */
async function abandonReads(world: FaultWorld): Promise<string[]> {
  const token = await world.vault.createChildToken(world.backend.rootToken, {
    policies: ['grantline-demo-read'],
    ttlSeconds: 600,
    explicitMaxTtlSeconds: 600,
    displayName: GRANT_DISPLAY_NAME,
    meta: {},
  });
  for (let i = 0; i < ABORTED_READS; i++) {
    const abort = new AbortController();
    const read = fetch(`${world.proxy.url}/v1/database/creds/demo-read`, {
      headers: { 'X-Vault-Token': token.clientToken },
      signal: abort.signal,
    })
      .then((r) => r.text())
      .catch(() => undefined);
    await sleep(Math.random() * 40);
    abort.abort();
    await read;
  }
  await world.vault.revokeTokenByAccessor(token.accessor);
  // Vault revokes a revoked token's leases in the background.
  for (let i = 0; i < 100 && (await world.vault.listLeases('database/creds/demo-read/')).length; i++)
    await sleep(100);
  return liveDemoLogins(world);
}

/**
 * Issue 11 §7 (a crash at the grant point): Vault/OpenBao create the login before they register its
 * lease, so a read whose client hung up can leave a login no lease and no row tracks. The next close's
 * revocation must still leave no such login able to log in.
 */
describe.each(vaultBackends().map((b) => [b.name, b] as const))(
  'a minting answer lost mid-read (%s)',
  (name, choice) => {
    let world: FaultWorld;
    let broker: BrokerProcess;

    beforeAll(async () => {
      world = await createFaultWorld(choice);
      broker = await world.startBroker('broker-1');
    }, 120_000);
    afterAll(async () => {
      await world?.close();
    });

    test('when a read is abandoned after Vault made the login, then the next close revokes it', async () => {
      const leaked = await abandonReads(world);
      console.log(JSON.stringify({ lostMintAnswer: { vault: world.backend.version, leaked } }));
      // OpenBao leaves such logins (about 1 read in 15 here); the dev Vault registers before it answers.
      if (name === 'openbao') expect(leaked.length).toBeGreaterThan(0);
      const opened = await story.open(broker);
      expect(opened.status).toBe(201);
      expect((await story.close(broker, opened.body.id)).status).toBe(200);
      expect(await settled(world, 30_000)).toBe(true);
      expect(await liveDemoLogins(world)).toEqual([]);
    }, 300_000);
  },
);
