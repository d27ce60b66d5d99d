import { InvalidSpiffeId, type SpiffeIdProblem } from '../../../server/identity/identity.errors';
import { isSpiffeId, parseSpiffeId, parseTrustDomain } from '../../../server/identity/spiffe-id';

const problemOf = (fn: () => unknown): SpiffeIdProblem | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof InvalidSpiffeId) return err.problem;
    throw err;
  }
};

describe('parseSpiffeId', () => {
  it.each([
    ['spiffe://example.org', 'example.org', ''],
    ['spiffe://example.org/workload', 'example.org', '/workload'],
    ['spiffe://example.org/ns/prod/sa/Agent-1_v2.0', 'example.org', '/ns/prod/sa/Agent-1_v2.0'],
    ['spiffe://a_b-c.9/x', 'a_b-c.9', '/x'],
    ['spiffe://192.168.1.10/agent', '192.168.1.10', '/agent'],
    ['spiffe://example.org/...', 'example.org', '/...'],
    ['spiffe://example.org/.hidden', 'example.org', '/.hidden'],
  ])('when given %s, then it returns the parts unchanged', (input, trustDomain, path) => {
    expect(parseSpiffeId(input)).toEqual({ id: input, trustDomain, path });
  });

  it.each<[string, SpiffeIdProblem, string]>([
    ['empty', 'empty', ''],
    ['no scheme', 'wrong_scheme', 'example.org/workload'],
    ['uppercase scheme', 'wrong_scheme', 'SPIFFE://example.org/workload'],
    ['wrong scheme', 'wrong_scheme', 'https://example.org/workload'],
    ['one slash', 'wrong_scheme', 'spiffe:/example.org/workload'],
    ['no trust domain', 'missing_trust_domain', 'spiffe:///workload'],
    ['scheme only', 'missing_trust_domain', 'spiffe://'],
    ['uppercase trust domain', 'trust_domain_uppercase', 'spiffe://Example.org/workload'],
    ['port', 'port', 'spiffe://example.org:8443/workload'],
    ['userinfo', 'userinfo', 'spiffe://user@example.org/workload'],
    ['userinfo with password', 'port', 'spiffe://u:p@example.org/w'],
    ['query', 'query', 'spiffe://example.org/workload?x=1'],
    ['query on trust domain', 'query', 'spiffe://example.org?x=1'],
    ['fragment', 'fragment', 'spiffe://example.org/workload#frag'],
    ['empty segment', 'empty_segment', 'spiffe://example.org/a//b'],
    ['dot segment', 'dot_segment', 'spiffe://example.org/a/./b'],
    ['dot-dot segment', 'dot_segment', 'spiffe://example.org/a/../b'],
    ['final dot segment', 'dot_segment', 'spiffe://example.org/a/..'],
    ['trailing slash', 'trailing_slash', 'spiffe://example.org/workload/'],
    ['root slash', 'trailing_slash', 'spiffe://example.org/'],
    ['percent-encoding in path', 'percent_encoding', 'spiffe://example.org/work%20load'],
    ['percent-encoding in trust domain', 'percent_encoding', 'spiffe://exa%6Dple.org/w'],
    ['space', 'bad_path_char', 'spiffe://example.org/work load'],
    ['non-ASCII', 'bad_path_char', 'spiffe://example.org/wörkload'],
    ['IPv6', 'bad_trust_domain_char', 'spiffe://[::1]/workload'],
    ['colon in path', 'bad_path_char', 'spiffe://example.org/a:b'],
    ['NUL byte', 'bad_path_char', 'spiffe://example.org/a\u0000b'],
    ['newline', 'bad_path_char', 'spiffe://example.org/a\nb'],
    ['backslash', 'bad_trust_domain_char', 'spiffe://example.org\\evil/w'],
    ['over 2048 bytes', 'too_long', `spiffe://example.org/${'a'.repeat(2048)}`],
    ['trust domain over 255 bytes', 'trust_domain_too_long', `spiffe://${'a'.repeat(256)}/w`],
  ])('when the ID has %s, then it is rejected as %s', (_case, problem, input) => {
    expect(problemOf(() => parseSpiffeId(input))).toBe(problem);
  });

  it('when the ID is exactly 2048 bytes, then it is accepted', () => {
    const id = `spiffe://example.org/${'a'.repeat(2048 - 'spiffe://example.org/'.length)}`;
    expect(id.length).toBe(2048);
    expect(parseSpiffeId(id).id).toBe(id);
  });

  it('when a path is required and the ID names only a trust domain, then it is rejected', () => {
    expect(problemOf(() => parseSpiffeId('spiffe://example.org', { requirePath: true }))).toBe(
      'missing_path',
    );
  });

  it('when rejecting, then the message never echoes the input', () => {
    try {
      parseSpiffeId('spiffe://example.org/secret\nvalue');
      throw new Error('expected a rejection');
    } catch (err) {
      expect((err as Error).message).not.toContain('secret');
      expect((err as InvalidSpiffeId).status).toBe(400);
    }
  });

  it('when a non-string sneaks in, then it is rejected as empty rather than crashing', () => {
    expect(problemOf(() => parseSpiffeId(undefined as unknown as string))).toBe('empty');
  });
});

describe('parseTrustDomain', () => {
  it.each([
    ['example.org', 'example.org'],
    ['spiffe://example.org', 'example.org'],
  ])('when given %s, then it returns the bare name', (input, name) => {
    expect(parseTrustDomain(input)).toBe(name);
  });

  it.each<[string, SpiffeIdProblem]>([
    ['', 'missing_trust_domain'],
    ['Example.org', 'trust_domain_uppercase'],
    ['example.org:443', 'port'],
    ['spiffe://example.org/workload', 'unexpected_path'],
    ['example.org/workload', 'unexpected_path'],
  ])('when given %j, then it is rejected as %s', (input, problem) => {
    expect(problemOf(() => parseTrustDomain(input))).toBe(problem);
  });
});

describe('isSpiffeId', () => {
  it('when asked about valid and invalid IDs, then it answers without throwing', () => {
    expect(isSpiffeId('spiffe://example.org/a')).toBe(true);
    expect(isSpiffeId('spiffe://example.org', { requirePath: true })).toBe(false);
    expect(isSpiffeId('spiffe://example.org/a/../b')).toBe(false);
  });
});
