import { createTransport, type TransportOptions } from '../http/transport';
import { grantApi } from './grants';
import { taskApi } from './tasks';
import type {
  AuditCheckpoint,
  AuditCheckpointPage,
  AuditConsistencyProof,
  AuditInclusionProof,
  AuditPage,
  AuditVerification,
  Grant,
  GrantRequest,
  Introspection,
  RedeemOptions,
  RevocationPage,
} from './types';
import { runWithGrant } from './with-grant';

export interface GrantlineClientOptions extends TransportOptions {
  /**
   * The broker's RFC 8414 `issuer`, when the client learnt it by discovery: every grant answer must then
   * name it in `iss` (RFC 9207), else `IssuerMismatchError`.
   */
  issuer?: string;
}

/** RFC 8414 metadata, as the broker publishes it. */
export interface AuthorizationServerMetadata {
  issuer: string;
  token_endpoint: string;
  jwks_uri: string;
  introspection_endpoint: string;
  revocation_endpoint: string;
  scopes_supported?: string[];
  authorization_response_iss_parameter_supported?: boolean;
  [field: string]: unknown;
}

/**
 * A client of one broker, acting as one workload (its identity source). Orchestrators use `tasks`,
 * agents `grants` and `withGrant`, resource servers `introspect` and `revocations` (or the
 * resource-server kit, which wraps them).
 */
export function createGrantlineClient(opts: GrantlineClientOptions) {
  const transport = createTransport(opts);
  const tasks = taskApi(transport);
  const grants = grantApi(transport, opts.issuer);
  return {
    url: transport.baseUrl,
    tasks,
    grants,
    /** Requests a grant in `taskId`, runs `fn` with it, and revokes it when `fn` ends, whatever happens. */
    withGrant: <T>(taskId: string, req: GrantRequest, fn: (grant: Grant) => Promise<T> | T) =>
      runWithGrant(grants, () => grants.request(taskId, req), fn),
    /** Redeems a delegation, runs `fn` with the new grant, and revokes it when `fn` ends. */
    withRedeemedGrant: <T>(delegationToken: string, o: RedeemOptions, fn: (grant: Grant) => Promise<T> | T) =>
      runWithGrant(grants, () => grants.redeem(delegationToken, o), fn),
    /** RFC 7662, as a resource server (its SVID must be allowed to introspect). */
    introspect: (token: string) =>
      transport.call<Introspection>('POST', '/oauth2/introspect', {
        form: [['token', token]],
        retry: 'idempotent',
      }),
    revocations(q: { after?: number; limit?: number; task?: string } = {}) {
      const params = new URLSearchParams({ after: String(q.after ?? 0) });
      if (q.limit !== undefined) params.set('limit', String(q.limit));
      if (q.task) params.set('task', q.task);
      return transport.call<RevocationPage>('GET', `/v1/revocations?${params}`, { retry: 'idempotent' });
    },
    /** Auditors: the audit transparency log paged by leaf index, its verification, signed tree heads and RFC 9162 proofs. */
    audit: {
      events(q: { task?: string; grant?: string; principal?: string; after?: number; limit?: number } = {}) {
        const params = new URLSearchParams();
        for (const [k, v] of Object.entries(q)) if (v !== undefined) params.set(k, String(v));
        const query = params.size ? `?${params}` : '';
        return transport.call<AuditPage>('GET', `/v1/audit/events${query}`, { retry: 'idempotent' });
      },
      verify: () => transport.call<AuditVerification>('GET', '/v1/audit/verify', { retry: 'idempotent' }),
      /** The latest signed tree head. */
      checkpoint: () =>
        transport.call<AuditCheckpoint>('GET', '/v1/audit/checkpoint', { retry: 'idempotent' }),
      checkpoints(q: { after?: number; limit?: number } = {}) {
        const params = new URLSearchParams({ after: String(q.after ?? 0), limit: String(q.limit ?? 100) });
        return transport.call<AuditCheckpointPage>('GET', `/v1/audit/checkpoints?${params}`, {
          retry: 'idempotent',
        });
      },
      /** RFC 9162 inclusion proof of one event in the tree of `treeSize` (default: the latest checkpoint). */
      inclusionProof(leafIndex: number, treeSize?: number) {
        const query = treeSize === undefined ? '' : `?tree_size=${treeSize}`;
        return transport.call<AuditInclusionProof>('GET', `/v1/audit/events/${leafIndex}/proof${query}`, {
          retry: 'idempotent',
        });
      },
      consistencyProof(first: number, second?: number) {
        const params = new URLSearchParams({ first: String(first) });
        if (second !== undefined) params.set('second', String(second));
        return transport.call<AuditConsistencyProof>('GET', `/v1/audit/consistency?${params}`, {
          retry: 'idempotent',
        });
      },
    },
    metadata: () =>
      transport.call<AuthorizationServerMetadata>('GET', '/.well-known/oauth-authorization-server', {
        anonymous: true,
        retry: 'idempotent',
      }),
    /** @internal the transport, for the resource-server kit's feed. */
    transport,
    close: () => transport.close(),
  };
}

export type GrantlineClient = ReturnType<typeof createGrantlineClient>;
