import type { ServerResponse } from 'node:http';
import { notFound, type VaultApiError } from './vault-error';

/** What a handler hands back; the server adds the request id and any ignored-parameter warning. */
export interface EnvelopeParts {
  data?: Record<string, unknown> | null;
  auth?: Record<string, unknown> | null;
  warnings?: string[];
  /** Set only for secret leases (DB creds); token TTLs live in `auth.lease_duration` (spec §1.1). */
  lease?: { id: string; renewable: boolean; duration: number };
  /** `sys/mounts`, `sys/auth`, `sys/policy` copy every data key to the top level too (spec §1.1). */
  copyDataToTop?: boolean;
}

export type Reply =
  | { kind: 'envelope'; status: number; parts: EnvelopeParts }
  | { kind: 'empty'; status: 202 | 204 }
  | { kind: 'raw'; status: number; body: Record<string, unknown> };

export const ok = (parts: EnvelopeParts, status = 200): Reply => ({ kind: 'envelope', status, parts });
export const noContent = (): Reply => ({ kind: 'empty', status: 204 });
export const accepted = (): Reply => ({ kind: 'empty', status: 202 });
export const raw = (status: number, body: Record<string, unknown>): Reply => ({ kind: 'raw', status, body });

/** Vault answers LIST with no keys as a plain 404 (spec §1.2). */
export function listReply(keys: string[]): Reply {
  if (keys.length === 0) throw notFound();
  return ok({ data: { keys: [...keys].sort() } });
}

/** The eight-key success envelope (`logical.HTTPResponse`, spec §1.1). */
export function buildEnvelope(requestId: string, parts: EnvelopeParts): Record<string, unknown> {
  const body: Record<string, unknown> = {
    request_id: requestId,
    lease_id: parts.lease?.id ?? '',
    renewable: parts.lease?.renewable ?? false,
    lease_duration: parts.lease?.duration ?? 0,
    data: parts.data ?? null,
    wrap_info: null,
    warnings: parts.warnings && parts.warnings.length > 0 ? parts.warnings : null,
    auth: parts.auth ?? null,
  };
  return parts.copyDataToTop && parts.data ? { ...parts.data, ...body } : body;
}

/** Adds warnings; a data-less reply that carries warnings becomes a 200 envelope (spec §1.1). */
export function withWarnings(reply: Reply, warnings: string[]): Reply {
  if (warnings.length === 0) return reply;
  if (reply.kind === 'envelope') {
    return { ...reply, parts: { ...reply.parts, warnings: [...(reply.parts.warnings ?? []), ...warnings] } };
  }
  if (reply.kind === 'empty' && reply.status === 204) return ok({ data: null, warnings });
  return reply;
}

function writeJson(res: ServerResponse, status: number, body: unknown, headOnly: boolean): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(headOnly ? undefined : text);
}

export function sendReply(res: ServerResponse, reply: Reply, requestId: string, headOnly = false): void {
  if (reply.kind === 'empty') {
    res.writeHead(reply.status, { 'Cache-Control': 'no-store' });
    res.end();
    return;
  }
  const body = reply.kind === 'raw' ? reply.body : buildEnvelope(requestId, reply.parts);
  writeJson(res, reply.status, body, headOnly);
}

/** Every status ≥ 400 answers `{"errors": [...]}` (spec §1.2). */
export function sendError(res: ServerResponse, err: VaultApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  writeJson(res, err.status, { errors: err.errors }, false);
}
