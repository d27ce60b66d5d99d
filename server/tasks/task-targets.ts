import { audiencesOfScopes, type ScopeCatalogue } from '../config/scope-catalogue';
import { isSpiffeId, parseSpiffeId } from '../identity/spiffe-id';
import { AccessDenied, InvalidRequest } from '../shared/errors';

/**
 * Who a task's grants may reach and where its tokens may be used, declared when the task opens:
 * - `audiences`: the `aud` values its access tokens may carry (default: what its scopes name in the
 *   catalogue);
 * - `delegates`: who besides its agents may receive a delegation, each an exact SPIFFE ID or a pattern
 *   `spiffe://<the broker's own trust domain>/<path>/*` admitting every workload below that path.
 *   A federated workload is only ever admitted by its exact ID: a partner names its own paths.
 */

const WILDCARD = '/*';

/** An exact workload SPIFFE ID, or a workload path of some trust domain followed by `/*`. */
export function isDelegatePattern(value: string): boolean {
  const base = value.endsWith(WILDCARD) ? value.slice(0, -WILDCARD.length) : value;
  return isSpiffeId(base, { requirePath: true });
}

const matches = (pattern: string, id: string): boolean =>
  pattern.endsWith(WILDCARD) ? id.startsWith(pattern.slice(0, -1)) : pattern === id;

/** Whether `spiffeId` may hold a grant of the task: one of its agents, or admitted by a delegate entry. */
export function admitsHolder(task: { agents: string[]; delegates: string[] }, spiffeId: string): boolean {
  return task.agents.includes(spiffeId) || task.delegates.some((p) => matches(p, spiffeId));
}

/** 403 (on the record by the caller) when a delegation would reach a workload the task never admitted. */
export function requireAdmitted(task: { agents: string[]; delegates: string[] }, spiffeId: string): void {
  if (admitsHolder(task, spiffeId)) return;
  const reason = `the task does not list ${spiffeId} as an agent or a delegate`;
  throw new AccessDenied(`${reason}; declare it in the task's delegates when it opens`, {
    reasons: [reason],
  });
}

const refuse = (field: string, problem: string): InvalidRequest =>
  new InvalidRequest(`invalid body: ${field} (${problem})`, { fields: [{ field, problem }] });

/** Delegates, sorted and unique; a wildcard may only cover paths of the broker's own trust domain. */
function checkDelegates(delegates: readonly string[], ownTrustDomain: string): string[] {
  delegates.forEach((entry, i) => {
    if (!entry.endsWith(WILDCARD)) return;
    const base = parseSpiffeId(entry.slice(0, -WILDCARD.length), { requirePath: true });
    if (base.trustDomain !== ownTrustDomain)
      throw refuse(
        `delegates.${i}`,
        'a wildcard may only cover the broker\u2019s own trust domain; name federated workloads exactly',
      );
  });
  return [...new Set(delegates)].sort();
}

/** The task's audiences: as declared, else what its scopes name in the catalogue (never none). */
function resolveAudiences(
  declared: readonly string[] | undefined,
  catalogue: ScopeCatalogue,
  ceiling: readonly string[],
): string[] {
  const audiences = declared ? [...new Set(declared)].sort() : audiencesOfScopes(catalogue, ceiling);
  if (audiences.length === 0)
    throw refuse(
      'audiences',
      'the task\u2019s scopes name no audience in the catalogue: declare the audiences',
    );
  return audiences;
}

/** Checks and normalises what a task declares at open about audiences and delegates (400 when wrong). */
export function resolveTaskTargets(
  deps: { catalogue: ScopeCatalogue; trustDomain: string },
  q: { ceiling: readonly string[]; audiences?: readonly string[]; delegates: readonly string[] },
): { audiences: string[]; delegates: string[] } {
  return {
    audiences: resolveAudiences(q.audiences, deps.catalogue, q.ceiling),
    delegates: checkDelegates(q.delegates, deps.trustDomain),
  };
}
