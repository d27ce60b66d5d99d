export { AuditEventRejected } from './audit.errors';
export { appendAuditEvent, appendAuditEvents, listAuditEvents, verifyAuditChain } from './audit.service';
export type {
  AuditEvent,
  AuditEventInput,
  AuditQuery,
  ChainBreak,
  VerifyOptions,
  VerifyResult,
} from './audit.types';
export { CanonicalJsonError, canonicalJson } from './canonical-json';
