import type http from 'node:http';
import https from 'node:https';
import type { Config } from '../config/config';
import type { IdentityConfig, IdentityService } from '../identity';
import { closeServer, listen, urlOf } from './http-server';

/** Where the identity service takes its trust from: the Workload API, a bundle, or the dev trust domain. */
export function identitySourceOptions(
  config: Config,
): Pick<IdentityConfig, 'workloadApi' | 'bundle' | 'devHome'> {
  const { workloadApi, bundleSource } = config.identity;
  if (workloadApi) {
    return {
      workloadApi: {
        address: workloadApi.address,
        ...(workloadApi.spiffeId ? { spiffeId: workloadApi.spiffeId } : {}),
      },
    };
  }
  if (bundleSource) return { bundle: { source: bundleSource } };
  return { devHome: config.home };
}

/**
 * The mTLS listener serving the broker's own X509-SVID from the Workload API. SPIRE rotates the SVID
 * at half its life; each rotation installs a new secure context, so new connections get the new
 * certificate with no restart and open ones finish on the old.
 */
export async function startSvidTls(
  config: Config,
  identity: IdentityService,
  app: http.RequestListener,
): Promise<{ url: string; close(): Promise<void> }> {
  const source = identity.serverSvid;
  if (!source) throw new Error('GRANTLINE_TLS_SVID needs the Workload API trust source');
  const options = () => {
    const svid = source.current();
    return identity.tlsServerOptions(svid.certPem, svid.keyPem);
  };
  const server = https.createServer(options(), app);
  source.onRotate(() => server.setSecureContext(options()));
  await listen(server, config.http.host, config.http.tlsFromSvid!.port);
  return {
    url: urlOf('https', config.http.host, server),
    close: () => closeServer(server, config.http.shutdownGraceSeconds * 1000),
  };
}
