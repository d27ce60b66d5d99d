// A real OpenID provider (panva/oidc-provider) for the console's tests, run as its own process: the
// people below sign in through its login page (any password). Clients register themselves with dynamic
// client registration (RFC 7591) once the broker's redirect URI is known; `client_name` becomes the id.
// Prints {"issuer": "..."} on stdout when it listens. Test use only: dev interactions, in-memory state.
import http from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const PEOPLE = {
  alice: { name: 'Alice Approver', email: 'alice@example.com', groups: ['grantline-approvers'] },
  carol: { name: 'Carol Auditor', email: 'carol@example.com', groups: ['grantline-auditors'] },
  dana: {
    name: 'Dana Both',
    email: 'dana@example.com',
    groups: ['grantline-auditors', 'grantline-approvers'],
  },
  mallory: { name: 'Mallory', email: 'mallory@example.com', groups: ['visitors'] },
};

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'test-rs256', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  jwks: { keys: [jwk] },
  cookies: { keys: ['oidc-test-cookie-key-not-secret'] },
  features: {
    devInteractions: { enabled: true },
    registration: { enabled: true, idFactory: (ctx) => ctx.oidc.body.client_name },
  },
  scopes: ['openid', 'profile', 'email', 'groups', 'offline_access'],
  claims: { openid: ['sub'], profile: ['name'], email: ['email'], groups: ['groups'] },
  // Scope claims go in the ID token: the broker reads the person from the ID token alone.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  async findAccount(_ctx, id) {
    const person = PEOPLE[id];
    if (!person) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...person }) };
  },
  // First-party client: no consent screen (the oidc-provider recipe "skip consent").
  async loadExistingGrant(ctx) {
    const grantId =
      ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile email groups');
    grant.addOIDCClaims(['sub', 'name', 'email', 'groups']);
    await grant.save();
    return grant;
  },
});
server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ issuer })}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
