import { verifyAuditLog, auditKeyring } from '../server/audit';
import { createDb } from '../server/db/pool';
import { sql } from 'kysely';
(async () => {
  const h = createDb(process.env.U!, { max: 4 });
  const ring = await auditKeyring({ keys: [] });
  for (let k = 0; k < 2; k++) {
    const c0 = process.cpuUsage(); const t0 = performance.now();
    const r = await verifyAuditLog(h.db, ring);
    const c = process.cpuUsage(c0); const wall = performance.now() - t0;
    console.log(r.ok, r.checked, 'wall', Math.round(wall), 'node cpu', Math.round((c.user + c.system) / 1000), 'rate', Math.round(r.checked / (wall / 1000)));
  }
  await h.close();
})();
