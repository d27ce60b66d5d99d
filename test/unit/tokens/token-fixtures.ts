import { Writable } from 'node:stream';
import { ManualClock } from '../../../server/shared/clock';
import { createLogger, type Logger } from '../../../server/shared/logger';
import {
  type AccessTokenClaims,
  createTokenIssuer,
  type DelegationClaims,
} from '../../../server/tokens/access-token';
import {
  generateSigningKeyPem,
  type SigningKey,
  signingKeyFromPem,
} from '../../../server/tokens/key-material';
import { buildSigningKeys } from '../../../server/tokens/signing-keys';

export const ISSUER = 'https://grantline.example';
export const T0 = new Date('2026-11-24T10:00:00Z');
export const ORCHESTRATOR = 'spiffe://example.org/orchestrator';
export const AGENT_A = 'spiffe://example.org/agent/a';
export const AGENT_B = 'spiffe://example.org/agent/b';
export const AGENT_C = 'spiffe://example.org/agent/c';

export const newSigningKey = (): Promise<SigningKey> => signingKeyFromPem(generateSigningKeyPem(), 'test');

export async function newIssuer(
  opts: { current?: SigningKey; previous?: SigningKey; clock?: ManualClock } = {},
) {
  const current = opts.current ?? (await newSigningKey());
  const clock = opts.clock ?? new ManualClock(T0);
  const keys = buildSigningKeys(current, opts.previous);
  return { issuer: createTokenIssuer({ keys, issuer: ISSUER, clock }), clock, keys };
}

export function accessClaims(
  clock: ManualClock,
  overrides: Partial<AccessTokenClaims> = {},
): AccessTokenClaims {
  return {
    grantId: 'grant-1',
    taskId: 'task-1',
    subject: ORCHESTRATOR,
    audiences: ['https://orders.example'],
    scopes: ['db:orders:read', 'kv:crm/api-key'],
    holder: AGENT_A,
    chain: [AGENT_A],
    expiresAt: new Date(clock.now().getTime() + 300_000),
    ...overrides,
  };
}

export function delegationClaims(
  clock: ManualClock,
  overrides: Partial<DelegationClaims> = {},
): DelegationClaims {
  return {
    offerId: 'offer-1',
    parentGrantId: 'grant-1',
    taskId: 'task-1',
    from: AGENT_A,
    to: AGENT_B,
    scopes: ['db:orders:read'],
    expiresAt: new Date(clock.now().getTime() + 60_000),
    ...overrides,
  };
}

export const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  const part = token.split('.')[index];
  return JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A logger whose output is kept in memory, to prove what was (and was not) logged. */
export function captureLogger(): { logger: Logger; lines: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ level: 'debug' }, sink), lines: () => chunks.join('') };
}
