/**
 * What the primary of `grantline serve --workers N` and its workers say to each other over the cluster
 * channel. Secrets (the dev Vault's root token, the embedded PostgreSQL's password) travel here, never in
 * a worker's environment, where `/proc/<pid>/environ` would show them.
 */

/** The development defaults the primary started once for every worker (all unset in production). */
export interface SharedDefaults {
  /** The embedded PostgreSQL (DATABASE_URL unset). */
  databaseUrl?: string;
  /** The local Vault: OpenBao dev or the dev Vault, run by the primary (VAULT_ADDR unset). */
  vault?: { addr: string; token: string };
  /** Facts the local Vault's scopes fill into their connection placeholders. */
  connectionValues?: Record<string, string | number>;
  /** Admin URLs of the databases the local Vault mints logins on. */
  databaseTargets?: Record<string, string>;
}

export interface SharedMessage {
  type: 'grantline:shared';
  shared: SharedDefaults;
}

export type WorkerMessage =
  | { type: 'grantline:hello' }
  | { type: 'grantline:ready'; url: string; operatorUrl: string }
  | { type: 'grantline:failed'; message: string };

export const isSharedMessage = (m: unknown): m is SharedMessage =>
  typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'grantline:shared';

export const isWorkerMessage = (m: unknown): m is WorkerMessage =>
  typeof m === 'object' &&
  m !== null &&
  ['grantline:hello', 'grantline:ready', 'grantline:failed'].includes((m as { type?: string }).type ?? '');

/** The environment a worker loads its configuration from: its own, plus what the primary shares. */
export function workerEnv(env: NodeJS.ProcessEnv, shared: SharedDefaults): NodeJS.ProcessEnv {
  // GRANTLINE_VAULT chose the local Vault the primary runs; with VAULT_ADDR set it would be refused.
  const { GRANTLINE_VAULT: _chosen, ...rest } = env;
  return {
    ...(shared.vault ? rest : env),
    ...(shared.databaseUrl ? { DATABASE_URL: shared.databaseUrl } : {}),
    ...(shared.vault ? { VAULT_ADDR: shared.vault.addr, VAULT_TOKEN: shared.vault.token } : {}),
    ...(shared.databaseTargets
      ? {
          GRANTLINE_DB_TARGETS: JSON.stringify({
            ...(env.GRANTLINE_DB_TARGETS ? (JSON.parse(env.GRANTLINE_DB_TARGETS) as object) : {}),
            ...shared.databaseTargets,
          }),
        }
      : {}),
  };
}
