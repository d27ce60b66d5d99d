import type { Checkpoint } from '../audit.types';
import type { AuditKeyring } from '../checkpoints/audit-keys';
import { checkCheckpointSignature } from '../checkpoints/checkpoint-signature';
import { TreeWalk, type WalkCheckpoint } from './tree-walk';
import type { VerifyBreak, VerifyReport } from './verify.types';

const SIGNATURE_CHECKS_AT_ONCE = 32;

/** Checks every checkpoint's signature up front (in parallel), then starts the walk against them all. */
export async function startWalk(
  stored: readonly Checkpoint[],
  trusted: readonly Checkpoint[],
  ring: AuditKeyring,
): Promise<TreeWalk> {
  const all = [...stored.map((c) => ({ c, trusted: false })), ...trusted.map((c) => ({ c, trusted: true }))];
  const checked: WalkCheckpoint[] = [];
  for (let i = 0; i < all.length; i += SIGNATURE_CHECKS_AT_ONCE) {
    const slice = all.slice(i, i + SIGNATURE_CHECKS_AT_ONCE);
    const problems = await Promise.all(slice.map(({ c }) => checkCheckpointSignature(c, ring)));
    for (const [j, { c, trusted: t }] of slice.entries()) {
      checked.push({ checkpoint: c, problem: problems[j], trusted: t });
    }
  }
  return new TreeWalk(checked);
}

export function buildReport(
  walk: TreeWalk,
  treeSize: number,
  checkpoints: readonly Checkpoint[],
  broken: VerifyBreak | undefined,
): VerifyReport {
  const checked = broken?.leafIndex ?? walk.size;
  const report: VerifyReport = {
    ok: broken === undefined,
    checked: Math.min(checked, walk.size),
    treeSize,
    rootHash: walk.root().toString('base64'),
    checkpointsChecked: walk.matched,
    latestCheckpoint: checkpoints.at(-1) ?? null,
    legacyEvents: walk.legacyCount,
  };
  return broken ? { ...report, brokenAt: broken } : report;
}
