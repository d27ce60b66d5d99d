import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { findTool, toolsCacheDir } from '../../../server/dev/openbao/find-bao';
import { type OpenBaoDevServer, startOpenBaoDev } from '../../../server/dev/openbao/openbao-dev-server';
import { type SpireStack, startSpireStack } from '../../../server/dev/spire/spire-stack';
import startPostgres from '../../helpers/global-setup';
import {
  ACTOR_IDS,
  type ActorName,
  BROKER_ID,
  type RealStackInfo,
  STACK_ENV,
  TRUST_DOMAIN,
} from './stack-info';
import { startUidProxy } from './uid-proxy';

export interface Started {
  bao: OpenBaoDevServer;
  spire: SpireStack;
  proxies: Server[];
  dir: string;
}

/** A missing tool is a failure, never a skip: the point of this suite is the real thing. */
function requireTool(name: string): string {
  const found = findTool(name);
  if (!found) {
    throw new Error(
      `${name} is not installed (not on PATH, not in ${toolsCacheDir()}/bin): run npm run tools:install`,
    );
  }
  return found;
}

export default async function globalSetup(): Promise<void> {
  const baoPath = requireTool('bao');
  const serverBin = requireTool('spire-server');
  const agentBin = requireTool('spire-agent');
  await startPostgres();
  // Short: Unix socket paths are limited to 107 bytes.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-real-'));
  // The workloads' uids must reach the agent socket below it (the proxy sockets themselves are 0600).
  fs.chmodSync(dir, 0o755);
  const started: Partial<Started> = { dir, proxies: [] };
  (globalThis as Record<string, unknown>).__grantlineRealStack = started;
  started.bao = await startOpenBaoDev(baoPath);
  // The contract suite (test/contract) targets this OpenBao; its database engine reaches TEST_DATABASE_URL.
  process.env.VAULT_ADDR = started.bao.url;
  process.env.VAULT_TOKEN = started.bao.rootToken;
  const spire = await startSpireStack({
    dir: path.join(dir, 'spire'),
    trustDomain: TRUST_DOMAIN,
    serverBin,
    agentBin,
    bundleEndpoint: true,
  });
  started.spire = spire;
  // The broker (this process, uid 0) gets a short-lived X509-SVID so the tests see SPIRE rotate it.
  await spire.createEntry({ spiffeId: BROKER_ID, selectors: ['unix:uid:0'], x509SvidTtlSeconds: 30 });
  const actors = {} as RealStackInfo['actors'];
  for (const [name, a] of Object.entries(ACTOR_IDS) as Array<[ActorName, { path: string; uid: number }]>) {
    const spiffeId = `spiffe://${TRUST_DOMAIN}${a.path}`;
    await spire.createEntry({ spiffeId, selectors: [`unix:uid:${a.uid}`] });
    const proxyPath = path.join(dir, `${name}.sock`);
    started.proxies!.push(await startUidProxy(proxyPath, spire.agentSocket, a.uid));
    actors[name] = { spiffeId, uid: a.uid, endpoint: `unix://${proxyPath}` };
  }
  const info: RealStackInfo = {
    trustDomain: TRUST_DOMAIN,
    dir,
    agentSocket: spire.agentSocket,
    serverSocket: spire.serverSocket,
    serverBin,
    bundleEndpointUrl: spire.bundleEndpointUrl!,
    baoPath,
    actors,
    brokerSpiffeId: BROKER_ID,
  };
  process.env[STACK_ENV] = JSON.stringify(info);
  const baoVersion = execFileSync(baoPath, ['version'], { encoding: 'utf8' }).trim();
  console.log(
    `\nreal stack: ${baoVersion} (${baoPath})\nreal stack: SPIRE server and agent ${spire.version} (${serverBin})\n`,
  );
}
