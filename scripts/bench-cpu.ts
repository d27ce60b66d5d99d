import fs from 'node:fs';
import { childrenOf } from './bench-processes';

const TICK_MS = 10; // USER_HZ is 100 on Linux: /proc times are in 10 ms ticks

/** CPU time (ms) a process used: its own, plus its waited-for children's when `reaped` (a postmaster's). */
export function cpuMsOf(pid: number, reaped = false, only?: 'user' | 'system'): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    // Fields after the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    const user = f[11]! + (reaped ? f[13]! : 0);
    const system = f[12]! + (reaped ? f[14]! : 0);
    return (only === 'user' ? user : only === 'system' ? system : user + system) * TICK_MS;
  } catch {
    return 0;
  }
}

/** A process and everything below it that is alive now, plus what its finished children used. */
export function treeCpuMs(pid: number, only?: 'user' | 'system'): number {
  let total = cpuMsOf(pid, true, only);
  for (const child of childrenOf(pid)) total += treeCpuMs(child, only);
  return total;
}

export interface CpuSnapshot {
  broker: number;
  /** Of the broker's, the kernel's share (system calls: sockets, the log file). */
  brokerSystem: number;
  vault: number;
  postgres: number;
  load: number;
}

export const cpuDiff = (a: CpuSnapshot, b: CpuSnapshot): CpuSnapshot => ({
  broker: b.broker - a.broker,
  brokerSystem: b.brokerSystem - a.brokerSystem,
  vault: b.vault - a.vault,
  postgres: b.postgres - a.postgres,
  load: b.load - a.load,
});

/** CPU milliseconds per operation, by process, over a phase that completed `ops` operations. */
export function cpuPerOp(d: CpuSnapshot, ops: number) {
  const per = (ms: number) => (ops > 0 ? Math.round((ms / ops) * 100) / 100 : null);
  return {
    broker_ms: per(d.broker),
    broker_system_ms: per(d.brokerSystem),
    vault_ms: per(d.vault),
    postgres_ms: per(d.postgres),
    load_ms: per(d.load),
    total_ms: per(d.broker + d.vault + d.postgres + d.load),
  };
}

/** The processes whose CPU a phase is charged: the broker (primary and workers), the Vault, PostgreSQL, the load. */
export interface CpuPids {
  broker: number;
  vault: number;
  postgres: number;
}

export function cpuSnapshot(p: CpuPids): CpuSnapshot {
  return {
    broker: treeCpuMs(p.broker),
    brokerSystem: treeCpuMs(p.broker, 'system'),
    vault: treeCpuMs(p.vault),
    postgres: treeCpuMs(p.postgres),
    load: cpuMsOf(process.pid),
  };
}

/** Runs a measured loop and charges it the CPU each process used meanwhile, per successful operation. */
export async function withCpu<R extends { ops: number }>(
  pids: CpuPids | undefined,
  run: () => Promise<R>,
): Promise<R & { cpuPerOp?: ReturnType<typeof cpuPerOp> }> {
  if (!pids) return run();
  const before = cpuSnapshot(pids);
  const result = await run();
  return { ...result, cpuPerOp: cpuPerOp(cpuDiff(before, cpuSnapshot(pids)), result.ops) };
}
