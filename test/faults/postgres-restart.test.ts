import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ORCHESTRATOR } from '../helpers/broker';
import type { BrokerProcess } from './support/broker-process';
import { type DedicatedPostgres, startDedicatedPostgres } from './support/dedicated-postgres';
import { createFaultWorld, DB_SCOPE, type FaultWorld, KV_SCOPE } from './support/fault-world';
import { type MintedLogin, NOTHING_LEFT_ALIVE, nothingLeftAlive, settled } from './support/invariants';
import { type Answer, startOutageLoad } from './support/outage-load';
import {
  backlog,
  closeOpenTasks,
  deathsInLog,
  grantsNotRecorded,
  msUntilSequenced,
  msUntilServing,
  probeWhile,
  statusesBetween,
  unexpectedAnswers,
  untrackedTokens,
} from './support/pg-outage';
import { envNumber } from './support/random';
import { loginsOf, story } from './support/story';
import { describeBackends, vaultBackends } from './support/vault-backends';

/** How long PostgreSQL stays down (a restart or a failover takes seconds). */
const DOWN_MS = envNumber('FAULTS_PG_DOWN_MS', 4000);
/** The broker serves again this soon after PostgreSQL accepts connections (measured, reported). */
const SERVING_AGAIN_MS = 5000;
/** Everything queued before and during the outage is revoked this soon after PostgreSQL returns. */
const SETTLED_MS = 30_000;

/** The end state every scenario must reach: nothing alive, every receipt complete, the log verified. */
async function endState(world: FaultWorld, broker: BrokerProcess, minted: MintedLogin[]) {
  return {
    brokerExited: broker.child.hasExited(),
    deaths: deathsInLog(world, broker.name),
    ...(await nothingLeftAlive(world, broker, minted)),
  };
}

const CLEAN_END = {
  brokerExited: false,
  deaths: [],
  ...NOTHING_LEFT_ALIVE,
};

console.log(describeBackends('postgres-restart'));

let pgServer: DedicatedPostgres;
let logDir: string;
beforeAll(async () => {
  logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-faults-pg-'));
  pgServer = await startDedicatedPostgres(path.join(logDir, 'postgres.log'));
}, 60_000);
afterAll(async () => {
  await pgServer?.destroy();
  if (process.env.FAULTS_KEEP_LOGS) process.stderr.write(`faults: PostgreSQL log kept in ${logDir}\n`);
  else fs.rmSync(logDir, { recursive: true, force: true });
});

/**
 * Issue 11 §7: the broker's own PostgreSQL stopped fast (`pg_ctl stop -m fast`: every session is
 * terminated with 57P01) and started again on the same port and data directory, under load. The broker
 * (`grantline serve` as a process, both its workers) never dies, answers 503 and only 503 while the
 * database is away, serves again within seconds of its return, and nothing is half-issued or lost.
 */
