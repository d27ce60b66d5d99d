import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { type SpireStack, startSpireStack } from '../../server/dev/spire/spire-stack';
import { call, closeWorkloadClients, type RealBroker, startRealBroker } from './support/real-broker';
import { stackInfo } from './support/stack-info';

const run = promisify(execFile);
const OTHER = 'other.test';
const FEDERATED_AGENT = `spiffe://${OTHER}/agent/x`;

/** A second trust domain whose SPIRE server publishes its bundle on an `https_spiffe` endpoint. */
describe("a federated trust domain's bundle from SPIRE's https_spiffe bundle endpoint", () => {
  let other: SpireStack;
  let dir: string;

  beforeAll(async () => {
    const info = stackInfo();
    dir = path.join(info.dir, 'federation');
    other = await startSpireStack({
      dir: path.join(dir, 'spire'),
      trustDomain: OTHER,
      serverBin: info.serverBin,
      agentBin: info.serverBin.replace(/spire-server$/, 'spire-agent'),
      bundleEndpoint: true,
    });
    fs.writeFileSync(
      path.join(dir, 'bootstrap.json'),
      await other.serverCli(['bundle', 'show'], ['-format', 'spiffe']),
    );
  });
  afterAll(async () => {
    closeWorkloadClients();
    await other?.stop();
  });

  /** A broker whose config/federation.json names other.test's endpoint with `endpointId`. */
  async function brokerFederatedWith(endpointId: string, name: string): Promise<RealBroker> {
    const configDir = path.join(dir, name);
    fs.cpSync(path.resolve(__dirname, '../../config'), configDir, { recursive: true });
    fs.writeFileSync(
      path.join(configDir, 'federation.json'),
      JSON.stringify([
        {
          trust_domain: OTHER,
          bundle_endpoint: other.bundleEndpointUrl,
          bundle_endpoint_profile: 'https_spiffe',
          endpoint_spiffe_id: endpointId,
          bootstrap_bundle: path.join(dir, 'bootstrap.json'),
        },
      ]),
    );
    return startRealBroker({ GRANTLINE_CONFIG_DIR: configDir });
  }

  const mint = async () =>
    (
      await run(stackInfo().serverBin, [
        'jwt',
        'mint',
        '-socketPath',
        other.serverSocket,
        '-spiffeID',
        FEDERATED_AGENT,
        '-audience',
        'grantline',
      ])
    ).stdout.trim();

  async function requestAsFederated(rb: RealBroker): Promise<number> {
    const opened = await call(rb, 'POST', '/v1/tasks', {
      as: 'orchestrator',
      body: {
        purpose: 'federation',
        agents: [FEDERATED_AGENT],
        scopes: ['kv:demo/api-key'],
        audiences: ['crm'],
        ttl: '10m',
        limits: { max_grants: 5, max_active: 5, max_depth: 1, max_fanout: 1, budget: 5 },
        context: { task_type: 'analysis', data_sensitivity: 'low', risk_score: 5 },
      },
    });
    expect(opened.status).toBe(201);
    const granted = await call(rb, 'POST', `/v1/tasks/${opened.body.id}/grants`, {
      bearer: await mint(),
      body: { scopes: ['kv:demo/api-key'], audience: 'crm', ttl: '5m', context: { tool: 'crm' } },
    });
    return granted.status;
  }

  test('when the endpoint presents the configured SPIFFE ID, then SVIDs of the federated domain are accepted', async () => {
    const rb = await brokerFederatedWith(`spiffe://${OTHER}/spire/server`, 'right');
    try {
      expect(await requestAsFederated(rb)).toBe(201);
    } finally {
      await rb.stop();
    }
  });

  test('when the endpoint is not the SPIFFE ID configured, then no bundle is taken and its SVIDs are refused', async () => {
    const rb = await brokerFederatedWith(`spiffe://${OTHER}/not/the/server`, 'wrong');
    try {
      expect(await requestAsFederated(rb)).toBe(401);
      expect(rb.logs.some((l) => l.includes('trust bundle load failed') && l.includes(OTHER))).toBe(true);
    } finally {
      await rb.stop();
    }
  });
});
