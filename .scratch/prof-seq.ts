import { leafFromBody } from '../server/audit/audit-leaf';
import { hashLeaf, MerkleFrontier } from '../server/audit/merkle';
import { currentSnapshot, readCandidates, readState, writeLeaves } from '../server/audit/sequencer/sequencer.store';
import { createDb } from '../server/db/pool';
const url = process.env.U!;
(async () => {
  const h = createDb(url, { max: 2 });
  const state = await readState(h.db);
  let after: { tx: string; seq: number } | undefined;
  const f = MerkleFrontier.empty();
  let tRead = 0, tHash = 0, tWrite = 0, n = 0;
  for (let k = 0; k < 10; k++) {
    let t = performance.now();
    const batch = await readCandidates(h.db, state.snapshot, after, 5000);
    tRead += performance.now() - t; t = performance.now();
    const leaves = []; const nodes = [];
    for (const c of batch) { const index = f.size; const hash = hashLeaf(leafFromBody(c.body, index)); leaves.push({ index, seq: c.seq, hash }); nodes.push(...f.append(hash)); }
    tHash += performance.now() - t; t = performance.now();
    await writeLeaves(h.db, leaves, nodes);
    tWrite += performance.now() - t;
    n += batch.length; const last = batch[batch.length - 1]!; after = { tx: last.tx, seq: last.seq };
  }
  console.log({ n, tRead: Math.round(tRead), tHash: Math.round(tHash), tWrite: Math.round(tWrite) });
  await h.close();
})();
