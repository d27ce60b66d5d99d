import type { Evaluation } from './policy-decision.mapper';

/**
 * Cedar's answer is a pure function of the prepared schema and policy set and the request (its entities
 * and context travel with it; Grantline keeps no entity store and no policy reads the clock), so the
 * same request against the same set always gets the same answer. An agent repeats the same request
 * for each tool call of a task; re-evaluating it in Wasm was the largest single cost of a grant after
 * the database (issue 14's profile). Keys hold the set and schema names, which carry the policy digest.
 * Bounded: the oldest entry goes first. Callers get copies, so no one can alter what later callers see.
 */
export function createEvaluationCache(maxEntries: number) {
  const entries = new Map<string, Evaluation>();
  const copy = (e: Evaluation): Evaluation => ({
    allowed: e.allowed,
    policyIds: [...e.policyIds],
    errors: [...e.errors],
    reasons: [...e.reasons],
  });
  return {
    through(key: string, evaluate: () => Evaluation): Evaluation {
      const hit = entries.get(key);
      if (hit) return copy(hit);
      const fresh = evaluate();
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(key, copy(fresh));
      return fresh;
    },
    get size() {
      return entries.size;
    },
  };
}

export type EvaluationCache = ReturnType<typeof createEvaluationCache>;
