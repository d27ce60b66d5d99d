import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config/config';
import { systemClock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import { createVaultAdapter, VaultRequestError } from '../vault';
import { connectDatabase, type DatabaseConnection } from '../wiring/database';
import { configureLocalVault } from './local-vault-setup';
import { findTool } from './openbao/find-bao';
import { type OpenBaoDevServer, startOpenBaoDev } from './openbao/openbao-dev-server';
import { type SpireStack, startSpireStack } from './spire/spire-stack';

export const REAL_TRUST_DOMAIN = 'grantline.test';
/** The workloads `real-stack up` registers, all selected by the uid of the person who runs it. */
export const REAL_IDENTITIES = {
  broker: '/broker',
  orchestrator: '/orchestrator/planner',
  agentA: '/agent/a',
  agentB: '/agent/b',
  auditor: '/auditor/compliance',
  approver: '/approver/alice-desk',
  resource: '/resource/orders-api',
} as const;

export interface RealStack {
  env: Record<string, string>;
  spire: SpireStack;
  bao: OpenBaoDevServer;
  stop(): Promise<void>;
}

function requireTool(name: string): string {
  const found = findTool(name);
  if (!found) throw new Error(`${name} is not installed: run npm run tools:install first`);
  return found;
}

/**
 * SPIRE (server + join-token agent, `unix` attestor, one entry per Grantline role) and OpenBao dev with
 * the database engine on the project's PostgreSQL, for a person to try the broker on the real systems.
 * Every identity selects the caller's uid; a client picks one with GRANTLINE_SPIFFE_ID.
 */
export async function startRealStack(config: Config, logger: Logger): Promise<RealStack> {
  const spireBins = { serverBin: requireTool('spire-server'), agentBin: requireTool('spire-agent') };
  const baoPath = requireTool('bao');
  const uid = os.userInfo().uid;
  const dir = path.join(os.tmpdir(), `grantline-real-stack-${uid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  let database: DatabaseConnection | undefined;
  let bao: OpenBaoDevServer | undefined;
  let spire: SpireStack | undefined;
  const stop = async () => {
    await spire?.stop();
    await bao?.stop();
    await database?.shutdown();
  };
  try {
    database = await connectDatabase(config, logger);
    bao = await startOpenBaoDev(baoPath);
    const vault = createVaultAdapter({ addr: bao.url, token: bao.rootToken, timeoutMs: 5000 }, { logger });
    await vault.write('sys/mounts/database', { type: 'database' }).catch((err: unknown) => {
      if (!(err instanceof VaultRequestError)) throw err;
    });
    await configureLocalVault(vault, {
      logger,
      clock: systemClock,
      databaseUrl: database.url,
      demoDatabase: 'grantline_demo',
    });
    spire = await startSpireStack({ dir, trustDomain: REAL_TRUST_DOMAIN, ...spireBins });
    for (const p of Object.values(REAL_IDENTITIES)) {
      await spire.createEntry({
        spiffeId: `spiffe://${REAL_TRUST_DOMAIN}${p}`,
        selectors: [`unix:uid:${uid}`],
      });
    }
    const env = {
      DATABASE_URL: database.url,
      VAULT_ADDR: bao.url,
      VAULT_TOKEN: bao.rootToken,
      GRANTLINE_TRUST_SOURCE: 'workload-api',
      GRANTLINE_TRUST_DOMAIN: REAL_TRUST_DOMAIN,
      SPIFFE_ENDPOINT_SOCKET: spire.endpoint,
      GRANTLINE_SPIFFE_ID: `spiffe://${REAL_TRUST_DOMAIN}${REAL_IDENTITIES.broker}`,
      GRANTLINE_TLS_SVID: 'true',
    };
    return { env, spire, bao, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
