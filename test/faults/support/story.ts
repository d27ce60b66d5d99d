import { AGENT_A, AGENT_B, ORCHESTRATOR, openTaskBody } from '../../helpers/broker';
import type { BrokerProcess } from './broker-process';
import { DB_SCOPE, KV_SCOPE } from './fault-world';
import type { MintedLogin } from './invariants';

/** The requests of the story the fault tests drive: each takes the broker to send it to. */
type Call = ReturnType<BrokerProcess['call']>;

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';

export const story = {
  open(b: BrokerProcess, limits: Record<string, number> = {}): Call {
    return b.call('POST', '/v1/tasks', {
      as: ORCHESTRATOR,
      body: openTaskBody({
        scopes: [DB_SCOPE, KV_SCOPE],
        audiences: ['orders-db'],
        delegates: [AGENT_B],
        ttl: '30m',
        limits: { max_grants: 20, max_active: 10, max_depth: 2, max_fanout: 3, budget: 20, ...limits },
      }),
    });
  },
  grant(b: BrokerProcess, taskId: string, scopes: string[] = [DB_SCOPE]): Call {
    return b.call('POST', `/v1/tasks/${taskId}/grants`, {
      as: AGENT_A,
      body: { scopes, audience: 'orders-db', ttl: '10m', context: { tool: 'faults' } },
    });
  },
  offer(b: BrokerProcess, grantId: string): Call {
    return b.call('POST', `/v1/grants/${grantId}/delegations`, {
      as: AGENT_A,
      body: { to: AGENT_B, scopes: [DB_SCOPE], ttl: 300, budget: 1 },
    });
  },
  async redeem(b: BrokerProcess, delegationToken: string, svid: (id: string) => Promise<string>): Call {
    return b.call('POST', '/oauth2/token', {
      as: AGENT_B,
      form: {
        grant_type: EXCHANGE,
        subject_token: delegationToken,
        subject_token_type: JWT,
        actor_token: await svid(AGENT_B),
        actor_token_type: JWT,
      },
    });
  },
  revoke(b: BrokerProcess, grantId: string): Call {
    return b.call('POST', `/v1/grants/${grantId}/revoke`, { as: AGENT_A, body: {} });
  },
  close(b: BrokerProcess, taskId: string): Call {
    return b.call('POST', `/v1/tasks/${taskId}/close`, { as: ORCHESTRATOR, body: { reason: 'faults' } });
  },
};

/** The database logins a grant's (or a redemption's) answer carried. */
export function loginsOf(body: { secrets?: Array<{ data?: Record<string, unknown> }> }): MintedLogin[] {
  return (body.secrets ?? []).flatMap((s) =>
    typeof s.data?.username === 'string' && typeof s.data?.password === 'string'
      ? [{ username: s.data.username, password: s.data.password }]
      : [],
  );
}
