import { useState } from 'react';
import { fetchEvidence } from '../lib/inclusion/fetch-evidence';
import { type InclusionVerdict, verifyEventInclusion } from '../lib/inclusion/inclusion-check';
import type { AuditEvent } from '../lib/types';

type State = { step: 'idle' } | { step: 'checking' } | { step: 'done'; verdict: InclusionVerdict };

/** Fetching or checking that itself went wrong (network, HTTP error) is a failure of its own name. */
async function check(event: AuditEvent): Promise<InclusionVerdict> {
  let evidence: Awaited<ReturnType<typeof fetchEvidence>>;
  try {
    evidence = await fetchEvidence(event);
  } catch (err) {
    return { ok: false, failed: 'evidence_unavailable', message: (err as Error).message };
  }
  return verifyEventInclusion(evidence);
}

function Verdict({ verdict }: { verdict: InclusionVerdict }) {
  if (verdict.ok)
    return (
      <p className="inclusion ok" data-testid="inclusion-result" data-ok="true">
        <strong>Included</strong> in the signed tree of size {verdict.treeSize} (root{' '}
        <code>{verdict.rootHash}</code>, signed at {verdict.signedAt}) by the audit key whose RFC 7638
        thumbprint is <code>{verdict.keyThumbprint}</code>. Checked in this browser: the checkpoint signature,
        the event&rsquo;s leaf hash and its audit path to the signed root.
      </p>
    );
  return (
    <p className="inclusion bad" data-testid="inclusion-result" data-ok="false" data-failed={verdict.failed}>
      <strong>Not verified</strong> (check failed: <code>{verdict.failed}</code>). {verdict.message}
    </p>
  );
}

/**
 * "Verify inclusion" for one event: the browser fetches the signed checkpoint, the JWKS and the proof,
 * and checks them itself (lib/inclusion), instead of trusting the broker's own verification.
 */
export function InclusionCheck({ event }: { event: AuditEvent }) {
  const [state, setState] = useState<State>({ step: 'idle' });
  const run = async () => {
    setState({ step: 'checking' });
    setState({ step: 'done', verdict: await check(event) });
  };
  return (
    <div className="inclusion-check" aria-live="polite">
      <button
        type="button"
        onClick={run}
        disabled={state.step === 'checking'}
        aria-label={`Verify inclusion of leaf ${event.leaf_index}`}
      >
        Verify inclusion
      </button>
      {state.step === 'checking' && (
        <span className="muted" aria-busy="true">
          {' '}
          Checking…
        </span>
      )}
      {state.step === 'done' && <Verdict verdict={state.verdict} />}
    </div>
  );
}
