import pg from 'pg';
import { startTestBroker, type TestBroker } from '../helpers/broker';
import { openTask, requestGrant } from '../helpers/scenario';

const KV = 'kv:demo/api-key';
const DB = 'db:demo:read';

/** Every statement any pg client of this process sends while `work` runs (background loops included). */
async function statementsDuring(work: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const original = pg.Client.prototype.query;
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  proto.query = function (this: unknown, ...args: unknown[]) {
    const q = args[0] as string | { text?: string };
    seen.push(typeof q === 'string' ? q : (q.text ?? ''));
    return (original as unknown as (...a: unknown[]) => unknown).apply(this, args);
  };
  try {
    await work();
  } finally {
    proto.query = original as unknown as typeof proto.query;
  }
  return seen.map((s) => s.replace(/\s+/g, ' ').trim());
}

/** Issue 14: a grant's database work is a read of the task and one statement per state change. */
describe('a direct grant: PostgreSQL round trips', () => {
  let t: TestBroker;
  beforeAll(async () => {
    t = await startTestBroker({ manualBackground: true });
  });
  afterAll(async () => {
    await t?.stop();
  });

  test('when a grant is issued, then the token record, reservation and activation are one statement each, with no BEGIN', async () => {
    const taskId = await openTask(t, { scopes: [KV] });
    await requestGrant(t, taskId, [KV]);
    let status = 0;
    const all = await statementsDuring(async () => {
      status = (await requestGrant(t, taskId, [KV])).status;
    });
    expect(status).toBe(201);
    const grantPath = all.filter((s) => /\b(tasks|grants)\b/.test(s) && !/ skip locked|limit \$/.test(s));
    expect(grantPath).toEqual([
      expect.stringMatching(/^select \* from "tasks" where "id" = \$1$/),
      expect.stringMatching(/^with "task_slot" as \( update tasks .*\(insert into grants \(/),
      expect.stringMatching(/^with "grant_active" as \( ?update grants .* insert into audit_events /),
    ]);
    // The grant token's record, made beside the secret's read, is one statement too: no transaction at all.
    expect(all.filter((s) => s === 'begin')).toHaveLength(0);
    expect(all.filter((s) => /^with "leases_row" as \(insert into leases /.test(s))).toHaveLength(1);
  });

  test('when a database grant is issued, then its leases are recorded in the activation statement, with no BEGIN', async () => {
    const taskId = await openTask(t);
    let status = 0;
    const all = await statementsDuring(async () => {
      status = (await requestGrant(t, taskId, [DB])).status;
    });
    expect(status).toBe(201);
    expect(all.filter((s) => s === 'begin')).toHaveLength(0);
    const activation = all.filter((s) => /^with "grant_active" as /.test(s));
    expect(activation).toHaveLength(1);
    expect(activation[0]).toMatch(/"leases_row" as \(insert into leases .* insert into audit_events /);
    const leases = await t.db.db
      .selectFrom('leases')
      .select(['kind', 'db_role'])
      .where('task_id', '=', taskId)
      .execute();
    expect(leases.map((l) => l.kind).sort()).toEqual(['grant_token', 'lease', 'task_token']);
    expect(leases.find((l) => l.kind === 'lease')?.db_role).toEqual(expect.any(String));
  });
});
