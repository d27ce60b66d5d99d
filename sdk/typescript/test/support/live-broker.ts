import {
  AGENT_A,
  AGENT_B,
  AUDITOR,
  ORCHESTRATOR,
  openTaskBody,
  RESOURCE,
  STRANGER,
  startTestBroker,
  type TestBroker,
} from '../../../../test/helpers/broker';
import {
  createGrantlineClient,
  type GrantlineClient,
  type GrantlineClientOptions,
  type OpenTaskRequest,
} from '../../src';
import { devTrustDomain } from '../../src/identity/dev-trust-domain';

const TEST_AUDIENCES = [
  'orders',
  'orders-db',
  'orders-api',
  'deploy',
  'deployer',
  'x',
  'https://orders.example/api',
  'https://billing.example/api',
  'https://orders.example/mcp',
];

export { AGENT_A, AGENT_B, AUDITOR, ORCHESTRATOR, RESOURCE, STRANGER };

export interface LiveBroker {
  t: TestBroker;
  url: string;
  /** A client acting as `spiffeId`, with JWT-SVIDs from the broker's dev trust domain. */
  as(spiffeId: string, extra?: Partial<GrantlineClientOptions>): GrantlineClient;
  openTask(overrides?: Partial<OpenTaskRequest>): Promise<string>;
  stop(): Promise<void>;
}

/** A real broker (PostgreSQL, dev Vault, dev trust domain) on a random port, and SDK clients for it. */
export async function startLiveBroker(
  opts: Parameters<typeof startTestBroker>[0] & { home?: string } = {},
): Promise<LiveBroker> {
  const t = await startTestBroker({
    ...opts,
    env: { ...opts.env, ...(opts.home ? { GRANTLINE_HOME: opts.home } : {}) },
  });
  const home = opts.home ?? t.home;
  const clients: GrantlineClient[] = [];
  const as = (spiffeId: string, extra: Partial<GrantlineClientOptions> = {}) => {
    const c = createGrantlineClient({
      url: t.broker.url,
      identity: devTrustDomain({ spiffeId, home }),
      retry: { baseDelayMs: 10, maxDelayMs: 50 },
      ...extra,
    });
    clients.push(c);
    return c;
  };
  const orchestrator = as(ORCHESTRATOR);
  return {
    t,
    url: t.broker.url,
    as,
    // The tests' tokens go to these audiences (a task declares where its tokens may be used).
    openTask: async (overrides = {}) =>
      (
        await orchestrator.tasks.open({
          ...(openTaskBody() as OpenTaskRequest),
          audiences: TEST_AUDIENCES,
          ...overrides,
        })
      ).id,
    async stop() {
      for (const c of clients) await c.close();
      await t.stop();
    },
  };
}
