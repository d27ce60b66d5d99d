import { ORCHESTRATOR } from '../helpers/broker';
import type { BrokerProcess } from './support/broker-process';
import { CrashCluster } from './support/crash-cluster';
import { runCrashes } from './support/crash-run';
import { createFaultWorld, type FaultWorld } from './support/fault-world';
import {
  allTasks,
  demoLoginCount,
  liveDemoLogins,
  NOTHING_LEFT_ALIVE,
  nothingLeftAlive,
  placeLeftoverLogins,
  settled,
} from './support/invariants';
import { envNumber, seededRandom } from './support/random';
import { describeBackends, vaultBackends } from './support/vault-backends';

const CLOSES = envNumber('FAULTS_CRASH_CLOSES', 100);
/** Kills per point of the story: each restart costs seconds on a loaded machine, so kills are spaced out. */
const ROUNDS = envNumber('FAULTS_CRASH_ROUNDS', 2);
const GAP = Math.max(1, Math.round(CLOSES / (7 * ROUNDS)));

/** The orchestrator closes the tasks it lost track of (opened, but the answer died with the broker). */
async function closeStrayTasks(broker: BrokerProcess): Promise<number> {
  const open = await broker.call('GET', '/v1/tasks?status=open&limit=500', { as: ORCHESTRATOR });
  if (open.status !== 200) throw new Error(`list open tasks: ${open.status}`);
  for (const task of open.body.tasks as Array<{ id: string }>) {
    const r = await broker.call('POST', `/v1/tasks/${task.id}/close`, { as: ORCHESTRATOR, body: {} });
    if (r.status !== 200) throw new Error(`close stray task ${task.id}: ${r.status}`);
  }
  return open.body.tasks.length;
}

console.log(describeBackends('crash-anywhere'));

/**
 * Issue 11 §7: a broker SIGKILLed at any point of open / grant / delegate / redeem / revoke / close, or
 * while it revokes what a close queued, loses nothing. Over at least 100 closes of tasks with database
 * grants, with the broker killed at each point in turn and restarted each time, then restarted once more:
 * no password minted still logs in, no login Vault made can still log in or has a session, Vault holds no
 * token or lease of Grantline's (asked by listing and by looking up every recorded accessor and lease),
 * every receipt is complete, and the audit chain verifies.
 */
describe.each(vaultBackends().map((b) => [b.name, b] as const))(
  'a broker SIGKILLed anywhere (%s)',
  (_, choice) => {
    let world: FaultWorld;
    let cluster: CrashCluster;

    beforeAll(async () => {
      world = await createFaultWorld(choice);
      cluster = new CrashCluster(world);
      await cluster.start();
    }, 120_000);
    afterAll(async () => {
      await world?.close();
    });

    test(`when the broker is killed at every point over ${CLOSES} closes and restarted, then nothing issued survives`, async () => {
      const rnd = seededRandom(`crash-${choice.name}`);
      const started = Date.now();
      const report = await runCrashes({
        cluster,
        rnd,
        svid: world.svid,
        target: CLOSES,
        lanes: 3,
        closesBetween: [Math.max(1, GAP - 2), GAP + 2],
      });
      await cluster.killAndRestart();
      const broker = await cluster.current();
      const strays = await closeStrayTasks(broker);
      const settledAt = Date.now();
      const allSettled = await settled(world, 60_000);
      const tasks = await allTasks(world);
      const figures = {
        vault: world.backend.version,
        seed: rnd.seed,
        seconds: Math.round((Date.now() - started) / 1000),
        closes: report.closes,
        closesWithDbGrant: report.closesWithDbGrant,
        tasks: tasks.length,
        strayTasksClosedAtEnd: strays,
        kills: report.kills.length + 1,
        killsByPoint: report.kills.reduce<Record<string, string>>((acc, k) => {
          const [n, inFlight] = (acc[k.point] ?? '0/0').split('/').map(Number);
          acc[k.point] = `${n! + 1}/${inFlight! + (k.inFlight ? 1 : 0)}`;
          return acc;
        }, {}),
        restartMsMedian: [...cluster.restartsMs].sort((a, b) => a - b)[
          Math.floor(cluster.restartsMs.length / 2)
        ],
        crashedRequests: report.crashedRequests,
        statuses: report.statuses,
        passwordsTried: report.minted.length,
        demoRolesRemaining: await demoLoginCount(world),
        settleMsAfterLastRestart: Date.now() - settledAt,
      };
      console.log(JSON.stringify({ crashAnywhere: figures }, null, 1));
      const leftover = await liveDemoLogins(world);
      if (leftover.length)
        console.log(JSON.stringify({ leftoverLogins: placeLeftoverLogins(leftover, report.kills) }, null, 1));

      // All at once, so a failure shows every broken promise, not just the first.
      expect({
        settled: allSettled,
        unexpectedAnswers: report.unexpected,
        enoughCloses: report.closesWithDbGrant >= CLOSES,
        everyPointKilled: new Set(report.kills.map((k) => k.point)).size,
        ...(await nothingLeftAlive(world, broker, report.minted)),
      }).toEqual({
        settled: true,
        unexpectedAnswers: [],
        enoughCloses: true,
        everyPointKilled: 7,
        ...NOTHING_LEFT_ALIVE,
      });
    }, 900_000);
  },
);
