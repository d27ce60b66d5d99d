import type pg from 'pg';
import type { DomainUnitOfWork, DomainWork } from '../access/unit';
import type { Db } from '../db/database';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import type { TokenCustody, VaultAdapter } from '../vault';
import type { DatabaseTargets } from './database-lockout';

export interface WorkerDeps {
  db: Db;
  uow: DomainUnitOfWork;
  /** A dedicated PostgreSQL session for job claims (advisory locks die with it). */
  connect: () => Promise<pg.Client>;
  vault: VaultAdapter;
  custody: TokenCustody;
  targets?: DatabaseTargets | undefined;
  /** The task's close is complete: closing → closed/expired (the tasks module, wired at composition). */
  finishTask(w: DomainWork, taskId: string, status: 'closed' | 'expired'): Promise<void>;
  /** The grants of a job whose token values were kept in custody (the grants module decides). */
  grantsInCustody(q: { taskId: string } | { grantIds: string[] }): Promise<string[]>;
  /**
   * Revokes the logins whose minting answer was lost (reconcile.ts): no row tracks them, so a job can
   * only reach them this way. Run before a job finishes, so a settled close leaves none behind.
   */
  sweepLostLogins?: () => Promise<unknown>;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  intervalMs: number;
  maxAttempts: number;
  concurrency?: number;
}
