import type { Watch, WorkloadApiClient, X509Context, X509Svid } from '@grantline/sdk/workload-api';
import type { Logger } from '../shared/logger';

/** The broker's own X509-SVID, kept current from the Workload API (SPIRE rotates it at half its life). */
export interface ServerSvidSource {
  current(): { certPem: string; keyPem: string; spiffeId: string };
  /** Called after each rotation with the new SVID. */
  onRotate(listener: () => void): void;
  start(): Promise<void>;
  stop(): void;
}

function choose(ctx: X509Context, spiffeId: string | undefined): X509Svid | undefined {
  return spiffeId ? ctx.svids.find((s) => s.spiffeId === spiffeId) : ctx.svids[0];
}

export function createServerSvidSource(deps: {
  client: WorkloadApiClient;
  /** Which identity to serve when the broker has several; default: the first (the spec's default). */
  spiffeId: string | undefined;
  logger: Logger;
}): ServerSvidSource {
  let svid: X509Svid | undefined;
  let watch: Watch | undefined;
  const listeners: Array<() => void> = [];

  function update(ctx: X509Context): void {
    const next = choose(ctx, deps.spiffeId);
    if (!next) {
      deps.logger.warn({ wanted: deps.spiffeId }, 'the Workload API no longer gives the broker its identity');
      return;
    }
    const serial = next.certificates[0]!.serialNumber;
    if (svid && svid.certificates[0]!.serialNumber === serial) return;
    const first = svid === undefined;
    svid = next;
    deps.logger.info(
      { spiffeId: next.spiffeId, serial, validTo: next.certificates[0]!.validTo },
      first ? 'broker X509-SVID received from the Workload API' : 'broker X509-SVID rotated',
    );
    if (!first) for (const l of listeners) l();
  }

  return {
    current() {
      if (!svid) throw new Error('the broker has no X509-SVID yet');
      return { certPem: svid.certChainPem, keyPem: svid.keyPem, spiffeId: svid.spiffeId };
    },
    onRotate: (listener) => void listeners.push(listener),
    async start() {
      watch = deps.client.watchX509Context({
        onUpdate: update,
        onError: (err) =>
          deps.logger.warn({ err: err.message }, 'Workload API FetchX509SVID failed; retrying'),
      });
      await watch.ready;
      if (!svid) throw new Error(`the Workload API gives the broker no X509-SVID for ${deps.spiffeId}`);
    },
    stop: () => watch?.close(),
  };
}
