import {
  BrokerError,
  createGrantlineClient,
  devTrustDomain,
  type Grant,
  type GrantlineClient,
  type Task,
} from '@grantline/sdk';
import type pg from 'pg';
import { CliFailure } from '../../cli/client-options';
import { fetchLineage } from '../../cli/commands/inspect';
import { renderLineage } from '../../cli/lineage-render';
import { renderReceipt } from '../../cli/receipt-render';
import type { Receipt } from '../../revocation/receipt';
import type { DemoBroker } from './demo-broker';
import { countDemoRows, loginOf, waitForLoginToFail } from './demo-postgres';

const DOMAIN = 'spiffe://dev.grantline.local';
export const DEMO_ACTORS = {
  orchestrator: `${DOMAIN}/orchestrator/demo`,
  a: `${DOMAIN}/agent/a`,
  b: `${DOMAIN}/agent/b`,
  c: `${DOMAIN}/agent/c`,
  auditor: `${DOMAIN}/auditor/demo`,
} as const;
type Actor = keyof typeof DEMO_ACTORS;

export interface DemoContext {
  as: Record<Actor, GrantlineClient>;
  say(line: string): void;
  colour: boolean;
}

/** One `@grantline/sdk` client per actor, each with its own dev JWT-SVIDs. */
export function demoContext(broker: DemoBroker, say: (line: string) => void, colour: boolean): DemoContext {
  const client = (spiffeId: string) =>
    createGrantlineClient({
      url: broker.url,
      identity: devTrustDomain({ spiffeId, home: broker.home }),
      audience: broker.audience,
    });
  const as = Object.fromEntries(Object.entries(DEMO_ACTORS).map(([k, id]) => [k, client(id)])) as Record<
    Actor,
    GrantlineClient
  >;
  return { as, say, colour };
}

/** The broker must refuse `attempt`; returns its error, fails the demo if it was allowed. */
async function expectRefusal(what: string, attempt: Promise<unknown>): Promise<BrokerError> {
  try {
    await attempt;
  } catch (err) {
    if (err instanceof BrokerError && err.status >= 400 && err.status < 500) return err;
    throw err;
  }
  throw new CliFailure(`${what} was allowed, but the broker should have refused it`);
}

const refusal = (e: BrokerError) => `${e.status} ${e.code}: ${e.message.replace(` (${e.code})`, '')}`.trim();

type DbSecret = Parameters<typeof loginOf>[0];
const dbSecret = (g: Grant) => g.secrets.find((s) => s.scope === 'db:demo:read') as DbSecret;

async function openTask(ctx: DemoContext): Promise<Task> {
  const task = await ctx.as.orchestrator.tasks.open({
    purpose: 'grantline demo: count the demo orders',
    agents: [DEMO_ACTORS.a],
    delegates: [DEMO_ACTORS.b],
    scopes: ['db:demo:read', 'kv:demo/api-key'],
    ttl: '10m',
    limits: { budget: 10, max_depth: 2 },
    context: { task_type: 'demo', data_sensitivity: 'medium', risk_score: 10 },
  });
  ctx.say(
    `orchestrator opened task ${task.id} for agent a: scopes ${task.scopes.join(', ')}, budget 10, max depth 2`,
  );
  return task;
}

async function useAsAgentA(
  ctx: DemoContext,
  taskId: string,
): Promise<{ grant: Grant; login: pg.ClientConfig }> {
  const grant = await ctx.as.a.grants.request(taskId, {
    scopes: ['db:demo:read'],
    audience: 'orders-db',
    ttl: '5m',
    context: { tool: 'psql', intent: 'count the demo orders' },
  });
  const login = loginOf(dbSecret(grant));
  ctx.say(
    `agent a got grant ${grant.grant_id} (db:demo:read, ${grant.expires_in}s): Vault minted login ${login.user}`,
  );
  ctx.say(
    `agent a queried PostgreSQL ${login.host}:${login.port}/${login.database}: ${await countDemoRows(login)} rows`,
  );
  return { grant, login };
}

