import type { Tx } from '../db/database';

/** The only writer of `console_sign_in_links`: the ids of one-time sign-in links already used. */

/** Marks a link used; false when it was used before (the primary key makes the race safe). */
export async function markLinkUsed(tx: Tx, q: { jti: string; now: Date; expiresAt: Date }): Promise<boolean> {
  const row = await tx
    .insertInto('console_sign_in_links')
    .values({ jti: q.jti, used_at: q.now, expires_at: q.expiresAt })
    .onConflict((oc) => oc.column('jti').doNothing())
    .returning('jti')
    .executeTakeFirst();
  return row !== undefined;
}

/** A link past its expiry can no longer be presented, so its id need not be kept. */
export async function forgetExpiredLinks(tx: Tx, now: Date): Promise<void> {
  await tx.deleteFrom('console_sign_in_links').where('expires_at', '<', now).execute();
}
