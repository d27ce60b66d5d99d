export { MerkleFrontier, type NewNode } from './merkle-frontier';
export { EMPTY_ROOT, foldRange, hashChildren, hashLeaf, splitPoint } from './merkle-hash';
export {
  consistencyRanges,
  inclusionRanges,
  type LeafRange,
  type NodeId,
  perfectNodes,
} from './merkle-ranges';
export { rootFromInclusion, verifyConsistency, verifyInclusion } from './merkle-verify';
