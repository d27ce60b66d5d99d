import { randomUUID } from 'node:crypto';
import { BrokerError, IssuerMismatchError } from '../errors';
import type { Transport } from '../http/transport';
import type {
  DelegationOffer,
  DelegationRequest,
  Grant,
  GrantLineage,
  GrantRequest,
  RedeemOptions,
  RevokeResult,
  UsageCall,
  UsageResult,
} from './types';

/** RFC 8693 §2.1 / §3 identifiers. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

const seg = (id: string) => encodeURIComponent(id);
const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function grantBody(req: GrantRequest): Record<string, unknown> {
  const resource = list(req.resource);
  return {
    scopes: req.scopes,
    ...(req.audience !== undefined ? { audience: req.audience } : {}),
    ...(resource.length ? { resource } : {}),
    ...(req.ttl !== undefined ? { ttl: req.ttl } : {}),
    ...(req.context ? { context: req.context } : {}),
  };
}

/**
 * RFC 9207 §2.4: when the client knows the issuer it asks (from discovery), a grant answer must name it
 * in `iss`, and so must a refusal that names one at all.
 */
function fromIssuer(expected: string | undefined, answer: Promise<Grant>): Promise<Grant> {
  if (expected === undefined) return answer;
  return answer.then(
    (grant) => {
      if (grant.iss !== expected) throw new IssuerMismatchError(expected, grant.iss);
      return grant;
    },
    (err: unknown) => {
      const iss = err instanceof BrokerError ? err.details.iss : undefined;
      if (typeof iss === 'string' && iss !== expected) throw new IssuerMismatchError(expected, iss);
      throw err;
    },
  );
}

/** What an agent does with grants: request, delegate, redeem (a sub-agent), revoke. */
export function grantApi(t: Transport, issuer?: string) {
  /**
   * RFC 8693 token exchange: the offer is the subject token; this workload's own JWT-SVID the actor token
   * (over mTLS the certificate is the actor and no actor token is sent). Retried only after a 503: the
   * broker then released the offer, so it is redeemable again.
   */
  async function redeem(delegationToken: string, opts: RedeemOptions = {}): Promise<Grant> {
    const form: Array<[string, string]> = [
      ['grant_type', TOKEN_EXCHANGE_GRANT],
      ['subject_token', delegationToken],
      ['subject_token_type', JWT_TOKEN_TYPE],
    ];
    if (!t.mtls) form.push(['actor_token', await t.svid()], ['actor_token_type', JWT_TOKEN_TYPE]);
    if (opts.scopes?.length) form.push(['scope', opts.scopes.join(' ')]);
    if (opts.audience) form.push(['audience', opts.audience]);
    for (const r of list(opts.resource)) form.push(['resource', r]);
    return fromIssuer(issuer, t.call<Grant>('POST', '/oauth2/token', { form, retry: 'if-nothing-happened' }));
  }

  return {
    /**
     * Requests a grant in a task. Retried only after a 503 `unavailable`, which means nothing was issued;
     * never after a timeout or a dropped connection, when a grant may exist (it expires with its TTL).
     */
    request: (taskId: string, req: GrantRequest) =>
      fromIssuer(
        issuer,
        t.call<Grant>('POST', `/v1/tasks/${seg(taskId)}/grants`, {
          json: grantBody(req),
          retry: 'if-nothing-happened',
        }),
      ),
    /** Offers a narrower grant to another workload; returns the single-use delegation token. */
    delegate: (grantId: string, req: DelegationRequest) =>
      t.call<DelegationOffer>('POST', `/v1/grants/${seg(grantId)}/delegations`, {
        json: req,
        retry: 'if-nothing-happened',
      }),
    redeem,
    /** Revokes the grant and its whole subtree. Idempotent. */
    revoke: (grantId: string, reason?: string) =>
      t.call<RevokeResult>('POST', `/v1/grants/${seg(grantId)}/revoke`, {
        json: reason ? { reason } : {},
        retry: 'idempotent',
      }),
    /** RFC 7009 revocation by the token's holder; 200 even for an unknown or dead token. */
    revokeToken: (accessToken: string) =>
      t.call<void>('POST', '/oauth2/revoke', {
        form: [
          ['token', accessToken],
          ['token_type_hint', 'access_token'],
        ],
        retry: 'idempotent',
      }),
    /**
     * A resource server's report of the calls it served with the grant's token (action metering). The
     * report carries an id, so a retry after a lost answer counts once; the answer says whether the report
     * spent the grant's pool (the broker then revoked it). The resource-server kit batches these for you.
     */
    reportUsage: (grantId: string, calls: UsageCall[], opts: { reportId?: string } = {}) =>
      t.call<UsageResult>('POST', `/v1/grants/${seg(grantId)}/usage`, {
        json: { report_id: opts.reportId ?? randomUUID(), calls },
        retry: 'idempotent',
      }),
    lineage: (grantId: string) =>
      t.call<GrantLineage>('GET', `/v1/grants/${seg(grantId)}/lineage`, { retry: 'idempotent' }),
  };
}

export type GrantApi = ReturnType<typeof grantApi>;
