import { readCleanPage } from '../server/audit/verify/leaf-pages';
import { createDb } from '../server/db/pool';
(async () => {
  const h = createDb(process.env.U!, { max: 4 });
  for (const inflight of [1, 2, 3]) {
    const t0 = performance.now(); const c0 = process.cpuUsage();
    let next = 0; const N = 200000;
    const worker = async () => { while (next < N) { const f = next; next += 10000; const p = await readCleanPage(h.db, f, f + 10000); if (!p) throw new Error('unclean'); } };
    await Promise.all(Array.from({ length: inflight }, worker));
    const c = process.cpuUsage(c0);
    console.log('inflight', inflight, Math.round(N / ((performance.now() - t0) / 1000)), '/s', 'node cpu ms', Math.round((c.user + c.system) / 1000));
  }
  await h.close();
})();
