import { createHash } from 'node:crypto';
import type { ConnectionOptions, PeerCertificate } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import type { IdentitySource } from '../identity/identity-source';

export interface TlsOptions {
  /** PEM CA certificates that vouch for the broker (default: the X509-SVID's bundle, else the system). */
  ca?: string;
  /**
   * The broker's SPIFFE ID, when its certificate is an X509-SVID: the URI SAN must equal it, and no host
   * name is checked (X509-SVID §5: peers are authorised by SPIFFE ID, not by DNS name).
   */
  serverSpiffeId?: string;
}

function spiffeIdCheck(expected: string): ConnectionOptions['checkServerIdentity'] {
  return (_host, cert: PeerCertificate & { ca?: boolean }) => {
    const uris = (cert.subjectaltname ?? '')
      .split(', ')
      .filter((s) => s.startsWith('URI:'))
      .map((s) => s.slice(4));
    if (cert.ca) return new Error('the broker presented a CA certificate as its leaf');
    if (uris.length !== 1 || uris[0] !== expected)
      return new Error(`the broker is ${uris.join(', ') || 'not a SPIFFE workload'}, expected ${expected}`);
    return undefined;
  };
}

/**
 * The undici dispatcher for calls to the broker: with `mtls`, it presents the identity's current X509-SVID
 * and is rebuilt when the SVID rotates (the old agent finishes its requests, then closes).
 */
export function brokerDispatcher(opts: { identity: IdentitySource; mtls: boolean; tls?: TlsOptions }) {
  let current: { key: string; agent: Agent } | undefined;
  const base: ConnectionOptions = {
    ...(opts.tls?.ca ? { ca: opts.tls.ca } : {}),
    ...(opts.tls?.serverSpiffeId ? { checkServerIdentity: spiffeIdCheck(opts.tls.serverSpiffeId) } : {}),
  };

  async function get(): Promise<Dispatcher | undefined> {
    if (!opts.mtls && !opts.tls) return undefined;
    let connect: ConnectionOptions = base;
    if (opts.mtls) {
      if (!opts.identity.x509Svid) throw new Error('mtls needs an identity source with an X509-SVID');
      const svid = await opts.identity.x509Svid();
      connect = {
        ...base,
        cert: svid.certChainPem,
        key: svid.keyPem,
        ...(!base.ca && svid.bundlePem ? { ca: svid.bundlePem } : {}),
      };
    }
    const key = createHash('sha256')
      .update(String(connect.cert ?? ''))
      .update(String(connect.ca ?? ''))
      .digest('hex');
    if (current?.key === key) return current.agent;
    const previous = current;
    current = { key, agent: new Agent({ connect }) };
    previous?.agent.close().catch(() => undefined);
    return current.agent;
  }

  return {
    get,
    close: async () => {
      await current?.agent.close();
      current = undefined;
    },
  };
}
