// The SPIFFE Workload API client. Self-contained on purpose (node built-ins and @grpc/* only): the
// TypeScript SDK shares these files.

export {
  ENDPOINT_ENV,
  endpointFromEnv,
  WorkloadEndpointInvalid,
  workloadApiTarget,
} from '../../shared/spiffe-endpoint';
export { parseDerCertificates, splitDer } from './der';
export type { JwtBundles, JwtSvid, X509Bundles, X509Context, X509Svid } from './svid.types';
export type { Watch, WatchHandlers, WatchOptions } from './watch-stream';
export {
  createWorkloadApiClient,
  type FetchJwtSvidRequest,
  type WorkloadApiClient,
  type WorkloadApiClientOptions,
} from './workload-api.client';
export { WorkloadApiBadResponse, WorkloadApiError } from './workload-api.errors';
