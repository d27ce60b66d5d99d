import type { Migration } from 'kysely';
import * as coreSchema from './2026_11_24_0001_create_core_schema';
import * as auditLog from './2026_11_24_0002_create_audit_log';
import * as approvalRequests from './2026_11_30_0002_create_approval_requests';
import * as feedCommitOrder from './2026_11_30_0200_feed_commit_order';
import * as revocationVerified from './2026_11_30_0300_revocation_verified';
import * as taskTargets from './2026_12_01_0001_task_targets_and_args_digest';
import * as auditTransparencyLog from './2026_12_01_0100_audit_transparency_log';
import * as grantAudiencesAndActions from './2026_12_02_0001_grant_audiences_and_actions';

/** Every migration, by file name; the Migrator runs them in name (date) order. */
export const migrations: Record<string, Migration> = {
  '2026_11_24_0001_create_core_schema': coreSchema,
  '2026_11_24_0002_create_audit_log': auditLog,
  '2026_11_30_0002_create_approval_requests': approvalRequests,
  '2026_11_30_0200_feed_commit_order': feedCommitOrder,
  '2026_11_30_0300_revocation_verified': revocationVerified,
  '2026_12_01_0001_task_targets_and_args_digest': taskTargets,
  '2026_12_01_0100_audit_transparency_log': auditTransparencyLog,
  '2026_12_02_0001_grant_audiences_and_actions': grantAudiencesAndActions,
};
