import { RESOURCE } from '../helpers/broker';
import type { BrokerProcess } from './support/broker-process';
import { createFaultWorld, DB_SCOPE, type FaultWorld, KV_SCOPE } from './support/fault-world';
import {
  allTasks,
  incompleteReceipts,
  liveDemoLogins,
  liveVaultHandles,
  type MintedLogin,
  settled,
  workingLogins,
} from './support/invariants';
import { envNumber } from './support/random';
import { loginsOf, story } from './support/story';
import { describeBackends, vaultBackends } from './support/vault-backends';

/** How long Vault is off the network (issue 11 asks for 60 s; CI may shorten it, the figure says which). */
const DOWN_SECONDS = envNumber('FAULTS_VAULT_DOWN_SECONDS', 60);
const TASKS = envNumber('FAULTS_VAULT_DOWN_TASKS', 12);
/** "Close returns at once" and "inactive at once", with room for a loaded shared machine. */
const AT_ONCE_MS = 2000;
const REVOKED_AFTER_RETURN_MS = 15_000;

interface Opened {
  taskId: string;
  tokens: string[];
  logins: MintedLogin[];
}

/** A task with a database grant (and a KV secret) for the agent, and a delegated database grant under it. */
async function openWithGrants(broker: BrokerProcess, world: FaultWorld): Promise<Opened> {
  const opened = await story.open(broker);
  if (opened.status !== 201) throw new Error(`open: ${opened.status}`);
  const grant = await story.grant(broker, opened.body.id, [DB_SCOPE, KV_SCOPE]);
  if (grant.status !== 201) throw new Error(`grant: ${grant.status}`);
  const offer = await story.offer(broker, grant.body.grant_id);
  const child = await story.redeem(broker, offer.body.delegation_token, world.svid);
  if (child.status !== 200) throw new Error(`redeem: ${child.status}`);
  return {
    taskId: opened.body.id,
    tokens: [grant.body.access_token, child.body.access_token],
    logins: [...loginsOf(grant.body), ...loginsOf(child.body)],
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Milliseconds from `since` until none of `logins` can log in (-1 if some still can after 10 s). */
async function msUntilRefused(world: FaultWorld, logins: MintedLogin[], since: number): Promise<number> {
  while (Date.now() - since < 10_000) {
    if ((await workingLogins(world, logins)).length === 0) return Date.now() - since;
    await sleep(50);
  }
  return -1;
}

console.log(describeBackends('vault-outage'));

/**
 * Issue 11 §7: Vault off the network for 60 s while tasks are being closed. Each close still answers at
 * once, its tokens are inactive at once (introspection) and its logins are locked out by the broker
 * itself; requests that need Vault get 503, never 500; and once Vault is back, every token and lease of
 * every closed task is revoked (and proved so) within 15 s.
 */
describe.each(vaultBackends().map((b) => [b.name, b] as const))(
  'Vault down during closes (%s)',
  (_, choice) => {
    let world: FaultWorld;
    let broker: BrokerProcess;
    beforeAll(async () => {
      world = await createFaultWorld(choice);
      broker = await world.startBroker('broker');
    }, 120_000);
    afterAll(async () => {
      await world?.proxy.up();
      await world?.close();
    });

    test(
      `when Vault is down for ${DOWN_SECONDS} s while ${TASKS} tasks close, then closes answer at once and all is revoked within 15 s of its return`,
      async () => {
        const tasks: Opened[] = [];
        for (let i = 0; i < TASKS; i++) tasks.push(await openWithGrants(broker, world));
        const spare = await openWithGrants(broker, world); // grants are asked of it during the outage
        const closeMs: number[] = [];
        const loginDeadMs: number[] = [];
        const stillActive: string[] = [];
        const statusesDuringOutage: Record<string, number> = {};
        const count = (what: string, status: number) =>
          (statusesDuringOutage[`${what} ${status}`] = (statusesDuringOutage[`${what} ${status}`] ?? 0) + 1);

        await world.proxy.down();
        const wentDown = Date.now();
        // The closes are spread over the outage, so some jobs have retried for the whole of it.
        for (const [i, task] of tasks.entries()) {
          await sleep(Math.max(0, wentDown + (i * DOWN_SECONDS * 1000) / (TASKS + 1) - Date.now()));
          const started = Date.now();
          const closed = await story.close(broker, task.taskId);
          closeMs.push(Date.now() - started);
          count('close', closed.status);
          // The broker locks the logins out itself, without Vault: the holder loses them within 3 s.
          loginDeadMs.push(await msUntilRefused(world, task.logins, started));
          for (const token of task.tokens) {
            const r = await broker.call('POST', '/oauth2/introspect', { as: RESOURCE, form: { token } });
            if (r.status !== 200 || r.body.active !== false) stillActive.push(task.taskId);
          }
          // What needs Vault is refused cleanly while it is away.
          count('open', (await story.open(broker)).status);
          count('grant', (await story.grant(broker, spare.taskId)).status);
        }
        count('close', (await story.close(broker, spare.taskId)).status);
        await sleep(Math.max(0, wentDown + DOWN_SECONDS * 1000 - Date.now()));
        await world.proxy.up();
        const cameBack = Date.now();

        // A job is done only once every handle it revoked was proved gone: the last one's done_at is the figure.
        const allDone = await settled(world, 90_000);
        const last = await world.db.db
          .selectFrom('revocation_jobs')
          .select((eb) => eb.fn.max('done_at').as('at'))
          .executeTakeFirstOrThrow();
        const revokedAfterMs = allDone && last.at ? new Date(last.at).getTime() - cameBack : -1;
        const jobs = await world.db.db.selectFrom('revocation_jobs').select(['attempts']).execute();
        console.log(
          JSON.stringify(
            {
              vaultOutage: {
                vault: world.backend.version,
                downSeconds: DOWN_SECONDS,
                tasksClosedWhileDown: TASKS,
                closeMsMax: Math.max(...closeMs),
                closeMsMedian: [...closeMs].sort((a, b) => a - b)[Math.floor(closeMs.length / 2)],
                loginsRefusedMsAfterCloseMax: Math.max(...loginDeadMs),
                statusesDuringOutage,
                jobAttemptsMax: Math.max(...jobs.map((j) => j.attempts)),
                allRevokedMsAfterVaultReturned: revokedAfterMs,
              },
            },
            null,
            1,
          ),
        );
        expect({
          closeMsMax: Math.max(...closeMs) < AT_ONCE_MS,
          stillActive,
          loginsDeadWithin3s: loginDeadMs.every((ms) => ms >= 0 && ms <= 3000),
          serverErrors: Object.keys(statusesDuringOutage).filter((k) => /\s5(?!03)\d\d$/.test(k)),
          closes: statusesDuringOutage['close 200'],
          refused: (statusesDuringOutage['open 503'] ?? 0) + (statusesDuringOutage['grant 503'] ?? 0),
          revokedInTime: revokedAfterMs >= 0 && revokedAfterMs <= REVOKED_AFTER_RETURN_MS,
          incompleteReceipts: await incompleteReceipts(
            broker,
            (await allTasks(world)).map((t) => t.id),
          ),
          liveLogins: await liveDemoLogins(world),
          liveVault: await liveVaultHandles(world),
        }).toEqual({
          closeMsMax: true,
          stillActive: [],
          loginsDeadWithin3s: true,
          serverErrors: [],
          closes: TASKS + 1,
          refused: 2 * TASKS,
          revokedInTime: true,
          incompleteReceipts: [],
          liveLogins: [],
          liveVault: { tokens: [], leases: [], recorded: [] },
        });
      },
      (DOWN_SECONDS + 240) * 1000,
    );
  },
);
