import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../../server/config/config.errors';
import { audiencesOfScopes, loadScopeCatalogue } from '../../../server/config/scope-catalogue';

const dirWith = (scopes: unknown) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-scopes-'));
  fs.writeFileSync(path.join(dir, 'scopes.json'), JSON.stringify(scopes));
  return dir;
};

const scope = (extra: Record<string, unknown>) => ({
  cost: 1,
  sensitivity: 'low',
  vault: { kind: 'kv', path: 'secret/data/x' },
  ...extra,
});

function problemKeys(scopes: unknown): string[] {
  try {
    loadScopeCatalogue(dirWith(scopes));
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.key);
    throw err;
  }
  return [];
}

describe('the audiences a scope names in the catalogue', () => {
  test('when the shipped catalogue is loaded, then every scope names where its tokens are used', () => {
    const catalogue = loadScopeCatalogue(path.resolve(__dirname, '../../../config'));
    // An MCP tool's audience is its resource URL where it is deployed (RFC 8707): its tasks declare it.
    const declaredPerTask = new Set(['mcp:orders:read']);
    for (const [name, spec] of catalogue)
      expect([name, spec.audiences.length > 0 || declaredPerTask.has(name)]).toEqual([name, true]);
    expect(audiencesOfScopes(catalogue, ['kv:demo/api-key', 'db:demo:read'])).toEqual([
      'orders-api',
      'orders-db',
    ]);
  });

  test('when a scope names no audience, then it contributes none', () => {
    const catalogue = loadScopeCatalogue(dirWith({ 'kv:x': scope({}) }));
    expect(catalogue.get('kv:x')!.audiences).toEqual([]);
    expect(audiencesOfScopes(catalogue, ['kv:x'])).toEqual([]);
  });

  test.each([
    ['a string instead of a list', 'orders-api'],
    ['an empty audience', ['']],
    ['a non-string', [7]],
    ['an audience with a control character', ['orders\u0000api']],
  ])('when audiences is %s, then start-up fails naming the scope and field', (_what, audiences) => {
    expect(problemKeys({ 'kv:x': scope({ audiences }) })).toEqual([
      expect.stringMatching(/^config\/scopes\.json:kv:x\.audiences/),
    ]);
  });
});
