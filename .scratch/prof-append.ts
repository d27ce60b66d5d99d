import { randomUUID } from 'node:crypto';
import { appendAuditEvent } from '../server/audit';
import { migrateToLatest } from '../server/db/migrator';
import { createDb } from '../server/db/pool';
(async () => {
  const h = createDb(process.env.U!, { max: 10 });
  await migrateToLatest(h.db);
  for (const writers of [1, 8, 16]) {
    const deadline = performance.now() + 3000; let done = 0;
    const c0 = process.cpuUsage();
    const w = async (k: number) => { while (performance.now() < deadline) {
      await h.db.transaction().execute((tx) => appendAuditEvent(tx, { type: 'grant.issued', taskId: randomUUID(), principal: `spiffe://bench/w${k}`, payload: { decision: 'allow', policy_ids: ['agents-may-read-orders', 'task-ceiling'], policy_version: 'sha256:6b1f0c', scopes: ['db:orders:read'], ttl: 300, lease_id: `database/creds/orders-read/${done.toString(36).padStart(24, '0')}` } }));
      done++; } };
    const t = performance.now(); await Promise.all(Array.from({ length: writers }, (_, k) => w(k)));
    const c = process.cpuUsage(c0); const wall = performance.now() - t;
    console.log(writers, 'writers', Math.round(done / (wall / 1000)), '/s', 'node cpu per event µs', Math.round((c.user + c.system) / done));
  }
  await h.close();
})();
