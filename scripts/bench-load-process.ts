import { fork } from 'node:child_process';
import path from 'node:path';
import type { LoadInit, LoadReply, LoadRequest, PHASES, PhaseName } from './bench-loadgen';

type Result<P extends PhaseName> = Awaited<ReturnType<(typeof PHASES)[P]>>;
type Args<P extends PhaseName> = Parameters<(typeof PHASES)[P]>[1];

export interface LoadProcess {
  run<P extends PhaseName>(phase: P, args: Args<P>): Promise<Result<P>>;
  stop(): Promise<void>;
}

/** The load generator's environment: ours, without a profiler or anything meant for the broker. */
function loadEnv(): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _o, ...rest } = process.env;
  return rest;
}

/** Forks the load generator (scripts/bench-loadgen.ts) and hands it what to drive. */
export async function startLoadProcess(init: LoadInit): Promise<LoadProcess> {
  const child = fork(path.join(__dirname, 'bench-loadgen.js'), [], { env: loadEnv(), stdio: 'inherit' });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let next = 0;
  let ready!: () => void;
  const readyP = new Promise<void>((r) => {
    ready = r;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('message', (m: LoadReply) => {
    if (m.type === 'ready') return ready();
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.ok) p?.resolve(m.result);
    else p?.reject(new Error(`load process: ${m.error}`));
  });
  child.once('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`the load process exited (${code})`));
    pending.clear();
  });
  const send = (m: LoadRequest) => child.send(m);
  send({ type: 'init', init });
  await readyP;
  return {
    run<P extends PhaseName>(phase: P, args: Args<P>) {
      const id = next++;
      return new Promise<Result<P>>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        send({ type: 'run', id, phase, args });
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      send({ type: 'exit' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
