import { randomUUID } from 'node:crypto';
import { appendAuditEvents } from '../server/audit';
import { migrateToLatest } from '../server/db/migrator';
import { createDb } from '../server/db/pool';
const url = process.env.U!;
(async () => {
  const h = createDb(url, { max: 4 });
  await migrateToLatest(h.db);
  const t0 = performance.now();
  for (let have = 0; have < Number(process.env.N); have += 5000) {
    const ev = Array.from({ length: 5000 }, (_, i) => ({ type: 'grant.issued', taskId: randomUUID(), principal: 'spiffe://bench/bulk', payload: { decision: 'allow', policy_ids: ['agents-may-read-orders', 'task-ceiling'], policy_version: 'sha256:6b1f0c', scopes: ['db:orders:read'], ttl: 300, lease_id: `database/creds/orders-read/${(have + i).toString(36).padStart(24, '0')}` } }));
    await h.db.transaction().execute((tx) => appendAuditEvents(tx, ev));
  }
  console.log('bulk load', Math.round(performance.now() - t0), 'ms');
  await h.close();
})();
