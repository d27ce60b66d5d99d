import { spawn } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

/**
 * A Unix socket that forwards each connection to the SPIRE agent's Workload API from a child process
 * running as `uid`. The agent's `unix` attestor reads the peer credentials of the connecting process, so
 * every call through this socket is attested as that uid: the test process (root) can fetch the SVIDs
 * of distinct workloads with Grantline's own Workload API client. The child needs only the node binary,
 * never the repository (which other uids may not be able to read).
 */
const PIPE =
  "const s=require('node:net').connect(process.argv[1]);process.stdin.pipe(s);s.pipe(process.stdout);" +
  "s.on('error',()=>process.exit(1));s.on('close',()=>process.exit(0));process.stdin.on('end',()=>s.end());";

export async function startUidProxy(listenPath: string, agentSocket: string, uid: number): Promise<Server> {
  const server = createServer((conn) => {
    const child = spawn(
      'setpriv',
      [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath, '-e', PIPE, agentSocket],
      { stdio: ['pipe', 'pipe', 'ignore'] },
    );
    conn.pipe(child.stdin!);
    child.stdout!.pipe(conn);
    child.stdin!.on('error', () => conn.destroy());
    conn.on('error', () => child.kill());
    conn.on('close', () => child.kill());
    child.on('exit', () => conn.destroy());
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(listenPath, resolve));
  chmodSync(listenPath, 0o600);
  return server;
}
