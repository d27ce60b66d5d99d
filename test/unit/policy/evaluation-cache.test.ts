import { createEvaluationCache } from '../../../server/policy/evaluation-cache';
import type { Evaluation } from '../../../server/policy/policy-decision.mapper';

const allow = (id: string): Evaluation => ({
  allowed: true,
  policyIds: [id],
  errors: [],
  reasons: [`permitted by policy ${id}`],
});

describe('policy evaluation cache', () => {
  it('when the same request comes again, then Cedar is not asked again and the answer is the same', () => {
    const cache = createEvaluationCache(10);
    const evaluate = jest.fn(() => allow('p1'));
    const first = cache.through('k', evaluate);
    const second = cache.through('k', evaluate);
    expect(evaluate).toHaveBeenCalledTimes(1);
    expect(second).toEqual(first);
  });

  it('when a caller alters an answer it got, then later callers still get the original', () => {
    const cache = createEvaluationCache(10);
    const got = cache.through('k', () => allow('p1'));
    got.policyIds.push('forged');
    got.reasons.length = 0;
    const again = cache.through('k', () => allow('other'));
    again.errors.push('x');
    expect(cache.through('k', () => allow('other'))).toEqual(allow('p1'));
  });

  it('when different requests come, then each gets its own answer', () => {
    const cache = createEvaluationCache(10);
    cache.through('a', () => allow('pa'));
    expect(cache.through('b', () => ({ ...allow('pb'), allowed: false })).allowed).toBe(false);
    expect(cache.through('a', () => allow('x')).policyIds).toEqual(['pa']);
  });

  it('when it is full, then the oldest entry goes and the size stays bounded', () => {
    const cache = createEvaluationCache(3);
    for (const k of ['a', 'b', 'c', 'd']) cache.through(k, () => allow(k));
    expect(cache.size).toBe(3);
    const evaluate = jest.fn(() => allow('a2'));
    expect(cache.through('a', evaluate).policyIds).toEqual(['a2']);
    expect(evaluate).toHaveBeenCalledTimes(1);
  });
});
