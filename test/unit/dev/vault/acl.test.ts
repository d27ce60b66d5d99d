import { comparePriority, compileAcl, parsePolicy, patternMatches } from '../../../../server/dev/vault/acl';
import { VaultApiError } from '../../../../server/dev/vault/vault-error';

const acl = (...docs: Record<string, string[]>[]) =>
  compileAcl(
    docs.map((d) =>
      parsePolicy({ path: Object.fromEntries(Object.entries(d).map(([p, c]) => [p, { capabilities: c }])) }),
    ),
  );

describe('ACL path patterns', () => {
  it('when a pattern ends in *, then it matches by prefix, across segments', () => {
    expect(patternMatches('database/creds/*', 'database/creds/ro')).toBe(true);
    expect(patternMatches('database/creds/*', 'database/creds/ro/x')).toBe(true);
    expect(patternMatches('database/cr*', 'database/creds/ro')).toBe(true);
    expect(patternMatches('database/creds/*', 'database/roles/ro')).toBe(false);
  });

  it('when a pattern has +, then it stands for exactly one segment', () => {
    expect(patternMatches('secret/+/config', 'secret/app/config')).toBe(true);
    expect(patternMatches('secret/+/config', 'secret/app/x/config')).toBe(false);
    expect(patternMatches('secret/+/data/*', 'secret/app/data/a/b')).toBe(true);
    expect(patternMatches('secret/+', 'secret/app/more')).toBe(false);
  });

  it('when two globs match, then the later first wildcard, then no trailing *, then fewer +, then longer wins', () => {
    const sorted = (...ps: string[]) => [...ps].sort(comparePriority);
    expect(sorted('secret/*', 'secret/data/*')[0]).toBe('secret/data/*');
    expect(sorted('secret/+/x*', 'secret/+/x')[0]).toBe('secret/+/x');
    expect(sorted('a/+/+/c', 'a/+/b/c')[0]).toBe('a/+/b/c');
    expect(sorted('secret/ab*', 'secret/abc*')[0]).toBe('secret/abc*');
  });
});

describe('ACL decisions', () => {
  it('when no rule matches, then everything is denied', () => {
    expect(acl({ 'secret/*': ['read'] }).allows('database/creds/ro', 'read')).toBe(false);
  });

  it('when an exact rule exists, then it wins over any glob', () => {
    const a = acl({ 'database/creds/*': ['read'], 'database/creds/admin': ['deny'] });
    expect(a.allows('database/creds/ro', 'read')).toBe(true);
    expect(a.allows('database/creds/admin', 'read')).toBe(false);
  });

  it('when the most specific glob lacks the capability, then a broader one does not help', () => {
    const a = acl({ 'secret/*': ['read', 'update'], 'secret/data/*': ['read'] });
    expect(a.allows('secret/data/x', 'update')).toBe(false);
    expect(a.allows('secret/other', 'update')).toBe(true);
  });

  it('when two policies name the same path, then capabilities merge and deny wins', () => {
    expect(acl({ 'kv/x': ['read'] }, { 'kv/x': ['update'] }).allows('kv/x', 'update')).toBe(true);
    expect(acl({ 'kv/x': ['read'] }, { 'kv/x': ['deny'] }).allows('kv/x', 'read')).toBe(false);
  });

  it('when listing, then an exact rule without the trailing slash governs the list path', () => {
    const a = acl({ 'database/roles': ['list'] });
    expect(a.allows('database/roles/', 'list')).toBe(true);
    expect(a.capabilities('database/roles/').has('list')).toBe(true);
  });
});

describe('policy parsing', () => {
  it('when the document is a JSON string, an object or HCL, then the same rules come out', () => {
    const json = parsePolicy('{"path": {"a/*": {"capabilities": ["read", "list"]}}}');
    const obj = parsePolicy({ path: { 'a/*': { capabilities: ['read', 'list'] } } });
    const hcl = parsePolicy('# comment\npath "a/*" {\n  capabilities = ["read", "list"]\n}\n');
    for (const rules of [json, obj, hcl]) expect([...rules.get('a/*')!].sort()).toEqual(['list', 'read']);
  });

  it('when the document is malformed or names an unknown capability, then a 400 error', () => {
    for (const bad of [
      '{"path": ',
      '{"nopath": {}}',
      'path "a" { caps = 1 }',
      { path: { a: { capabilities: ['fly'] } } },
    ]) {
      expect(() => parsePolicy(bad)).toThrow(VaultApiError);
    }
    const statusOf = (fn: () => unknown): number | undefined => {
      try {
        fn();
      } catch (err) {
        return (err as VaultApiError).status;
      }
      return undefined;
    };
    expect(statusOf(() => parsePolicy(''))).toBe(400);
  });
});
