import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createDb } from '../server/db/pool';
const h = createDb(process.env.U!, { max: 10 });
const payload = JSON.stringify({ decision: 'allow', policy_ids: ['agents-may-read-orders', 'task-ceiling'], policy_version: 'sha256:6b1f0c', scopes: ['db:orders:read'], ttl: 300, lease_id: 'database/creds/orders-read/0000000000000000000000001' });
async function run(writers: number, secs: number) {
  const deadline = performance.now() + secs * 1000; let done = 0;
  const w = async () => { while (performance.now() < deadline) {
    await h.db.transaction().execute((tx) => sql`insert into ev2 (at, type, task_id, principal, payload, body) values (${new Date().toISOString()}::timestamptz, 'grant.issued', ${randomUUID()}::uuid, 'spiffe://bench/w', ${payload}::jsonb, ${payload})`.execute(tx));
    done++; } };
  const t = performance.now(); await Promise.all(Array.from({ length: writers }, w));
  console.log(writers, 'writers', Math.round(done / ((performance.now() - t) / 1000)), '/s');
}
(async () => { await run(1, 3); await run(8, 3); await run(16, 3); await h.close(); })();
