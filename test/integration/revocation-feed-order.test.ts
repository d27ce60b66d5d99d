import http from 'node:http';
import pg from 'pg';
import { createDomainUnitOfWork } from '../../server/access/unit';
import { SSE_MAX_STREAMS } from '../../server/http/routes/revocations.routes';
import { createRevocationFeed } from '../../server/revocation/feed';
import { systemClock } from '../../server/shared/clock';
import { eventually, RESOURCE, startTestBroker, type TestBroker } from '../helpers/broker';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

const TASK = '00000000-0000-4000-8000-00000000feed';

async function begin(url: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('begin');
  return c;
}

describe('the revocation feed in commit order', () => {
  let db: TestDatabase;
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
  });
  afterAll(() => db?.drop());

  test('when a revocation commits after a later one, then a reader that already passed the later one still gets it', async () => {
    const feed = createRevocationFeed({ db: db.db, uow: createDomainUnitOfWork(db.db, systemClock) });
    const insert = (c: pg.Client, grant: string) =>
      c.query('insert into revocation_feed (grant_id, task_id, reason) values ($1, $2, $3)', [
        grant,
        TASK,
        'r',
      ]);
    const slow = await begin(db.url);
    const fast = await begin(db.url);
    try {
      await insert(slow, '00000000-0000-4000-8000-000000000001'); // inserted first …
      await insert(fast, '00000000-0000-4000-8000-000000000002');
      await fast.query('commit');
      const first = await feed.read({ after: 0, limit: 100 });
      expect(first.revocations.map((r) => r.jti)).toEqual(['00000000-0000-4000-8000-000000000002']);
      await slow.query('commit'); // … committed last
      const second = await feed.read({ after: first.next, limit: 100 });
      expect(second.revocations.map((r) => r.jti)).toEqual(['00000000-0000-4000-8000-000000000001']);
      expect(second.next).toBeGreaterThan(first.next);
    } finally {
      await slow.end();
      await fast.end();
    }
  });
});

describe('revocation streams that hang up', () => {
  let t: TestBroker;
  beforeAll(async () => {
    t = await startTestBroker();
  });
  afterAll(() => t?.stop());

  /** Opens a stream and hangs up before the broker has answered. */
  async function hangUpEarly(token: string): Promise<void> {
    await new Promise<void>((resolve) => {
      const req = http.get(`${t.broker.url}/v1/revocations`, {
        headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
      });
      req.on('error', () => resolve());
      // Once the request is on the wire, hang up: the broker is still authenticating and reading the feed.
      req.on('finish', () =>
        setImmediate(() => {
          req.destroy();
          resolve();
        }),
      );
    });
  }

  test('when more clients than the stream limit hang up early, then a new stream still opens and nothing is held', async () => {
    const token = await t.svid(RESOURCE);
    for (let i = 0; i < SSE_MAX_STREAMS + 20; i++) await hangUpEarly(token);
    const res = await fetch(`${t.broker.url}/v1/revocations`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    await res.body?.cancel();
    // Every slot comes back once the streams are gone.
    await eventually(async () => {
      const r = await fetch(`${t.broker.url}/v1/revocations`, {
        headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
      });
      const ok = r.status === 200;
      await r.body?.cancel();
      return ok;
    }, 5000);
  });
});
