/** What global setup started, handed to the test files through one environment variable. */
export interface RealStackInfo {
  trustDomain: string;
  dir: string;
  agentSocket: string;
  serverSocket: string;
  serverBin: string;
  bundleEndpointUrl: string;
  baoPath: string;
  /** Per actor: its SPIFFE ID, uid and the proxy socket whose calls the agent attests as that uid. */
  actors: Record<ActorName, { spiffeId: string; uid: number; endpoint: string }>;
  brokerSpiffeId: string;
}

export type ActorName = 'orchestrator' | 'agentA' | 'agentB' | 'auditor' | 'approver' | 'resource';

export const STACK_ENV = 'GRANTLINE_REAL_STACK';
export const TRUST_DOMAIN = 'grantline.test';
export const BROKER_ID = `spiffe://${TRUST_DOMAIN}/broker`;
/** uids with no account: the `unix` attestor selects on the numeric uid alone. */
export const ACTOR_IDS: Record<ActorName, { path: string; uid: number }> = {
  orchestrator: { path: '/orchestrator/planner', uid: 61001 },
  agentA: { path: '/agent/a', uid: 61002 },
  agentB: { path: '/agent/b', uid: 61003 },
  auditor: { path: '/auditor/compliance', uid: 61004 },
  resource: { path: '/resource/orders-api', uid: 61005 },
  approver: { path: '/approver/alice-desk', uid: 61006 },
};

export function stackInfo(): RealStackInfo {
  const raw = process.env[STACK_ENV];
  if (!raw) throw new Error(`${STACK_ENV} is not set: run these tests with npm run test:real`);
  return JSON.parse(raw) as RealStackInfo;
}
