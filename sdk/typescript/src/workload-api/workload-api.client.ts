import {
  type CallOptions,
  type Client,
  type ClientReadableStream,
  credentials,
  loadPackageDefinition,
  Metadata,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import {
  decodeJwtBundles,
  decodeJwtSvids,
  decodeX509Bundles,
  decodeX509Context,
  type RawBundlesResponse,
  type RawJwtSvidResponse,
  type RawX509SvidResponse,
} from './decode';
import { endpointFromEnv, WorkloadEndpointInvalid, workloadApiTarget } from './spiffe-endpoint';
import type { JwtBundles, JwtSvid, X509Bundles, X509Context } from './svid.types';
import { type Watch, type WatchHandlers, type WatchOptions, watchStream } from './watch-stream';
import { toWorkloadApiError, WorkloadApiBadResponse } from './workload-api.errors';
import { WORKLOAD_API_DESCRIPTOR_SET } from './workload-proto.generated';

type Unary<Req, Res> = (
  req: Req,
  md: Metadata,
  opts: CallOptions,
  cb: (err: ServiceError | null, res: Res) => void,
) => void;
type Streaming<Req, Res> = (req: Req, md: Metadata, opts?: CallOptions) => ClientReadableStream<Res>;

interface RawClient extends Client {
  FetchJWTSVID: Unary<{ audience: string[]; spiffe_id: string }, RawJwtSvidResponse>;
  ValidateJWTSVID: Unary<{ audience: string; svid: string }, { spiffe_id: string; claims: unknown }>;
  FetchX509SVID: Streaming<Record<string, never>, RawX509SvidResponse>;
  FetchX509Bundles: Streaming<Record<string, never>, RawBundlesResponse>;
  FetchJWTBundles: Streaming<Record<string, never>, RawBundlesResponse>;
}

export interface WorkloadApiClientOptions {
  /** A Workload API address (`unix:///path` or `tcp://IP:port`); default: SPIFFE_ENDPOINT_SOCKET. */
  address?: string;
  /** Deadline of unary calls (FetchJWTSVID, ValidateJWTSVID); default 10 s. */
  timeoutMs?: number;
}

export interface FetchJwtSvidRequest {
  audience: string | string[];
  /** Ask for this identity only (recommended when the caller has several). */
  spiffeId?: string;
}

/** A client of the SPIFFE Workload API (gRPC, no TLS: the agent attests the caller from the socket). */
export interface WorkloadApiClient {
  readonly address: string;
  /** One JWT-SVID: the one for `spiffeId`, else the first (the spec's default identity). */
  fetchJwtSvid(req: FetchJwtSvidRequest): Promise<JwtSvid>;
  fetchJwtSvids(req: FetchJwtSvidRequest): Promise<JwtSvid[]>;
  validateJwtSvid(audience: string, token: string): Promise<{ spiffeId: string; claims: unknown }>;
  /** The first message of each stream, then the stream is closed. */
  fetchX509Context(): Promise<X509Context>;
  fetchX509Bundles(): Promise<X509Bundles>;
  fetchJwtBundles(): Promise<JwtBundles>;
  /** Streams that follow rotation; every update is the complete current state. */
  watchX509Context(handlers: WatchHandlers<X509Context>, opts?: WatchOptions): Watch;
  watchX509Bundles(handlers: WatchHandlers<X509Bundles>, opts?: WatchOptions): Watch;
  watchJwtBundles(handlers: WatchHandlers<JwtBundles>, opts?: WatchOptions): Watch;
  close(): void;
}

let serviceCtor: ServiceClientConstructor | undefined;
function workloadService(): ServiceClientConstructor {
  serviceCtor ??= loadPackageDefinition(
    loadFileDescriptorSetFromBuffer(WORKLOAD_API_DESCRIPTOR_SET, { keepCase: true, defaults: true }),
  ).SpiffeWorkloadAPI as ServiceClientConstructor;
  return serviceCtor;
}

/** Every call carries `workload.spiffe.io: true`, else SPIRE answers InvalidArgument (Workload API §3). */
function securityHeader(): Metadata {
  const md = new Metadata();
  md.set('workload.spiffe.io', 'true');
  return md;
}

export function createWorkloadApiClient(opts: WorkloadApiClientOptions = {}): WorkloadApiClient {
  const address = opts.address ?? endpointFromEnv();
  if (!address) throw new WorkloadEndpointInvalid('', 'is missing: set SPIFFE_ENDPOINT_SOCKET');
  const Service = workloadService();
  const raw = new Service(workloadApiTarget(address), credentials.createInsecure()) as unknown as RawClient;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = () => ({ deadline: new Date(Date.now() + timeoutMs) });

  function unary<Req, Res>(rpc: 'FetchJWTSVID' | 'ValidateJWTSVID', req: Req): Promise<Res> {
    const method = raw[rpc] as unknown as Unary<Req, Res>;
    return new Promise((resolve, reject) => {
      method.call(raw, req, securityHeader(), deadline(), (err, res) =>
        err ? reject(toWorkloadApiError(rpc, err)) : resolve(res),
      );
    });
  }

  function stream<R>(rpc: 'FetchX509SVID' | 'FetchX509Bundles' | 'FetchJWTBundles') {
    return () => (raw[rpc] as Streaming<Record<string, never>, R>).call(raw, {}, securityHeader());
  }

  /** The first message of a stream (no retry: the caller decides). */
  function first<R, T>(rpc: 'FetchX509SVID' | 'FetchX509Bundles' | 'FetchJWTBundles', decode: (m: R) => T) {
    return new Promise<T>((resolve, reject) => {
      const watch = watchStream(
        rpc,
        stream<R>(rpc),
        decode,
        {
          onUpdate: (value) => {
            watch.close();
            resolve(value);
          },
          onError: (err) => {
            watch.close();
            reject(err);
          },
        },
        { readyTimeoutMs: timeoutMs },
      );
      watch.ready.catch(reject);
    });
  }

  async function fetchJwtSvids(req: FetchJwtSvidRequest): Promise<JwtSvid[]> {
    const audience = Array.isArray(req.audience) ? req.audience : [req.audience];
    const res = await unary<{ audience: string[]; spiffe_id: string }, RawJwtSvidResponse>('FetchJWTSVID', {
      audience,
      spiffe_id: req.spiffeId ?? '',
    });
    return decodeJwtSvids(res);
  }

  return {
    address,
    fetchJwtSvids,
    async fetchJwtSvid(req) {
      const svids = await fetchJwtSvids(req);
      const chosen = req.spiffeId ? svids.find((s) => s.spiffeId === req.spiffeId) : svids[0];
      if (!chosen) throw new WorkloadApiBadResponse('FetchJWTSVID', 'no JWT-SVID for the requested identity');
      return chosen;
    },
    async validateJwtSvid(audience, token) {
      const res = await unary<{ audience: string; svid: string }, { spiffe_id: string; claims: unknown }>(
        'ValidateJWTSVID',
        { audience, svid: token },
      );
      return { spiffeId: res.spiffe_id, claims: res.claims };
    },
    fetchX509Context: () => first('FetchX509SVID', decodeX509Context),
    fetchX509Bundles: () => first('FetchX509Bundles', decodeX509Bundles),
    fetchJwtBundles: () => first('FetchJWTBundles', decodeJwtBundles),
    watchX509Context: (h, o) =>
      watchStream('FetchX509SVID', stream('FetchX509SVID'), decodeX509Context, h, o),
    watchX509Bundles: (h, o) =>
      watchStream('FetchX509Bundles', stream('FetchX509Bundles'), decodeX509Bundles, h, o),
    watchJwtBundles: (h, o) =>
      watchStream('FetchJWTBundles', stream('FetchJWTBundles'), decodeJwtBundles, h, o),
    close: () => raw.close(),
  };
}
