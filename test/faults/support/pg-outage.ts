import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ORCHESTRATOR } from '../../helpers/broker';
import type { BrokerProcess } from './broker-process';
import type { FaultWorld } from './fault-world';
import { type Answer, HANG_MS } from './outage-load';

/**
 * Milliseconds from `since` until the broker answers a request that needs the database with 200
 * (asked every 50 ms; -1 when it does not within `timeoutMs`). Every answer on the way is recorded.
 */
export async function msUntilServing(
  broker: BrokerProcess,
  since: number,
  timeoutMs: number,
  answers: Answer[],
): Promise<number> {
  while (Date.now() - since < timeoutMs) {
    const started = Date.now();
    const r = await broker
      .call('GET', '/v1/tasks?status=open&limit=1', { as: ORCHESTRATOR })
      .catch((err: Error) => ({ status: 0, body: { error: `no answer: ${err.message}` } }));
    answers.push({ op: 'list', status: r.status, at: started, ms: Date.now() - started });
    if (r.status === 200) return Date.now() - since;
    await sleep(50);
  }
  return -1;
}

type Probe = { op: Answer['op']; send: () => ReturnType<BrokerProcess['call']> };

/**
 * Sends each of `probes` in turn, 100 ms apart, until `until()`: what callers see while PostgreSQL is
 * away (every answer recorded; one still unanswered after HANG_MS counts as a hang, status 0).
 */
export async function probeWhile(probes: Probe[], until: () => boolean, answers: Answer[]) {
  for (let i = 0; !until(); i++) {
    const probe = probes[i % probes.length]!;
    const started = Date.now();
    const r = await Promise.race([probe.send(), sleep(HANG_MS).then(() => ({ status: 0 }))]).catch(() => ({
      status: 0,
    }));
    answers.push({ op: probe.op, status: r.status, at: started, ms: Date.now() - started });
    await sleep(100);
  }
}

/** Waits until the sequencer has given every audit event a leaf; -1 if not within `timeoutMs`. */
export async function msUntilSequenced(world: FaultWorld, timeoutMs: number): Promise<number> {
  const since = Date.now();
  while (Date.now() - since < timeoutMs) {
    if ((await backlog(world)).unsequenced === 0) return Date.now() - since;
    await sleep(100);
  }
  return -1;
}

/** `"op status"` → count, for the answers that started at or after `from` and ended before `to`. */
export function statusesBetween(answers: Answer[], from: number, to: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of answers) {
    if (a.at < from || a.at + a.ms > to) continue;
    const key = `${a.op} ${a.status}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** The answers that are neither a success nor a 503 (a 500, a hang, a dropped connection). */
export function unexpectedAnswers(answers: Answer[]): Answer[] {
  return answers.filter((a) => ![200, 201, 503].includes(a.status));
}

/**
 * What says a broker process (or one of the workers of `serve`) died: the cluster primary's line for a
 * worker that exited, Node's "Unhandled 'error' event", an uncaught exception's stack header.
 */
export function deathsInLog(world: FaultWorld, brokerName: string): string[] {
  const text = fs.readFileSync(path.join(world.logDir, `${brokerName}.log`), 'utf8');
  return text
    .split('\n')
    .filter((l) => /a broker worker exited|Unhandled 'error' event|^node:internal|uncaughtException/.test(l));
}

/** Closes every task still open (opens whose answer was a 503 may have left their row behind). */
export async function closeOpenTasks(broker: BrokerProcess): Promise<number> {
  const open = await broker.call('GET', '/v1/tasks?status=open&limit=500', { as: ORCHESTRATOR });
  if (open.status !== 200) throw new Error(`list open tasks: ${open.status}`);
  for (const task of open.body.tasks as Array<{ id: string }>) {
    const r = await broker.call('POST', `/v1/tasks/${task.id}/close`, { as: ORCHESTRATOR, body: {} });
    if (r.status !== 200) throw new Error(`close task ${task.id}: ${r.status}`);
  }
  return open.body.tasks.length;
}

/** The ids among `grantIds` (grants that answered 201) that the broker database does not hold. */
export async function grantsNotRecorded(world: FaultWorld, grantIds: string[]): Promise<string[]> {
  if (grantIds.length === 0) return [];
  const rows = await world.db.db.selectFrom('grants').select('id').where('id', 'in', grantIds).execute();
  const recorded = new Set(rows.map((r) => r.id));
  return grantIds.filter((id) => !recorded.has(id));
}

/** Revocation jobs not done yet, and audit events the sequencer has not given a leaf yet. */
export async function backlog(world: FaultWorld): Promise<{ pendingJobs: number; unsequenced: number }> {
  const jobs = await world.db.db
    .selectFrom('revocation_jobs')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  const events = await world.db.db
    .selectFrom('audit_events')
    .leftJoin('audit_leaves', 'audit_leaves.seq', 'audit_events.seq')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('audit_leaves.seq', 'is', null)
    .where('audit_events.tx', 'is not', null)
    .executeTakeFirstOrThrow();
  return { pendingJobs: Number(jobs.n), unsequenced: Number(events.n) };
}

/**
 * Tokens alive in Vault (other than those it had before any broker ran) whose accessor no task or grant
 * row records: a token the broker created and lost track of. Asked while no request is in flight.
 */
export async function untrackedTokens(world: FaultWorld): Promise<string[]> {
  const leases = await world.db.db.selectFrom('leases').select('vault_token_accessor as a').execute();
  const grants = await world.db.db.selectFrom('grants').select('vault_token_accessor as a').execute();
  const tasks = await world.db.db.selectFrom('tasks').select('vault_token_accessor as a').execute();
  const recorded = new Set([...leases, ...grants, ...tasks].map((r) => r.a));
  const untracked: string[] = [];
  for (const accessor of await world.vault.listTokenAccessors()) {
    if (world.baselineAccessors.has(accessor) || recorded.has(accessor)) continue;
    if (await world.vault.lookupTokenByAccessor(accessor)) untracked.push(accessor);
  }
  return untracked;
}
