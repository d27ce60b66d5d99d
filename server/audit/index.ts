export { AuditEventRejected } from './audit.errors';
export {
  appendAuditEvent,
  appendAuditEvents,
  auditAppendStep,
  eventLeaves,
  listAuditEvents,
} from './audit.service';
export type {
  AuditEvent,
  AuditEventInput,
  AuditQuery,
  Checkpoint,
  EventLeaf,
  LineageNode,
  LoggedEvent,
} from './audit.types';
export {
  type ConsistencyProof,
  consistencyProof,
  currentCheckpoint,
  type InclusionProof,
  inclusionProof,
  loggedEventAt,
} from './audit-proofs';
export { awaitCheckpoint, awaitSequenced } from './audit-sync';
export { CanonicalJsonError, canonicalJson } from './canonical-json';
export {
  AUDIT_KEY_USE,
  type AuditKeyring,
  type AuditKeys,
  type AuditSigningKey,
  auditKeyring,
  buildAuditKeys,
} from './checkpoints/audit-keys';
export { listCheckpoints } from './checkpoints/checkpoint.store';
export {
  CHECKPOINT_TYP,
  checkCheckpointSignature,
  treeHeadPayload,
} from './checkpoints/checkpoint-signature';
export { verifyConsistencyProof, verifyInclusionProof } from './proof-check';
export { type AuditSequencer, createAuditSequencer } from './sequencer/audit-sequencer';
export { EXPORT_FORMAT, exportAuditLog, verifyExportFile } from './verify/audit-export';
export type { BreakReason, VerifyBreak, VerifyOptions, VerifyReport } from './verify/verify.types';
export { verifyAuditLog } from './verify/verify-db';
