import type { DevVault } from '../dev/vault';
import type { VaultAdapter } from '../vault';

export interface VaultConnection {
  vault: VaultAdapter;
  brokerToken: string;
  /** Facts filled into scopes' connection placeholders (`{{dev_database.host}}` …). */
  connectionValues: Record<string, string | number>;
  /** Admin URLs of the databases a local Vault mints logins on (the dev demo database), by target. */
  databaseTargets?: Record<string, string>;
  /** The in-process dev Vault, when VAULT_ADDR is unset (server/dev). */
  devVault: DevVault | undefined;
  /** Set when `bao server -dev` runs as our child process (GRANTLINE_VAULT=auto|bao). */
  openbao?: { version: string; binary: string; url: string };
  shutdown(): Promise<void>;
}
