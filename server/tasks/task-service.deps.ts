import type { Access } from '../access/access';
import type { DomainUnitOfWork } from '../access/unit';
import type { ScopeCatalogue } from '../config/scope-catalogue';
import type { Db } from '../db/database';
import type { GrantSummary } from '../revocation/receipt';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { TokenCustody, VaultAdapter } from '../vault';
import type { GrantsOfTask } from './task-close';

/** What the task service is composed from (its own file so task-open.ts can use it without a cycle). */
export interface TaskServiceDeps {
  db: Db;
  uow: DomainUnitOfWork;
  vault: VaultAdapter;
  custody: TokenCustody;
  access: Access;
  catalogue: ScopeCatalogue;
  /** The broker's own trust domain: delegate wildcards may only cover its paths. */
  trustDomain: string;
  clock: Clock;
  logger: Logger;
  /** The grants domain, for close and receipts (handed in at composition: tasks never import grants). */
  grants: GrantsOfTask & { listOfTask(db: Db, taskId: string): Promise<GrantSummary[]> };
  /** Called after a close commits so the revocation worker starts at once. */
  onRevocationQueued: () => Promise<void> | void;
}
