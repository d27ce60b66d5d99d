import type { AuthorizationAnswer } from '@cedar-policy/cedar-wasm/nodejs';
import { formatCedarError } from './cedar-error.formatter';
import type { PolicyAction } from './policy.types';

/** One policy set's verdict on one request. */
export interface Evaluation {
  allowed: boolean;
  policyIds: string[];
  errors: string[];
  reasons: string[];
}

/**
 * Turns Cedar's answer into a verdict. Cedar ignores a policy whose evaluation errors, so an erroring
 * `forbid` would silently stop forbidding; Grantline fails closed instead and denies on any error.
 */
export function toEvaluation(answer: AuthorizationAnswer, action: PolicyAction): Evaluation {
  if (answer.type === 'failure') {
    return unevaluable(answer.errors.map((e) => formatCedarError(e)));
  }
  const { decision, diagnostics } = answer.response;
  if (diagnostics.errors.length > 0) {
    const policyIds = [...new Set(diagnostics.errors.map((e) => e.policyId))].sort();
    return {
      allowed: false,
      policyIds,
      errors: diagnostics.errors.map((e) => `policy ${e.policyId}: ${e.error.message}`),
      reasons: policyIds.map((id) => `policy ${id} could not be evaluated`),
    };
  }
  // Sorted: Cedar's order is not specified, and audit records should be stable.
  const policyIds = [...diagnostics.reason].sort();
  if (decision === 'allow') {
    return {
      allowed: true,
      policyIds,
      errors: [],
      reasons: policyIds.map((id) => `permitted by policy ${id}`),
    };
  }
  const reasons =
    policyIds.length > 0 ? policyIds.map((id) => `denied by policy ${id}`) : [`no policy permits ${action}`];
  return { allowed: false, policyIds, errors: [], reasons };
}

/** The request could not be put to Cedar at all (facts missing or of the wrong type): deny. */
export function unevaluable(errors: string[]): Evaluation {
  return {
    allowed: false,
    policyIds: [],
    errors,
    reasons: ['the request could not be evaluated against the policies'],
  };
}
