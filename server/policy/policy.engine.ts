import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { Logger } from '../shared/logger';
import { createEvaluationCache, type EvaluationCache } from './evaluation-cache';
import { PolicyInputError } from './policy.errors';
import type { Decision, PolicyEngine, PolicyRequest } from './policy.types';
import { type Evaluation, toEvaluation, unevaluable } from './policy-decision.mapper';
import { readPolicySources } from './policy-files.loader';
import { buildCedarRequest, type CedarRequest } from './policy-request.builder';
import { type CompiledPolicySets, compilePolicySets } from './policy-set.compiler';

/**
 * Loads the schema and the enforced and shadow policies from `dir` (normally `config/policies`),
 * validates them and prepares them once. Throws PolicyLoadError, with Cedar's message, on any broken
 * policy or schema violation, so a bad policy stops start-up instead of silently denying or allowing.
 */
export function loadPolicyEngine(opts: { dir: string; logger: Logger }): PolicyEngine {
  const log = opts.logger.child({ module: 'policy' });
  const sources = readPolicySources(opts.dir);
  const sets = compilePolicySets(sources, log);
  log.info(
    {
      policyVersion: sources.version,
      enforced: sources.enforced.map((f) => f.name),
      shadow: sources.shadow.map((f) => f.name),
    },
    'policies loaded',
  );
  const cache = createEvaluationCache(EVALUATION_CACHE_ENTRIES);
  return {
    version: sources.version,
    authorize: (req) => authorize(req, { sets, cache }, sources.version, log),
  };
}

/** Distinct requests remembered per process (a few hundred bytes each). */
const EVALUATION_CACHE_ENTRIES = 10_000;

interface Prepared {
  sets: CompiledPolicySets;
  cache: EvaluationCache;
}

/** Synchronous: Cedar evaluates against the pre-parsed schema and policy sets. Deny by default. */
function authorize(req: PolicyRequest, p: Prepared, version: string, log: Logger): Decision {
  const { sets } = p;
  const request = tryBuild(req, log);
  // One serialisation of the request keys both sets' answers.
  const key = request.ok ? JSON.stringify(request.value) : '';
  const enforced = request.ok
    ? evaluate(sets.enforced[req.action], p, { request: request.value, key }, req)
    : request.failure;
  // No shadow policy can apply to this action: the shadow decision is the enforced one.
  const shadowSet = sets.shadow?.[req.action] ?? null;
  const shadow =
    sets.shadow &&
    (shadowSet && request.ok ? evaluate(shadowSet, p, { request: request.value, key }, req) : enforced);
  if (request.ok && enforced.errors.length > 0) {
    log.warn(
      { action: req.action, principal: principalName(req), errors: enforced.errors },
      'policy evaluation error',
    );
  }
  return {
    allowed: enforced.allowed,
    policyIds: enforced.policyIds,
    errors: enforced.errors,
    policyVersion: version,
    shadow: shadow && { allowed: shadow.allowed, policyIds: shadow.policyIds },
    reasons: enforced.reasons,
  };
}

const principalName = (req: PolicyRequest): string =>
  req.principal.kind === 'human'
    ? `${req.principal.issuer}#${req.principal.subject}`
    : req.principal.spiffeId;

type Built = { ok: true; value: CedarRequest } | { ok: false; failure: Evaluation };

function tryBuild(req: PolicyRequest, log: Logger): Built {
  try {
    return { ok: true, value: buildCedarRequest(req) };
  } catch (err) {
    if (!(err instanceof PolicyInputError)) throw err;
    // A caller bug, not a client error: loud in the log, and a denial, never an allow.
    log.error({ action: req.action, reason: err.message }, 'invalid policy request');
    return { ok: false, failure: unevaluable([err.message]) };
  }
}

function evaluate(
  setId: string,
  p: Prepared,
  built: { request: CedarRequest; key: string },
  req: PolicyRequest,
): Evaluation {
  return p.cache.through(`${p.sets.schemaName}\n${setId}\n${built.key}`, () => {
    const answer = cedar.statefulIsAuthorized({
      ...built.request,
      preparsedPolicySetId: setId,
      preparsedSchemaName: p.sets.schemaName,
      validateRequest: true,
    });
    return toEvaluation(answer, req.action);
  });
}
