import fs from 'node:fs';
import path from 'node:path';
import { migrations } from '../../migrations';

describe('migrations index', () => {
  test('when a migration file exists, then it is listed in migrations/index.ts under its file name', () => {
    const dir = path.resolve(__dirname, '../../migrations');
    const files = fs
      .readdirSync(dir)
      .filter((f) => /^\d{4}_\d{2}_\d{2}_\d{4}_.+\.ts$/.test(f))
      .map((f) => f.replace(/\.ts$/, ''));
    expect(Object.keys(migrations).sort()).toEqual(files.sort());
  });

  test('when a migration imports, then it imports nothing from server/', () => {
    const dir = path.resolve(__dirname, '../../migrations');
    for (const f of fs.readdirSync(dir)) {
      expect(fs.readFileSync(path.join(dir, f), 'utf8')).not.toMatch(/from '\.\.\/server/);
    }
  });
});
