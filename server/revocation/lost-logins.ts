import type { Db } from '../db/database';
import type { DatabaseTargets } from './database-lockout';
import { loginHolders } from './revocation.repository';

/**
 * Logins whose minting answer was lost. Vault/OpenBao create the PostgreSQL role before they register its
 * lease, and a client that hangs up mid-read (a broker SIGKILLed while minting, or its own Vault timeout)
 * cancels the request after the role was committed: the login exists with no lease in Vault and no row
 * here, so neither the token cascade nor the revocation job can reach it (measured against OpenBao 2.7.2:
 * about 1 read in 15 abandoned 0-40 ms in leaves such a login). Only its name ties it to Grantline.
 *
 * Such a login is proved lost, not merely unrecorded, by time rather than by a grace period: every grant
 * is reserved (pending, `issued_at`) before its secret is read, so a login created before the oldest
 * pending grant was reserved can belong to no mint still in flight. Its creation time is the `unix_time`
 * that ends Vault's default username template (`v-<display>-<role>-<random>-<unix time>`).
 */

/** Vault's clock (the name) against the broker's (`issued_at`), and the name's whole-second resolution. */
const CLOCK_SLACK_MS = 10_000;

const UNIX_TIME_SUFFIX = /-(\d{9,11})$/;

/** When Vault created the login, from its name; null when the name does not end in a unix time. */
export function loginCreatedAt(role: string): Date | null {
  const m = UNIX_TIME_SUFFIX.exec(role);
  return m ? new Date(Number(m[1]) * 1000) : null;
}

/** Whether no grant still being minted can own a login created at `createdAt`. */
export function noMintInFlightFor(createdAt: Date, oldestPending: Date | null): boolean {
  return oldestPending === null || createdAt.getTime() + CLOCK_SLACK_MS < oldestPending.getTime();
}

export interface LostLogin {
  target: string;
  role: string;
}

/**
 * The logins on `targets` named like Grantline's that can still log in (or have a session), that no lease
 * row tracks (a tracked one is the revocation job's), and that were created before any mint still in
 * flight began. Roles are listed BEFORE the rows are read, so a login from a mint in flight is either
 * tracked already or its grant still pending (or revoked by a close meanwhile: then it is rightly lost).
 */
export async function findLostLogins(
  deps: { db: Db; targets: DatabaseTargets; loginPattern: RegExp },
  targetNames: string[],
): Promise<LostLogin[]> {
  const listed: LostLogin[] = [];
  for (const target of targetNames)
    for (const role of await deps.targets.listRoles(target, deps.loginPattern)) listed.push({ target, role });
  if (listed.length === 0) return [];
  const { tracked, oldestPending } = await loginHolders(
    deps.db,
    listed.map((l) => l.role),
  );
  const lost: LostLogin[] = [];
  for (const login of listed) {
    const createdAt = loginCreatedAt(login.role);
    if (tracked.has(login.role) || !createdAt || !noMintInFlightFor(createdAt, oldestPending)) continue;
    if ((await deps.targets.verifyDead(login.target, login.role)).dead) continue;
    lost.push(login);
  }
  return lost;
}
