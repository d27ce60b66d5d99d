import { loadPolicyEngine } from '../../../server/policy';
import { grantRequest, POLICY_DIR, silentLogger, refund } from './policy-fixtures';
test('smoke', () => {
  const e = loadPolicyEngine({ dir: POLICY_DIR, logger: silentLogger });
  console.log(e.version, JSON.stringify(e.authorize(grantRequest())), JSON.stringify(e.authorize(grantRequest({scope: refund, context: {requestedTtl: 900}}))));
  console.log(JSON.stringify(e.authorize(grantRequest({task: {...grantRequest().task!, riskScore: 1.5}}))));
  console.log(JSON.stringify(e.authorize(grantRequest({scope: undefined}))));
});
