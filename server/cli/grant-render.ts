import type { IssuedSecret } from '../grants/issue/mint';
import { formatDuration, formatExpiresIn } from './cli-args';
import { type Field, formatFields } from './cli-output';

/** A grant as `POST /v1/tasks/:id/grants` and the token exchange return it (the latter adds issued_token_type). */
export interface GrantJson {
  grant_id: string;
  task_id?: string;
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  secrets: IssuedSecret[];
  issued_token_type?: string;
}

export interface DelegationOfferJson {
  offer_id: string;
  delegation_token: string;
  expires_in: number;
  to: string;
  scopes: string[];
  budget: number | null;
  may_redelegate: boolean;
}

export interface RevokeJson {
  grant_id: string;
  status: string;
  revoked: string[];
}

const show = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v));

function renderSecret(s: IssuedSecret): string[] {
  const fields: Field[] = [
    ...Object.entries(s.data).map(([k, v]): Field => [k, show(v)]),
    ['lease id', s.lease_id ?? undefined],
    ['lease', s.lease_duration === null ? undefined : formatDuration(s.lease_duration)],
    ...Object.entries(s.connection ?? {}).map(([k, v]): Field => [k, String(v)]),
  ];
  return [`secret ${s.scope} (${s.kind})`, ...formatFields(fields, '  ')];
}

/**
 * The grant with its secrets: the only human output that prints credentials, because the user asked
 * for exactly those. The grant id comes first so `| head -1` yields it.
 */
export function renderGrant(g: GrantJson, now: Date = new Date()): string[] {
  return [
    g.grant_id,
    ...formatFields([
      ['task', g.task_id],
      ['scope', g.scope],
      ['expires', formatExpiresIn(g.expires_in, now)],
      ['token type', g.token_type],
      ['access token', g.access_token],
    ]),
    ...g.secrets.flatMap(renderSecret),
  ];
}

export function renderOffer(o: DelegationOfferJson, now: Date = new Date()): string[] {
  return [
    o.offer_id,
    ...formatFields([
      ['to', o.to],
      ['scopes', o.scopes.join(', ')],
      ['budget', o.budget],
      ['redelegate', o.may_redelegate ? 'allowed' : 'not allowed'],
      ['expires', formatExpiresIn(o.expires_in, now)],
      ['delegation token', o.delegation_token],
    ]),
  ];
}

export function renderRevoke(r: RevokeJson): string[] {
  return [
    r.grant_id,
    ...formatFields([
      ['status', r.status],
      ['revoked now', r.revoked.length ? r.revoked.join(', ') : 'nothing (already inactive)'],
    ]),
  ];
}