describe.each(vaultBackends().map((b) => [b.name, b] as const))(
  'PostgreSQL restarted under the broker (%s)',
  (name, choice) => {
    let world: FaultWorld;
    let broker: BrokerProcess;
    beforeAll(async () => {
      const db = await pgServer.createDatabase(`grantline_broker_${name}`);
      world = await createFaultWorld(choice, { brokerDatabase: db });
      broker = await world.startBroker('broker', { GRANTLINE_WORKER_INTERVAL_MS: '250' });
    }, 120_000);
    afterAll(async () => {
      await pgServer.start();
      await world?.close();
      await world?.db.close();
    });

    test(`when PostgreSQL is stopped fast under open/grant/close load for ${DOWN_MS} ms and restarted, then only 503s while it is down and nothing is lost`, async () => {
      const spare = await story.open(broker); // grants are asked of it while PostgreSQL is down
      const load = startOutageLoad(broker, 4);
      const probes: Answer[] = [];
      while (load.grantIds.length < 6) await sleep(50);
      await pgServer.stopFast();
      const wentDown = Date.now();
      await probeWhile(
        [
          { op: 'list', send: () => broker.call('GET', '/v1/tasks?limit=1', { as: ORCHESTRATOR }) },
          { op: 'open', send: () => story.open(broker) },
          { op: 'grant', send: () => story.grant(broker, spare.body.id, [DB_SCOPE, KV_SCOPE]) },
        ],
        () => Date.now() - wentDown >= DOWN_MS,
        probes,
      );
      await pgServer.start();
      const cameBack = Date.now();
      const servingAfterMs = await msUntilServing(broker, cameBack, 30_000, probes);
      // Nothing half-issued: with no request in flight, every live token of the broker's is on a row.
      const resume = await load.quiesce();
      const untracked = await untrackedTokens(world);
      resume();
      await sleep(2000); // the load runs on, against a database that is back
      await load.stop();
      const strays = await closeOpenTasks(broker);
      const settledFrom = Date.now();
      const allSettled = await settled(world, SETTLED_MS);
      const answers = [...load.answers, ...probes];
      const whileDown = statusesBetween(answers, wentDown, cameBack);
      console.log(
        JSON.stringify(
          {
            postgresRestartUnderLoad: {
              vault: world.backend.version,
              downMs: cameBack - wentDown,
              servingAfterMs,
              untrackedTokensAfterRestart: untracked.length,
              settledMsAfterLoad: Date.now() - settledFrom,
              whileDown,
              all: statusesBetween(answers, 0, Number.POSITIVE_INFINITY),
              slowestAnswerMs: Math.max(...answers.map((a) => a.ms)),
              grantsIssued: load.grantIds.length,
              closes: load.closesAnswered.length,
              strayTasksClosed: strays,
            },
          },
          null,
          1,
        ),
      );
      expect({
        unexpected: unexpectedAnswers(answers),
        onlyRefusalsWhileDown: Object.keys(whileDown).every((k) => k.endsWith(' 503')),
        refusedWhileDown: Object.values(whileDown).reduce((a, b) => a + b, 0) > 0,
        servingAgainInTime: servingAfterMs >= 0 && servingAfterMs <= SERVING_AGAIN_MS,
        grantsNotRecorded: await grantsNotRecorded(world, load.grantIds),
        untracked,
        closesUnanswered: load.closesRequested.filter((id) => !load.closesAnswered.includes(id)),
        settled: allSettled,
        ...(await endState(world, broker, load.minted)),
      }).toEqual({
        unexpected: [],
        onlyRefusalsWhileDown: true,
        refusedWhileDown: true,
        servingAgainInTime: true,
        grantsNotRecorded: [],
        untracked: [],
        closesUnanswered: [],
        settled: true,
        ...CLEAN_END,
      });
    }, 120_000);

    test('when PostgreSQL is stopped fast while the revocation worker and the audit sequencer are mid-work, then both resume and finish once it is back', async () => {
      const tasks: string[] = [];
      const minted: MintedLogin[] = [];
      for (let i = 0; i < 8; i++) {
        const opened = await story.open(broker);
        const grant = await story.grant(broker, opened.body.id, [DB_SCOPE, KV_SCOPE]);
        expect([opened.status, grant.status]).toEqual([201, 201]);
        tasks.push(opened.body.id);
        minted.push(...loginsOf(grant.body));
      }
      const closes = await Promise.all(tasks.map((id) => story.close(broker, id)));
      const atStop = await backlog(world);
      await pgServer.stopFast();
      const wentDown = Date.now();
      await sleep(DOWN_MS);
      await pgServer.start();
      const cameBack = Date.now();
      const allSettled = await settled(world, SETTLED_MS);
      const settledAfterMs = Date.now() - cameBack;
      const sequencedMs = await msUntilSequenced(world, SETTLED_MS);
      const sequencedAfterMs = sequencedMs < 0 ? -1 : Date.now() - cameBack;
      console.log(
        JSON.stringify(
          {
            postgresRestartMidWork: {
              vault: world.backend.version,
              downMs: cameBack - wentDown,
              backlogAtStop: atStop,
              revokedMsAfterReturn: settledAfterMs,
              sequencedMsAfterReturn: sequencedAfterMs,
            },
          },
          null,
          1,
        ),
      );
      expect({
        closes: closes.map((c) => c.status),
        midWork: atStop.pendingJobs > 0,
        settled: allSettled,
        sequenced: sequencedMs >= 0,
        ...(await endState(world, broker, minted)),
      }).toEqual({
        closes: tasks.map(() => 200),
        midWork: true,
        settled: true,
        sequenced: true,
        ...CLEAN_END,
      });
    }, 120_000);
  },
);
