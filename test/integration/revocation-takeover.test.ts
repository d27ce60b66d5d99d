import pg from 'pg';
import { createDomainUnitOfWork } from '../../server/access/unit';
import { createJobClaims } from '../../server/revocation/job-claims';
import { enqueueJob, finishJob, rescheduleJob } from '../../server/revocation/revocation.repository';
import { systemClock } from '../../server/shared/clock';
import { createLogger } from '../../server/shared/logger';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

const TASK = '00000000-0000-4000-8000-0000000000aa';

/**
 * Crash takeover: a revocation job's claim is an advisory lock of the claiming worker's own database
 * session, so a broker that dies (its session with it) frees its jobs at once, and any live broker takes
 * them over on its next poll; the claim token fences the dead worker's late writes.
 */
describe('revocation job claims', () => {
  let db: TestDatabase;
  const sessions: pg.Client[] = [];
  const connect =
    (name = 'test') =>
    async () => {
      const c = new pg.Client({ connectionString: db.url, application_name: name });
      await c.connect();
      sessions.push(c);
      return c;
    };
  const logger = createLogger({ level: 'silent' });

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.db
      .insertInto('tasks')
      .values({
        id: TASK,
        owner: 'o',
        purpose: 'p',
        agents: ['a'],
        scopes: ['s'],
        ttl_seconds: 60,
        max_grants: 1,
        max_active: 1,
        max_depth: 0,
        max_fanout: 0,
        budget: 0,
        vault_token_accessor: null,
        policy_version: 'v',
        expires_at: new Date(Date.now() + 60_000),
      })
      .execute();
    const uow = createDomainUnitOfWork(db.db, systemClock);
    await uow.run({}, (w) =>
      enqueueJob(w.tx, {
        taskId: TASK,
        kind: 'revoke_task',
        payload: {},
        dueAt: new Date(Date.now() - 1000),
      }),
    );
  });
  afterAll(async () => {
    for (const s of sessions) await s.end().catch(() => undefined);
    await db?.drop();
  });

  test('when the worker holding a job dies, then another takes it over on its next poll and the dead one cannot finish it', async () => {
    const a = createJobClaims({ db: db.db, connect: connect('worker-a'), logger });
    const b = createJobClaims({ db: db.db, connect: connect('worker-b'), logger });
    const [held] = await a.claimDue(new Date(), 8);
    expect(held).toBeDefined();
    expect(await b.claimDue(new Date(), 8)).toEqual([]); // held by a live worker: not claimable

    // The broker dies: PostgreSQL ends its session, and every lock it held goes with it.
    const died = Date.now();
    const admin = await connect('admin')();
    await admin.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'worker-a'",
    );
    let taken: Awaited<ReturnType<typeof b.claimDue>> = [];
    while (taken.length === 0 && Date.now() - died < 2000) {
      taken = await b.claimDue(new Date(), 8);
      if (taken.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(taken.map((j) => j.id)).toEqual([held!.id]);
    expect(Date.now() - died).toBeLessThan(2000);
    expect(taken[0]!.claim).not.toBe(held!.claim);

    // Fenced: the dead worker's late writes for the job change nothing; the new claim's do.
    const uow = createDomainUnitOfWork(db.db, systemClock);
    expect(await uow.run({}, (w) => finishJob(w.tx, { id: held!.id, claim: held!.claim, now: w.now }))).toBe(
      false,
    );
    expect(
      await rescheduleJob(db.db, { id: held!.id, claim: held!.claim, dueAt: new Date(), error: null }),
    ).toBe(false);
    expect(
      await uow.run({}, (w) => finishJob(w.tx, { id: held!.id, claim: taken[0]!.claim, now: w.now })),
    ).toBe(true);
    await a.close();
    await b.close();
  });

  test('when another worker holds the oldest due jobs, then a poll still finds the younger ones', async () => {
    const uow = createDomainUnitOfWork(db.db, systemClock);
    const enqueue = (ageMs: number) =>
      uow.run({}, (w) =>
        enqueueJob(w.tx, {
          taskId: TASK,
          kind: 'revoke_grants',
          payload: {},
          dueAt: new Date(Date.now() - ageMs),
        }),
      );
    for (let i = 0; i < 20; i++) await enqueue(60_000 - i);
    const a = createJobClaims({ db: db.db, connect: connect('worker-a2'), logger });
    const b = createJobClaims({ db: db.db, connect: connect('worker-b2'), logger });
    const busy = await a.claimDue(new Date(), 16); // a works on the 16 oldest
    expect(busy).toHaveLength(16);
    const taken = await b.claimDue(new Date(), 4);
    expect(taken).toHaveLength(4);
    expect(taken.filter((j) => busy.some((x) => x.id === j.id))).toEqual([]);
    await a.close();
    await b.close();
  });
});
