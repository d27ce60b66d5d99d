import { startBroker } from '../../main';
import { loadConfigOrExit } from '../config-or-exit';
import { isSharedMessage, type SharedDefaults, type WorkerMessage, workerEnv } from './messages';

const send = (m: WorkerMessage) => process.send?.(m);

/** The primary sends the shared defaults first thing; a worker starts nothing before it has them. */
function receiveShared(): Promise<SharedDefaults> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      if (!isSharedMessage(m)) return;
      process.off('message', on);
      resolve(m.shared);
    };
    process.on('message', on);
    // Asked for only once the listener is in place, so the answer cannot arrive before it.
    send({ type: 'grantline:hello' });
  });
}

/**
 * One worker of `grantline serve --workers N`: a whole broker (API, operator and mTLS listeners on the
 * ports every worker shares, revocation worker, sweepers, reconciliation, feed sequencing: all of it
 * coordinates through PostgreSQL). Stops on SIGINT/SIGTERM, and when the primary goes away.
 */
export async function runWorker(): Promise<void> {
  const shared = await receiveShared();
  const config = loadConfigOrExit(workerEnv(process.env, shared));
  let broker: Awaited<ReturnType<typeof startBroker>>;
  try {
    broker = await startBroker(
      config,
      shared.connectionValues ? { connectionValues: shared.connectionValues } : {},
    );
  } catch (err) {
    send({ type: 'grantline:failed', message: (err as Error).message });
    throw err;
  }
  send({ type: 'grantline:ready', url: broker.url, operatorUrl: broker.operatorUrl });
  let stopping = false;
  const shutdown = (reason: string) => {
    if (stopping) return;
    stopping = true;
    broker.logger.info({ reason, pid: process.pid }, 'worker shutting down');
    broker.stop().then(
      () => process.exit(0),
      (err) => {
        broker.logger.error({ err }, 'worker shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('disconnect', () => shutdown('the primary went away'));
}
