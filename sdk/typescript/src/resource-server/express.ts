import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { metadataUrlFor, WELL_KNOWN_PRM, wwwAuthenticate } from './protected-resource';
import type { ResourceServer } from './resource-server';
import { TokenRejectedError, VerificationUnavailableError } from './token-errors';
import type { VerifiedToken } from './verify';

type Next = (err?: unknown) => void;
type Handler = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

/** What the middleware attaches: the kit's view, and `auth` in the MCP SDK's `AuthInfo` shape. */
export interface GrantlineRequest extends IncomingMessage {
  grantline?: VerifiedToken;
  auth?: {
    token: string;
    clientId: string;
    scopes: string[];
    expiresAt: number;
    resource: URL;
    extra: Record<string, unknown>;
  };
}

export interface RequireTokenOptions {
  scopes?: string[];
  /** The digest of this call's arguments, when the tool requires the token to be bound to them. */
  argsDigest?: (req: IncomingMessage) => string | undefined;
  /**
   * Which requests are tool calls to report against the grant's actions (`max_actions`), and what each
   * costs: by default every request let through counts 1. Return undefined for a request that is not a
   * call (an MCP `tools/list`); `false` reports nothing.
   */
  meter?: false | ((req: IncomingMessage) => { cost?: number; tool?: string } | undefined);
}

function bearer(req: IncomingMessage): string | undefined | null {
  const h = req.headers.authorization;
  if (h === undefined) return undefined;
  const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(h);
  return m ? m[1]! : null;
}

function clientCertificate(req: IncomingMessage): Buffer | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const raw = socket.getPeerCertificate()?.raw;
  return raw && raw.length > 0 ? raw : undefined;
}

function sendJson(res: ServerResponse, status: number, headers: Record<string, string>, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * Express (or plain `http`) middleware: requires a Bearer token Grantline issued for this resource. A missing
 * or bad token is 401 with `WWW-Authenticate: Bearer resource_metadata="…"` (RFC 9728 §5.1), too little
 * scope 403 `insufficient_scope`, and 503 when the token cannot be checked right now.
 */
export function requireGrantlineToken(rs: ResourceServer, o: RequireTokenOptions = {}): Handler {
  return (req, res, next) => {
    const token = bearer(req);
    const challenge = (err?: TokenRejectedError) =>
      wwwAuthenticate({
        resourceMetadataUrl: rs.resourceMetadataUrl,
        ...(err ? { error: err.code, description: err.message } : {}),
        ...(err?.status === 403 ? { scopes: err.requiredScopes } : {}),
      });
    if (!token) {
      const err =
        token === null
          ? new TokenRejectedError('malformed', 'the Authorization header is not a Bearer token')
          : undefined;
      sendJson(
        res,
        401,
        { 'www-authenticate': challenge(err) },
        {
          error: err ? 'invalid_token' : 'unauthorized',
          error_description: err?.message ?? 'a Grantline access token is required',
        },
      );
      return;
    }
    const digest = o.argsDigest?.(req);
    const cert = clientCertificate(req);
    rs.verify(token, {
      ...(o.scopes ? { scopes: o.scopes } : {}),
      ...(digest !== undefined ? { argsDigest: digest } : {}),
      ...(cert ? { clientCertificate: cert } : {}),
    }).then(
      (verified) => {
        const r = req as GrantlineRequest;
        const call = o.meter === false ? undefined : o.meter ? o.meter(req) : {};
        if (call) rs.recordCall(verified, call);
        r.grantline = verified;
        r.auth = {
          token,
          clientId: verified.clientId,
          scopes: verified.scopes,
          expiresAt: Math.floor(verified.expiresAt.getTime() / 1000),
          resource: new URL(rs.resource),
          extra: { jti: verified.jti, taskId: verified.taskId, act: verified.act },
        };
        next();
      },
      (err: unknown) => {
        if (err instanceof TokenRejectedError) {
          sendJson(
            res,
            err.status,
            { 'www-authenticate': challenge(err) },
            {
              error: err.code,
              error_description: err.message,
            },
          );
        } else if (err instanceof VerificationUnavailableError) {
          sendJson(res, 503, { 'retry-after': '1' }, { error: err.code, error_description: err.message });
        } else next(err);
      },
    );
  };
}

/**
 * Serves the RFC 9728 metadata at the path-inserted well-known URL of the resource and, as MCP clients
 * also try, at the root form. Mount it before any authentication.
 */
export function protectedResourceMetadata(rs: ResourceServer): Handler {
  const paths = new Set([new URL(metadataUrlFor(rs.resource)).pathname, WELL_KNOWN_PRM]);
  return (req, res, next) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (req.method !== 'GET' || !paths.has(path)) return next();
    sendJson(
      res,
      200,
      { 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' },
      rs.metadata(),
    );
  };
}
