import type { IncomingMessage } from 'node:http';
import type { ServerOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { WorkloadApiClient } from '@grantline/sdk/workload-api';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import type { RefreshResult } from './trust-store';
import type { ServerSvidSource } from './workload-svid-source';

/** Who called: an authenticated SPIFFE workload. */
export interface Principal {
  spiffeId: string;
  trustDomain: string;
  path: string;
  via: 'jwt-svid' | 'x509-svid';
  /** RFC 8705 `x5t#S256`: base64url SHA-256 of the client certificate's DER (mTLS only). */
  certThumbprint?: string;
}

export interface IdentityConfig {
  /** Our own trust domain. */
  trustDomain: string;
  /** The audience a JWT-SVID must name to be accepted here. */
  audience: string;
  /** Our own trust domain's bundle: a file path or an https URL (SPIFFE bundle or JWKS). */
  bundle?: { source: string };
  federation: Array<{
    trustDomain: string;
    source: string;
    refreshHintSeconds?: number;
    /** The `https_spiffe` profile: the endpoint's SPIFFE ID and a bootstrap bundle file. */
    httpsSpiffe?: { endpointSpiffeId: string; bootstrapBundle: string };
  }>;
  maxSvidLifetimeSeconds: number;
  leewaySeconds: number;
  /** Bundles (following rotation) and the broker's own X509-SVID from the SPIFFE Workload API. */
  workloadApi?: { address: string; spiffeId?: string };
  /** Accept JWT-SVIDs whose `aud` names other services too (GRANTLINE_SVID_ALLOW_MULTI_AUDIENCE). */
  allowMultiAudience?: boolean;
  /** When set and no bundle is configured: use/create the dev trust domain under `<devHome>/dev-identity`. */
  devHome?: string;
}

export interface IdentityDeps {
  config: IdentityConfig;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
  /** A ready Workload API client (else one is made for `config.workloadApi.address`). */
  workloadApiClient?: WorkloadApiClient;
  /** Tests only: accept `http://` bundle sources on loopback. */
  allowInsecureBundleUrls?: boolean;
}

export interface IdentityService {
  /** Verifies a JWT-SVID (e.g. an RFC 8693 `actor_token`); throws Unauthenticated. */
  verifyJwtSvid(token: string): Promise<Principal>;
  /** Verifies the client certificate of an mTLS connection; throws Unauthenticated. */
  verifyPeer(socket: TLSSocket): Principal;
  /** The mTLS client certificate when the socket has one, else the Bearer JWT-SVID. */
  authenticate(req: IncomingMessage): Promise<Principal>;
  /** Options for the mTLS listener (PEM cert and key of the broker's own server certificate). */
  tlsServerOptions(cert: string, key: string): ServerOptions;
  readonly devMode: boolean;
  /** The broker's own trust domain (bare name). */
  readonly trustDomain: string;
  /** The broker's own X509-SVID from the Workload API (workload-api mode only; started by start()). */
  readonly serverSvid: ServerSvidSource | undefined;
  /** Loads every bundle (in dev mode the dev trust domain must have been created: server/wiring). */
  start(): Promise<void>;
  /** Reloads bundles now (all, or one trust domain); keeps the last good bundle on failure. */
  refreshNow(trustDomain?: string): Promise<RefreshResult[]>;
  stop(): void;
}
