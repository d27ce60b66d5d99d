import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { callerFor, type TestBroker } from '../../helpers/broker';
import { projectRoot } from './build-dist';
import { cleanEnv, type LoggedChild, spawnLogged } from './processes';

/** `node bin/grantline.js serve` as a child process: the way a broker really runs, and really dies. */
export interface BrokerProcess {
  name: string;
  url: string;
  pid: number;
  child: LoggedChild;
  /** Calls this broker as a SPIFFE ID with a dev JWT-SVID (see TestBroker['call']). */
  call: TestBroker['call'];
  /** SIGKILL: no shutdown hook runs, its sessions and sockets are cut by the kernel. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the clean shutdown (SIGKILL after 15 s). */
  stop(): Promise<void>;
}

export async function startBrokerProcess(q: {
  name: string;
  env: Record<string, string>;
  logFile: string;
  svid: (spiffeId: string) => Promise<string>;
  timeoutMs?: number;
}): Promise<BrokerProcess> {
  const child = spawnLogged(process.execPath, [path.join(projectRoot, 'bin/grantline.js'), 'serve'], {
    env: cleanEnv(q.env),
    cwd: projectRoot,
    logFile: q.logFile,
  });
  let url: string;
  try {
    url = (await child.waitFor(/^grantline is ready at (\S+)/, q.timeoutMs ?? 60_000))[1]!;
  } catch (err) {
    child.kill('SIGKILL');
    await child.exited;
    throw new Error(`broker ${q.name} did not start: ${(err as Error).message}`);
  }
  return {
    name: q.name,
    url,
    pid: child.pid,
    child,
    call: callerFor(url, q.svid),
    async kill() {
      child.kill('SIGKILL');
      await child.exited;
    },
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([child.exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
      await child.exited;
    },
  };
}
