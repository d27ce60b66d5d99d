import type { Db } from '../../../server/db/database';
import { createUnitOfWork, insideUnitOfWork } from '../../../server/db/unit-of-work';
import { ManualClock } from '../../../server/shared/clock';
import { InternalError } from '../../../server/shared/errors';
import { createLogger } from '../../../server/shared/logger';
import { createVaultTransport } from '../../../server/vault/vault-transport';

/** A stand-in for kysely that records, in order, what a unit did to its transaction. */
function recordingDb(opts: { failCommit?: boolean } = {}) {
  const log: string[] = [];
  const chain = (label: string, rows: unknown[]) => {
    const q: Record<string, unknown> = {};
    for (const m of ['select', 'where', 'orderBy', 'skipLocked']) q[m] = () => q;
    q.forNoKeyUpdate = () => {
      log.push(label);
      return q;
    };
    q.executeTakeFirst = async () => rows[0];
    q.execute = async () => rows;
    return q;
  };
  const tx = { selectFrom: () => chain('lock tasks', [{ id: 't1' }]) };
  const db = {
    transaction: () => ({
      execute: async (fn: (t: unknown) => Promise<unknown>) => {
        log.push('begin');
        const value = await fn(tx);
        if (opts.failCommit) throw new Error('commit failed');
        log.push('commit');
        return value;
      },
    }),
  } as unknown as Db;
  return { db, log };
}

describe('the unit of work', () => {
  test('when a step runs on a task, then its row is locked first and audit events are appended last', async () => {
    const { db, log } = recordingDb();
    const uow = createUnitOfWork<string>({
      db,
      clock: new ManualClock(0),
      appendAudit: async (_tx, events) => void log.push(`audit ${events.join(',')}`),
    });
    const locked = await uow.run({ task: 't1' }, async (w, ids) => {
      w.audit('decision');
      log.push('write grant');
      w.audit('grant.issued');
      return ids;
    });
    expect(locked).toEqual(['t1']);
    expect(log).toEqual(['begin', 'lock tasks', 'write grant', 'audit decision,grant.issued', 'commit']);
  });

  test('when the unit commits, then after-commit callbacks run; when it rolls back, they never do', async () => {
    const ok = recordingDb();
    const ran: string[] = [];
    const uow = createUnitOfWork<string>({
      db: ok.db,
      clock: new ManualClock(0),
      appendAudit: async () => {},
    });
    await uow.run({}, async (w) => w.afterCommit(() => ran.push('kick')));
    expect(ran).toEqual(['kick']);

    const bad = recordingDb({ failCommit: true });
    const failing = createUnitOfWork<string>({
      db: bad.db,
      clock: new ManualClock(0),
      appendAudit: async () => {},
    });
    await expect(failing.run({}, async (w) => w.afterCommit(() => ran.push('never')))).rejects.toThrow(
      'commit',
    );
    expect(ran).toEqual(['kick']);
  });

  test('when a step fails, then nothing queued is appended and the error reaches the caller', async () => {
    const { db, log } = recordingDb();
    const uow = createUnitOfWork<string>({
      db,
      clock: new ManualClock(0),
      appendAudit: async () => void log.push('audit'),
    });
    await expect(
      uow.run({}, async (w) => {
        w.audit('x');
        throw new Error('limit refused');
      }),
    ).rejects.toThrow('limit refused');
    expect(log).toEqual(['begin']);
  });

  test('when code runs inside a unit, then it knows (the Vault adapter refuses to run there)', async () => {
    const { db } = recordingDb();
    const uow = createUnitOfWork<string>({ db, clock: new ManualClock(0), appendAudit: async () => {} });
    expect(insideUnitOfWork()).toBe(false);
    expect(await uow.run({}, async () => insideUnitOfWork())).toBe(true);
    expect(insideUnitOfWork()).toBe(false);
  });

  test('when a step calls Vault, then the call is refused before anything is sent', async () => {
    const { db } = recordingDb();
    const sent: string[] = [];
    const vault = createVaultTransport({
      client: {
        read: async (p) => void sent.push(p),
        write: async (p) => void sent.push(p),
        list: async (p) => void sent.push(p),
      },
      logger: createLogger({ level: 'silent' }),
      timeoutMs: 1000,
      retries: 0,
    });
    const uow = createUnitOfWork<string>({ db, clock: new ManualClock(0), appendAudit: async () => {} });
    const call = () => vault.call({ op: 'lookup', method: 'read', path: 'sys/health', idempotent: true });
    await expect(uow.run({}, call)).rejects.toBeInstanceOf(InternalError);
    expect(sent).toEqual([]);
    await call();
    expect(sent).toEqual(['sys/health']);
  });
});
