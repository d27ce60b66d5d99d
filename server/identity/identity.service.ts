import type { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';
import { createWorkloadApiClient, type WorkloadApiClient } from '@grantline/sdk/workload-api';
import { Unauthenticated } from '../shared/errors';
import { authFailure } from './identity.errors';
import type { IdentityDeps, IdentityService, Principal } from './identity.types';
import { planIdentity } from './identity-config';
import { createJwtSvidVerifier, MAX_JWT_SVID_BYTES } from './jwt-svid-verifier';
import { buildTlsServerOptions, peerCertificateChain } from './mtls';
import { createTrustStore, type TrustStore } from './trust-store';
import { createWorkloadApiTrustStore } from './workload-api-trust-store';
import { createServerSvidSource, type ServerSvidSource } from './workload-svid-source';
import { verifyX509Svid } from './x509-svid-verifier';

type Via = Principal['via'] | 'none';

// RFC 6750 §2.1: `Bearer` (case-insensitive scheme) and one b64token.
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

function bearerToken(header: string | undefined): string {
  if (header === undefined || header.length === 0) {
    throw authFailure('missing_credential', 'send a JWT-SVID as a Bearer token, or a client certificate');
  }
  if (header.length > MAX_JWT_SVID_BYTES + 64) {
    throw authFailure('token_too_large', `a JWT-SVID is at most ${MAX_JWT_SVID_BYTES} bytes`);
  }
  const match = BEARER.exec(header);
  if (!match) throw authFailure('malformed', 'the Authorization header is not a Bearer token');
  return match[1]!;
}

const hasClientCertificate = (socket: unknown): socket is TLSSocket =>
  socket instanceof TLSSocket && peerCertificateChain(socket).length > 0;

/**
 * Authenticates SPIFFE workloads: JWT-SVIDs and mTLS X509-SVIDs, each verified against the bundle of
 * the trust domain named by the SVID's own SPIFFE ID. Every rejection is an `Unauthenticated` with a
 * stable reason, counted in `grantline_authentication_failures_total{reason,via}`.
 */
export function createIdentityService(deps: IdentityDeps): IdentityService {
  const { config, clock, metrics } = deps;
  const logger = deps.logger.child({ module: 'identity' });
  const plan = planIdentity(config, deps.allowInsecureBundleUrls ?? false);
  const polled = createTrustStore({ sources: plan.sources, logger, metrics });
  const workload = plan.workloadApi ? workloadApiParts(plan.workloadApi, polled) : undefined;
  const store: TrustStore = workload?.store ?? polled;
  const bundleFor = store.bundleFor;
  const verifyJwt = createJwtSvidVerifier({
    audience: config.audience,
    leewaySeconds: config.leewaySeconds,
    maxLifetimeSeconds: config.maxSvidLifetimeSeconds,
    allowMultiAudience: config.allowMultiAudience ?? false,
    bundleFor,
    clock,
  });
  const verifyChain = (socket: TLSSocket) =>
    verifyX509Svid(peerCertificateChain(socket), { bundleFor, clock });

  /** Counts and logs a rejection (its reason only: never the credential), then lets it propagate. */
  function recordFailure(err: unknown, via: Via): void {
    if (!(err instanceof Unauthenticated)) return;
    const counted = err.reason === 'missing_credential' ? 'none' : via;
    metrics.authFailures.inc({ reason: err.reason, via: counted });
    logger.info({ reason: err.reason, via: counted }, 'authentication failed');
  }

  async function counted<T>(via: Via, run: () => Promise<T> | T): Promise<T> {
    try {
      return await run();
    } catch (err) {
      recordFailure(err, via);
      throw err;
    }
  }

  /** In workload-api mode: bundles pushed by the Workload API, and the broker's own X509-SVID. */
  function workloadApiParts(
    wl: { address: string; spiffeId?: string },
    configured: TrustStore,
  ): { client: WorkloadApiClient; store: TrustStore; svid: ServerSvidSource } {
    const client = deps.workloadApiClient ?? createWorkloadApiClient({ address: wl.address });
    const store = createWorkloadApiTrustStore({
      client,
      ownTrustDomain: plan.trustDomain,
      configured,
      configuredDomains: new Set(plan.sources.map((s) => s.trustDomain)),
      logger,
    });
    logger.info(
      { address: wl.address },
      'trust bundles and the broker X509-SVID come from the SPIFFE Workload API',
    );
    return { client, store, svid: createServerSvidSource({ client, spiffeId: wl.spiffeId, logger }) };
  }

  async function startStore(): Promise<void> {
    try {
      await store.start();
      await workload?.svid.start();
    } catch (err) {
      stopAll();
      throw err;
    }
  }

  function stopAll(): void {
    store.stop();
    workload?.svid.stop();
    // A client handed in by the caller is the caller's to close.
    if (workload && !deps.workloadApiClient) workload.client.close();
  }

  return {
    devMode: plan.devMode,
    trustDomain: plan.trustDomain,
    serverSvid: workload?.svid,
    verifyJwtSvid: (token) => counted('jwt-svid', () => verifyJwt(token)),
    verifyPeer(socket) {
      try {
        return verifyChain(socket);
      } catch (err) {
        recordFailure(err, 'x509-svid');
        throw err;
      }
    },
    authenticate(req: IncomingMessage) {
      const socket = req.socket;
      if (hasClientCertificate(socket)) return counted('x509-svid', () => verifyChain(socket));
      return counted('jwt-svid', () => verifyJwt(bearerToken(req.headers.authorization)));
    },
    tlsServerOptions: (cert, key) => buildTlsServerOptions(cert, key, store.allX509Authorities()),
    start: startStore,
    refreshNow: (trustDomain) => store.refreshNow(trustDomain),
    stop: stopAll,
  };
}
