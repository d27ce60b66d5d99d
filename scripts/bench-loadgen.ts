import { loadScopeCatalogue } from '../server/config/scope-catalogue';
import { createDb } from '../server/db/pool';
import { createLogger } from '../server/shared/logger';
import { createVaultAdapter } from '../server/vault';
import { benchClose } from './bench-close';
import type { CpuPids } from './bench-cpu';
import { benchRedemptions } from './bench-delegation';
import { benchBrokerGrants, benchDirectVault } from './bench-grants';
import { type BenchTarget, createBenchHttp } from './bench-harness';
import { benchKit } from './bench-kit';
import { benchLineage } from './bench-lineage';

/**
 * The load generator: a process of its own (forked by `npm run bench`), so the broker's workers, the
 * Vault and the load each have their own event loop, as in production. It drives the broker over HTTP
 * with real JWT-SVIDs and does the direct Vault work through the same adapter the broker uses.
 */

export interface LoadInit {
  brokerUrl: string;
  home: string;
  dbUrl: string;
  dbName: string;
  vault: { addr: string; token: string };
  configDir: string;
  pids?: CpuPids;
}

// biome-ignore lint/suspicious/noExplicitAny: each phase takes its own argument shape, checked by the caller
type Phase = (b: BenchTarget, args: any) => Promise<unknown>;

export const PHASES = {
  grants: benchBrokerGrants,
  direct: benchDirectVault,
  redemptions: benchRedemptions,
  close: benchClose,
  lineage: benchLineage,
  kit: benchKit,
} satisfies Record<string, Phase>;

export type PhaseName = keyof typeof PHASES;

export type LoadRequest =
  | { type: 'init'; init: LoadInit }
  | { type: 'run'; id: number; phase: PhaseName; args: unknown }
  | { type: 'exit' };

export type LoadReply =
  | { type: 'ready' }
  | { type: 'done'; id: number; ok: true; result: unknown }
  | { type: 'done'; id: number; ok: false; error: string };

function targetOf(init: LoadInit): BenchTarget {
  const quiet = createLogger({ level: 'warn' }, { write: () => undefined });
  return {
    http: createBenchHttp(init.brokerUrl, init.home),
    db: createDb(init.dbUrl, { max: 4, applicationName: 'grantline-bench' }),
    dbName: init.dbName,
    home: init.home,
    brokerUrl: init.brokerUrl,
    // As the broker builds it (server/wiring/vault-connection.ts): same client, keep-alive, timeout.
    vault: createVaultAdapter(
      { addr: init.vault.addr, token: init.vault.token, timeoutMs: 5000 },
      { logger: quiet },
    ),
    catalogue: loadScopeCatalogue(init.configDir),
    ...(init.pids ? { pids: init.pids } : {}),
  };
}

function main(): void {
  let target: BenchTarget | undefined;
  const reply = (m: LoadReply) => process.send?.(m);
  process.on('message', (m: LoadRequest) => {
    if (m.type === 'init') {
      target = targetOf(m.init);
      reply({ type: 'ready' });
    } else if (m.type === 'run') {
      const phase = PHASES[m.phase] as Phase;
      phase(target!, m.args).then(
        (result) => reply({ type: 'done', id: m.id, ok: true, result }),
        (err: Error) => reply({ type: 'done', id: m.id, ok: false, error: err.stack ?? String(err) }),
      );
    } else if (m.type === 'exit') {
      target?.http.close();
      void (target?.db.close() ?? Promise.resolve()).finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
}

if (require.main === module) main();
