// The SPIFFE Workload API client (`@grantline/sdk/workload-api`): node built-ins and @grpc/* only. The
// SDK's `workloadApi()` identity source uses it, and so does the broker (trust bundles and its own
// X509-SVID from SPIRE, the CLI's `--workload-api`): one client for both.

export { parseDerCertificates, splitDer } from './der';
export {
  ENDPOINT_ENV,
  endpointFromEnv,
  WorkloadEndpointInvalid,
  workloadApiTarget,
} from './spiffe-endpoint';
export type { JwtBundles, JwtSvid, X509Bundles, X509Context, X509Svid } from './svid.types';
export type { Watch, WatchHandlers, WatchOptions } from './watch-stream';
export {
  createWorkloadApiClient,
  type FetchJwtSvidRequest,
  type WorkloadApiClient,
  type WorkloadApiClientOptions,
} from './workload-api.client';
export { WorkloadApiBadResponse, WorkloadApiError } from './workload-api.errors';