async function delegateToB(
  ctx: DemoContext,
  grantA: Grant,
): Promise<{ grant: Grant; login: pg.ClientConfig }> {
  const offer = await ctx.as.a.grants.delegate(grantA.grant_id, {
    to: DEMO_ACTORS.b,
    scopes: ['db:demo:read'],
    ttl: 120,
    budget: 2,
    may_redelegate: false,
  });
  ctx.say(
    `agent a offered agent b db:demo:read (ttl 2m, budget 2, no re-delegation): offer ${offer.offer_id}`,
  );
  const grant = await ctx.as.b.grants.redeem(offer.delegation_token, { audience: 'orders-db' });
  const login = loginOf(dbSecret(grant));
  ctx.say(`agent b redeemed it with its own SVID: grant ${grant.grant_id}, its own login ${login.user}`);
  ctx.say(`agent b queried PostgreSQL: ${await countDemoRows(login)} rows`);
  return { grant, login };
}

async function showRefusals(ctx: DemoContext, grantA: Grant, grantB: Grant): Promise<void> {
  const second = await ctx.as.a.grants.delegate(grantA.grant_id, {
    to: DEMO_ACTORS.b,
    scopes: ['db:demo:read'],
    ttl: 60,
    budget: 1,
    may_redelegate: false,
  });
  const widen = await expectRefusal(
    'widening a db:demo:read offer to kv:demo/api-key',
    ctx.as.b.grants.redeem(second.delegation_token, { scopes: ['kv:demo/api-key'] }),
  );
  ctx.say(`agent b tried to redeem a db:demo:read offer as kv:demo/api-key: refused (${refusal(widen)})`);
  const redelegate = await expectRefusal(
    're-delegating a grant that forbids it',
    ctx.as.b.grants.delegate(grantB.grant_id, {
      to: DEMO_ACTORS.c,
      scopes: ['db:demo:read'],
      ttl: 60,
    }),
  );
  ctx.say(`agent b tried to re-delegate to agent c: refused (${refusal(redelegate)})`);
}

async function closeAndCheckLogins(
  ctx: DemoContext,
  taskId: string,
  logins: Record<string, pg.ClientConfig>,
) {
  const receipt = await ctx.as.orchestrator.tasks.close(taskId, 'demo finished');
  ctx.say(
    `orchestrator closed the task: ${receipt.summary.grants} grants inactive, ${receipt.summary.leases} tokens and leases being revoked`,
  );
  for (const [who, login] of Object.entries(logins)) {
    const refused = await waitForLoginToFail(login, 5000);
    if (refused === null)
      throw new CliFailure(`${who}'s database login still works 5 s after the task closed`);
    ctx.say(`${who}'s login ${login.user} no longer works: ${refused}`);
  }
}

async function settledReceipt(ctx: DemoContext, taskId: string, timeoutMs = 5000): Promise<Receipt> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = (await ctx.as.orchestrator.tasks.receipt(taskId)) as unknown as Receipt;
    if (r.complete || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 250));
  }
}

async function showEvidence(ctx: DemoContext, taskId: string): Promise<void> {
  const receipt = await settledReceipt(ctx, taskId);
  const lineage = await fetchLineage(ctx.as.auditor, taskId);
  ctx.say('the auditor reads the lineage:');
  for (const line of renderLineage(lineage, { colour: ctx.colour })) ctx.say(`   ${line}`);
  ctx.say('the revocation receipt:');
  for (const line of renderReceipt(receipt)) ctx.say(`   ${line}`);
  const v = await ctx.as.auditor.audit.verify();
  if (!v.ok)
    throw new CliFailure(
      `the audit log is BROKEN at leaf ${v.broken_at?.leaf_index}: ${v.broken_at?.reason}`,
    );
  ctx.say(
    `the auditor verified the audit log: ok, ${v.checked} events, root ${v.root_hash}, ${v.checkpoints_checked} signed checkpoints`,
  );
}

/** The story of the README, step by step against a live broker; throws on the first thing that goes wrong. */
export async function runDemoStory(ctx: DemoContext): Promise<void> {
  try {
    const task = await openTask(ctx);
    const a = await useAsAgentA(ctx, task.id);
    const b = await delegateToB(ctx, a.grant);
    await showRefusals(ctx, a.grant, b.grant);
    await closeAndCheckLogins(ctx, task.id, { 'agent a': a.login, 'agent b': b.login });
    await showEvidence(ctx, task.id);
  } finally {
    for (const client of Object.values(ctx.as)) await client.close();
  }
}
