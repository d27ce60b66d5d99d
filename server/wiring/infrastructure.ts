import type { AuditKeys, AuditSequencer } from '../audit';
import type { Config } from '../config/config';
import type { ScopeCatalogue } from '../config/scope-catalogue';
import type { Db } from '../db/database';
import type { IdentityService } from '../identity';
import type { PolicyEngine } from '../policy';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import type { TokenIssuer } from '../tokens/access-token';
import type { VaultConnection } from './vault-connection.types';

/** What the services stand on: built by the composition root (main.ts). */
export interface Infrastructure {
  config: Config;
  db: Db;
  /** The broker's database URL (the worker's claim session opens its own connection). */
  databaseUrl: string;
  vault: VaultConnection;
  identity: IdentityService;
  tokens: TokenIssuer;
  policy: PolicyEngine;
  catalogue: ScopeCatalogue;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** The audit log: its checkpoint keys and the sequencer this broker runs (wiring/audit-log.ts). */
  audit: { keys: AuditKeys; sequencer: AuditSequencer };
}
