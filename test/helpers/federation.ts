import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createTrustDomain,
  signJwt,
  svidClaims,
  type TestTrustDomain,
  trustDomainBundle,
} from '../unit/identity/support/pki';

export const PARTNER_DOMAIN = 'partner.example';

export interface FederatedConfig {
  /** A copy of the shipped `config/` with `federation.json` naming the partner trust domain. */
  configDir: string;
  partner: TestTrustDomain;
  /** A JWT-SVID of the partner trust domain for `spiffeId` (audience `grantline` unless told). */
  svid(spiffeId: string, aud?: string | string[]): Promise<string>;
  remove(): void;
}

/**
 * The shipped configuration plus one federated trust domain (`partner.example`) whose bundle is a file,
 * so a test broker accepts SVIDs from a workload outside its own trust domain.
 */
export async function federatedConfig(): Promise<FederatedConfig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-federated-'));
  fs.cpSync(path.resolve(__dirname, '../../config'), path.join(dir, 'config'), { recursive: true });
  const partner = await createTrustDomain(PARTNER_DOMAIN);
  const bundleFile = path.join(dir, 'partner-bundle.json');
  fs.writeFileSync(bundleFile, trustDomainBundle(partner));
  fs.writeFileSync(
    path.join(dir, 'config', 'federation.json'),
    JSON.stringify([{ trust_domain: PARTNER_DOMAIN, bundle_endpoint: bundleFile }]),
  );
  return {
    configDir: path.join(dir, 'config'),
    partner,
    svid: (spiffeId, aud = 'grantline') => signJwt(partner.jwtKey, svidClaims(spiffeId, aud)),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
