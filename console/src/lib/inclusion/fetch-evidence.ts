import { ApiError, api } from '../api';
import type { Checkpoint, Evidence, InclusionProof } from './inclusion-check';

/**
 * Gathers what the browser checks an event's inclusion with: the latest signed checkpoint and the
 * inclusion proof (console API, as the signed-in auditor) and the broker's public JWKS. The broker is
 * only a courier here: each piece is checked against the others in inclusion-check.
 */

/** The sequencer signs a checkpoint every half second by default: a fresh event waits a little. */
const COVERAGE_TRIES = 10;
const COVERAGE_PAUSE_MS = 500;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The latest checkpoint, waiting briefly for one that covers `leafIndex`; the last one seen otherwise. */
async function coveringCheckpoint(leafIndex: number): Promise<Checkpoint> {
  let latest: Checkpoint | undefined;
  for (let i = 0; i < COVERAGE_TRIES; i += 1) {
    try {
      latest = await api.get<Checkpoint>('/audit/checkpoint');
      if (leafIndex < latest.tree_size) return latest;
    } catch (err) {
      // 404: no checkpoint signed yet; anything else is a real failure.
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
    await pause(COVERAGE_PAUSE_MS);
  }
  if (!latest) throw new Error('the audit log has no signed checkpoint yet');
  return latest;
}

/** The broker's published keys (RFC 7517), fetched like any verifier would, without the session. */
async function publishedKeys(): Promise<{ keys?: unknown }> {
  const res = await fetch('/.well-known/jwks.json', { credentials: 'omit', cache: 'no-store' });
  if (!res.ok) throw new Error(`the broker's JWKS could not be fetched (HTTP ${res.status})`);
  return (await res.json()) as { keys?: unknown };
}

export async function fetchEvidence(event: Evidence['event']): Promise<Evidence> {
  const [checkpoint, jwks] = await Promise.all([coveringCheckpoint(event.leaf_index), publishedKeys()]);
  const proof =
    event.leaf_index < checkpoint.tree_size
      ? await api.get<InclusionProof>(
          `/audit/events/${event.leaf_index}/proof?tree_size=${checkpoint.tree_size}`,
        )
      : undefined;
  return { event, checkpoint, jwks, proof };
}
