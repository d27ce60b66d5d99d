import { setTimeout as sleep } from 'node:timers/promises';
import { type CrashCluster, Crashed, type KillPoint, type Op } from './crash-cluster';
import { DB_SCOPE, KV_SCOPE } from './fault-world';
import type { MintedLogin } from './invariants';
import { loginsOf, story } from './story';

/** What the run needs of a cluster: one broker restarted in turn (CrashCluster) or two sharing the load. */
export type KillableCluster = Pick<CrashCluster, 'send' | 'next' | 'killAndRestart' | 'closed'>;

const POINTS: KillPoint[] = ['open', 'grant', 'offer', 'redeem', 'revoke', 'close', 'revocation'];
/** How long after the chosen moment the kill lands (ms): inside the request, or inside the revocation job. */
const KILL_DELAY_MS: Record<KillPoint, [number, number]> = {
  open: [0, 40],
  grant: [0, 80],
  offer: [0, 30],
  redeem: [0, 80],
  revoke: [0, 40],
  close: [0, 40],
  revocation: [0, 400],
};

export interface CrashRunReport {
  closes: number;
  closesWithDbGrant: number;
  kills: Array<{ point: KillPoint; inFlight: boolean; downMs: number; at: Date }>;
  crashedRequests: Partial<Record<Op, number>>;
  statuses: Record<string, number>;
  unexpected: Array<{ op: Op; status: number; body: unknown }>;
  minted: MintedLogin[];
  taskIds: string[];
}

interface Ctx {
  cluster: KillableCluster;
  rnd: { next(): number; between(lo: number, hi: number): number };
  svid: (id: string) => Promise<string>;
  report: CrashRunReport;
  /** The kill points to go through, in turn (default: all of them). */
  points: KillPoint[];
  stop: boolean;
  failure?: unknown;
}

const EXPECTED: Record<Op, number> = {
  open: 201,
  grant: 201,
  offer: 201,
  redeem: 200,
  revoke: 200,
  close: 200,
};

/** One request; undefined when the broker died under it or the answer was not the expected one (recorded). */
async function attempt(ctx: Ctx, op: Op, send: Parameters<CrashCluster['send']>[1]) {
  try {
    const r = (await ctx.cluster.send(op, send)) as { status: number; body: any };
    ctx.report.statuses[`${op} ${r.status}`] = (ctx.report.statuses[`${op} ${r.status}`] ?? 0) + 1;
    if (r.status === EXPECTED[op]) return r.body;
    ctx.report.unexpected.push({ op, status: r.status, body: r.body });
    return undefined;
  } catch (err) {
    if (!(err instanceof Crashed)) throw err;
    ctx.report.crashedRequests[op] = (ctx.report.crashedRequests[op] ?? 0) + 1;
    return undefined;
  }
}

/** The orchestrator retries its close until a broker answers it (close is idempotent). */
async function closeUntilDone(ctx: Ctx, taskId: string, hadDbGrant: boolean) {
  for (let tries = 0; tries < 50; tries++) {
    const body = await attempt(ctx, 'close', (b) => story.close(b, taskId));
    if (body) {
      ctx.report.closes++;
      if (hadDbGrant) ctx.report.closesWithDbGrant++;
      ctx.cluster.closed();
      return;
    }
    await sleep(100);
  }
  throw new Error(`task ${taskId} could not be closed in 50 tries`);
}

/** open → grant (db, sometimes kv too) → offer → redeem → sometimes revoke → close; a crash skips to close. */
async function taskStory(ctx: Ctx) {
  const opened = await attempt(ctx, 'open', (b) => story.open(b));
  if (!opened) return; // a task whose answer was lost stays open: the final sweep closes it
  const taskId = opened.id as string;
  ctx.report.taskIds.push(taskId);
  let hadDbGrant = false;
  try {
    const scopes = ctx.rnd.next() < 0.3 ? [DB_SCOPE, KV_SCOPE] : [DB_SCOPE];
    const grant = await attempt(ctx, 'grant', (b) => story.grant(b, taskId, scopes));
    if (!grant) return;
    hadDbGrant = true;
    ctx.report.minted.push(...loginsOf(grant));
    const offer = await attempt(ctx, 'offer', (b) => story.offer(b, grant.grant_id));
    if (!offer) return;
    const child = await attempt(ctx, 'redeem', (b) => story.redeem(b, offer.delegation_token, ctx.svid));
    if (!child) return;
    ctx.report.minted.push(...loginsOf(child));
    if (ctx.rnd.next() < 0.4) {
      const target = ctx.rnd.next() < 0.5 ? grant.grant_id : child.grant_id;
      await attempt(ctx, 'revoke', (b) => story.revoke(b, target));
    }
  } finally {
    await closeUntilDone(ctx, taskId, hadDbGrant);
  }
}

async function lane(ctx: Ctx) {
  try {
    while (!ctx.stop) await taskStory(ctx);
  } catch (err) {
    ctx.failure ??= err;
    ctx.stop = true;
  }
}

/** Until the run has its closes and has killed the broker at every point at least once. */
const running = (ctx: Ctx, target: number) =>
  !ctx.stop && (ctx.report.closesWithDbGrant < target || ctx.report.kills.length < ctx.points.length);

/** Kills the broker at each point in turn, a few closes apart, until the run has its closes. */
async function killer(ctx: Ctx, target: number, closesBetween: [number, number]) {
  for (let i = 0; running(ctx, target); i++) {
    const from = ctx.report.closes;
    const gap = ctx.rnd.between(...closesBetween);
    while (ctx.report.closes - from < gap && running(ctx, target)) await sleep(20);
    if (!running(ctx, target)) return;
    const point = ctx.points[i % ctx.points.length]!;
    const moment = await Promise.race([ctx.cluster.next(point), sleep(20_000).then(() => undefined)]);
    if (!moment) throw new Error(`no ${point} request came within 20 s`);
    await sleep(ctx.rnd.between(...KILL_DELAY_MS[point]));
    const inFlight = moment.pending();
    const at = new Date();
    const downMs = await ctx.cluster.killAndRestart();
    ctx.report.kills.push({ point, inFlight, downMs, at });
  }
}

/**
 * Issue 11 §7: runs `lanes` orchestrator/agent stories against one broker at a time and SIGKILLs it at
 * every point in turn (a request of each kind in flight, or the revocation after a close), restarting
 * it each time, until `target` tasks with database grants have been closed.
 */
export async function runCrashes(q: {
  cluster: KillableCluster;
  rnd: Ctx['rnd'];
  svid: Ctx['svid'];
  target: number;
  lanes: number;
  closesBetween: [number, number];
  points?: KillPoint[];
}): Promise<CrashRunReport> {
  const report: CrashRunReport = {
    closes: 0,
    closesWithDbGrant: 0,
    kills: [],
    crashedRequests: {},
    statuses: {},
    unexpected: [],
    minted: [],
    taskIds: [],
  };
  const points = q.points ?? POINTS;
  const ctx: Ctx = { cluster: q.cluster, rnd: q.rnd, svid: q.svid, report, points, stop: false };
  const lanes = Array.from({ length: q.lanes }, () => lane(ctx));
  try {
    await killer(ctx, q.target, q.closesBetween);
  } finally {
    ctx.stop = true;
    await Promise.all(lanes);
  }
  if (ctx.failure) throw ctx.failure;
  return report;
}
