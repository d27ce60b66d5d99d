import { randomBytes } from 'node:crypto';
import type { Logger } from '../shared/logger';
import { CHILD_TOKEN_POLICY, CHILD_TOKEN_POLICY_DOCUMENT } from '../vault/child-token-policy';
import { recommendedRoleStatements } from '../vault/database-statements';
import type { VaultAdapter } from '../vault/vault.types';

export { CHILD_TOKEN_POLICY };

export const DEMO_DB_CONNECTION = 'grantline-demo';
export const DEMO_ROLE = 'demo-read';

/**
 * Configures a dev Vault so the shipped scopes work out of the box: the database connection and role
 * behind `db:demo:read`, the KV data behind `kv:demo/api-key`, and the ACL policies every scope names.
 */
export async function configureDevVault(
  vault: VaultAdapter,
  opts: { demoDatabaseUrl: string; groupRole: string; logger: Logger },
): Promise<void> {
  const url = new URL(opts.demoDatabaseUrl);
  const username = decodeURIComponent(url.username) || 'postgres';
  const password = decodeURIComponent(url.password);
  const templated = `postgresql://{{username}}:{{password}}@${url.host}${url.pathname}`;
  await vault.write(`database/config/${DEMO_DB_CONNECTION}`, {
    plugin_name: 'postgresql-database-plugin',
    connection_url: templated,
    username,
    password,
    allowed_roles: [DEMO_ROLE],
  });
  await vault.write(`database/roles/${DEMO_ROLE}`, {
    db_name: DEMO_DB_CONNECTION,
    ...recommendedRoleStatements(opts.groupRole),
    default_ttl: '1h',
    max_ttl: '24h',
  });
  await vault.writePolicy(CHILD_TOKEN_POLICY, CHILD_TOKEN_POLICY_DOCUMENT);
  await vault.writePolicy('grantline-demo-read', {
    path: { [`database/creds/${DEMO_ROLE}`]: { capabilities: ['read'] } },
  });
  await vault.writePolicy('grantline-demo-kv', {
    path: { 'secret/data/demo/api-key': { capabilities: ['read'] } },
  });
  await vault.writePolicy('grantline-demo-deploy', {
    path: { 'secret/data/demo/deploy': { capabilities: ['read'] } },
  });
  await vault.write('secret/data/demo/api-key', {
    data: { api_key: `demo-${randomBytes(12).toString('hex')}` },
  });
  await vault.write('secret/data/demo/deploy', { data: { target: 'demo-cluster', strategy: 'rolling' } });
  opts.logger.info('dev Vault configured: database role demo-read, KV demo/api-key, demo policies');
}
