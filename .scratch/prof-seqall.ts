import { SequencedTree } from '../server/audit/sequencer/sequenced-tree';
import { runSequencerPass } from '../server/audit/sequencer/sequencer-pass';
import { createDb } from '../server/db/pool';
(async () => {
  const h = createDb(process.env.U!, { max: 2 });
  const t = await SequencedTree.load(h.db);
  const t0 = performance.now();
  const n = await runSequencerPass(h.db, t, 5000);
  console.log('sequenced', n, Math.round(n / ((performance.now() - t0) / 1000)), '/s');
  await h.close();
})();
