import {
  createWorkloadApiClient,
  endpointFromEnv,
  WorkloadEndpointInvalid,
} from '@grantline/sdk/workload-api';

/** A JWT-SVID for the broker's audience from the SPIFFE Workload API at SPIFFE_ENDPOINT_SOCKET. */
export async function fetchWorkloadSvid(audience: string, env: NodeJS.ProcessEnv): Promise<string> {
  const address = endpointFromEnv(env);
  if (!address)
    throw new Error('--workload-api needs SPIFFE_ENDPOINT_SOCKET (e.g. unix:///run/spire/agent.sock)');
  let client: ReturnType<typeof createWorkloadApiClient>;
  try {
    client = createWorkloadApiClient({ address });
  } catch (err) {
    if (err instanceof WorkloadEndpointInvalid) throw new Error(err.message);
    throw err;
  }
  try {
    const svid = await client.fetchJwtSvid({
      audience,
      ...(env.GRANTLINE_SPIFFE_ID ? { spiffeId: env.GRANTLINE_SPIFFE_ID } : {}),
    });
    return svid.token;
  } finally {
    client.close();
  }
}
