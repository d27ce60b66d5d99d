import { foldDecisions, withinCeiling } from '../../../server/grants/issue/decide';
import { grantTtl } from '../../../server/grants/issue/ttl';
import { narrowScopes } from '../../../server/grants/narrow';
import type { Decision } from '../../../server/policy';
import { InvalidRequest, InvalidScope } from '../../../server/shared/errors';

const decision = (allowed: boolean, over: Partial<Decision> = {}): Decision => ({
  allowed,
  policyIds: [allowed ? 'permit-agents' : 'forbid-high-risk'],
  errors: [],
  policyVersion: 'v1',
  shadow: null,
  reasons: allowed ? [] : ['risk too high'],
  ...over,
});

describe('folding per-scope decisions', () => {
  test('when every scope is allowed, then the grant is, with the union of the permitting policies', () => {
    const d = foldDecisions([
      { scope: 'a', decision: decision(true, { policyIds: ['p2', 'p1'] }) },
      { scope: 'b', decision: decision(true, { policyIds: ['p1', 'p3'] }) },
    ]);
    expect(d).toMatchObject({ allowed: true, policyIds: ['p1', 'p2', 'p3'], reasons: [] });
  });

  test('when one scope is denied, then the grant is, naming that scope and only the forbidding policies', () => {
    const d = foldDecisions([
      { scope: 'a', decision: decision(true) },
      { scope: 'b', decision: decision(false) },
    ]);
    expect(d).toMatchObject({
      allowed: false,
      policyIds: ['forbid-high-risk'],
      reasons: ['b: risk too high'],
    });
  });

  test('when shadow policies decided too, then the shadow outcome is folded the same way', () => {
    const d = foldDecisions([
      { scope: 'a', decision: decision(true, { shadow: { allowed: true, policyIds: ['s1'] } }) },
      { scope: 'b', decision: decision(true, { shadow: { allowed: false, policyIds: ['s2'] } }) },
    ]);
    expect(d.shadow).toEqual({ allowed: false, policyIds: ['s1', 's2'] });
  });

  test('when there is no decision at all, then folding refuses (an empty scope set is never allowed)', () => {
    expect(() => foldDecisions([])).toThrow(/at least one/);
  });
});

describe('the task ceiling', () => {
  test('when an allowed grant asks for a scope outside the ceiling, then it becomes a deny naming it', () => {
    const d = withinCeiling(decision(true), ['a', 'x'], ['a', 'b']);
    expect(d).toMatchObject({ allowed: false, reasons: ["outside the task's ceiling: x"] });
  });

  test('when the scopes are inside the ceiling, or policy already denied, then the decision is unchanged', () => {
    const allow = decision(true);
    const deny = decision(false);
    expect(withinCeiling(allow, ['a'], ['a', 'b'])).toBe(allow);
    expect(withinCeiling(deny, ['x'], ['a'])).toBe(deny);
  });
});

describe('grant TTLs', () => {
  const limits = { defaultSeconds: 300, maxSeconds: 3600 };

  test.each([
    [undefined, 10_000, 300],
    ['10m', 10_000, 600],
    [7200, 10_000, 3600],
    ['1h', 120, 120],
  ])('when %p is asked with %ps left, then the grant lives %ps', (asked, left, expected) => {
    expect(grantTtl(asked as string | number | undefined, limits, left)).toBe(expected);
  });

  test.each([['soon'], [0], ['-5m']])('when %p is asked, then it is a 400', (asked) => {
    expect(() => grantTtl(asked, limits, 100)).toThrow(InvalidRequest);
  });
});

describe('narrowing scopes at a hop', () => {
  test('when the hop asks for a subset, then it gets it sorted and without duplicates', () => {
    expect(narrowScopes(['b', 'a', 'b'], ['a', 'b', 'c'], 'a delegation')).toEqual(['a', 'b']);
  });

  test('when the hop asks for more than it was given, then it is invalid_scope naming the widening', () => {
    const err = (() => {
      try {
        narrowScopes(['a', 'z'], ['a'], 'a delegation');
      } catch (e) {
        return e as InvalidScope;
      }
    })();
    expect(err).toBeInstanceOf(InvalidScope);
    expect(err?.details).toEqual({ widening: ['z'] });
  });

  test('when the hop asks for nothing, then it is invalid_scope', () => {
    expect(() => narrowScopes([], ['a'], 'a redemption')).toThrow(InvalidScope);
  });
});
