import { eventually, ORCHESTRATOR } from '../helpers/broker';
import { createFaultWorld, type FaultWorld } from './support/fault-world';
import { liveVaultHandles, settled } from './support/invariants';
import { story } from './support/story';
import { describeBackends, vaultBackends } from './support/vault-backends';

console.log(describeBackends('crash-open'));

/**
 * Issue 11 §4/§7: no Vault token nothing knows of, after a crash at any point. The narrowest gap of
 * open: Vault has created the task's token, and the broker dies before it hears back (so it never learns
 * the accessor). The task must still be there for its orchestrator to find and close, and its close must
 * revoke that token. (Before the fix the task row was written only after Vault answered: nothing knew of
 * the token, and it lived out its TTL unless reconciliation, minutes later, found it.)
 */
describe.each(vaultBackends().map((b) => [b.name, b] as const))('open killed mid-mint (%s)', (_, choice) => {
  let world: FaultWorld;
  beforeAll(async () => {
    world = await createFaultWorld(choice);
  }, 120_000);
  afterAll(async () => {
    await world?.close();
  });

  test('when the broker dies after Vault created the task token but before it answered, then the task can be closed and the token dies', async () => {
    const first = await world.startBroker('first');
    const before = new Set(await world.vault.listTokenAccessors());
    world.proxy.stall('answers');
    const open = story.open(first).catch((err: unknown) => err);
    const minted = await eventually(
      async () => {
        for (const a of await world.vault.listTokenAccessors())
          if (!before.has(a) && (await world.vault.lookupTokenByAccessor(a))?.meta?.grantline_task)
            return true;
        return false;
      },
      20_000,
      20,
    );
    expect(minted).toBe(true);
    await first.kill();
    expect(await open).not.toHaveProperty('status'); // no answer: the broker died under it
    await world.proxy.up();

    const second = await world.startBroker('second');
    const listed = await second.call('GET', '/v1/tasks?status=open', { as: ORCHESTRATOR });
    expect(listed.status).toBe(200);
    expect(listed.body.tasks).toHaveLength(1);
    const closed = await story.close(second, listed.body.tasks[0].id);
    expect(closed.status).toBe(200);
    expect(await settled(world, 20_000)).toBe(true);
    expect(await liveVaultHandles(world)).toEqual({ tokens: [], leases: [], recorded: [] });
    const receipt = await second.call('GET', `/v1/tasks/${listed.body.tasks[0].id}/receipt`, {
      as: ORCHESTRATOR,
    });
    expect(receipt.body).toMatchObject({ status: 'closed', complete: true });
    await second.stop();
  }, 180_000);
});
