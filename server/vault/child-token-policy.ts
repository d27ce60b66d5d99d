/**
 * Task and grant tokens mint children (grant tokens, scope tokens, delegated grants), and Vault's
 * `default` policy does not allow `auth/token/create`: every such token carries this policy too. The
 * operator of a real Vault writes the same policy (README: "Vault set-up").
 */
export const CHILD_TOKEN_POLICY = 'grantline-child-tokens';
export const CHILD_TOKEN_POLICY_DOCUMENT = {
  path: { 'auth/token/create': { capabilities: ['create', 'update'] } },
};
