import { verifyAuditLog, auditKeyring } from '../server/audit';
import { createDb } from '../server/db/pool';
(async () => {
  const h = createDb(process.env.U!, { max: 2 });
  for (let k = 0; k < 2; k++) {
    const t0 = performance.now();
    const r = await verifyAuditLog(h.db, await auditKeyring({ keys: [] }));
    console.log(r.ok, r.checked, r.brokenAt, Math.round(r.checked / ((performance.now() - t0) / 1000)), '/s');
  }
  await h.close();
})();
