import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../server/config/config';
import { ConfigError } from '../../../server/config/config.errors';
import { loadScopeCatalogue, vaultPoliciesFor } from '../../../server/config/scope-catalogue';

function problemsOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  test('when nothing is set, then the embedded developer defaults apply and the result is frozen', () => {
    const config = loadConfig({});
    expect(config.http).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(config.database.url).toBeUndefined();
    expect(config.vault).toBeUndefined();
    expect(config.identity.audience).toBe('grantline');
    expect(config.tokens).toMatchObject({ defaultTtlSeconds: 300, maxTtlSeconds: 3600 });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.http)).toBe(true);
  });

  test('when several values are bad, then start-up fails naming every bad key and never the value', () => {
    const err = problemsOf({
      GRANTLINE_PORT: 'eighty',
      DATABASE_URL: 'not a url hunter2',
      VAULT_TIMEOUT: 'soon',
      VAULT_SKIP_VERIFY: 'yes',
    });
    expect(err.problems.map((p) => p.key).sort()).toEqual([
      'DATABASE_URL',
      'GRANTLINE_PORT',
      'VAULT_SKIP_VERIFY',
      'VAULT_TIMEOUT',
    ]);
    expect(err.message).not.toContain('hunter2');
    expect(err.message).not.toContain('eighty');
  });

  test('when VAULT_ADDR is set without VAULT_TOKEN, then start-up fails: no secret has a default', () => {
    expect(problemsOf({ VAULT_ADDR: 'https://vault.example:8200' }).problems).toEqual([
      { key: 'VAULT_TOKEN', problem: 'required when VAULT_ADDR is set' },
    ]);
  });

  test('when a TLS certificate is set without its key, then start-up fails', () => {
    expect(problemsOf({ GRANTLINE_TLS_CERT: '/tmp/cert.pem' }).problems[0]!.key).toBe(
      'GRANTLINE_TLS_CERT/GRANTLINE_TLS_KEY',
    );
  });

  test('when durations are given in any accepted form, then they become seconds', () => {
    const config = loadConfig({
      GRANTLINE_ACCESS_TOKEN_TTL: '90s',
      GRANTLINE_ACCESS_TOKEN_MAX_TTL: '2h',
      VAULT_ADDR: 'http://127.0.0.1:8200',
      VAULT_TOKEN: 't',
      VAULT_TIMEOUT: '3',
    });
    expect(config.tokens).toMatchObject({ defaultTtlSeconds: 90, maxTtlSeconds: 7200 });
    expect(config.vault?.timeoutMs).toBe(3000);
  });
});

describe('scope catalogue', () => {
  const dirWith = (scopes: unknown) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-scopes-'));
    fs.writeFileSync(
      path.join(dir, 'scopes.json'),
      typeof scopes === 'string' ? scopes : JSON.stringify(scopes),
    );
    return dir;
  };

  test('when the shipped catalogue is loaded, then every dev scope is valid and policies are unioned', () => {
    const catalogue = loadScopeCatalogue(path.resolve(__dirname, '../../../config'));
    expect([...catalogue.keys()].sort()).toEqual([
      'db:demo:read',
      'kv:demo/api-key',
      'mcp:orders:read',
      'tool:demo:deploy',
    ]);
    expect(catalogue.get('tool:demo:deploy')?.privileged).toBe(true);
    expect(vaultPoliciesFor(catalogue, ['db:demo:read', 'tool:demo:deploy'])).toEqual([
      'grantline-demo-deploy',
      'grantline-demo-read',
    ]);
  });

  test('when a scope entry is wrong, then start-up fails naming the scope and the field', () => {
    const err = (() => {
      try {
        loadScopeCatalogue(
          dirWith({
            'db:x:read': {
              cost: -1,
              sensitivity: 'huge',
              vault: { kind: 'dynamic', path: 'database/creds/x' },
            },
          }),
        );
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(err.problems.map((p) => p.key)).toEqual(
      expect.arrayContaining([
        'config/scopes.json:db:x:read.cost',
        'config/scopes.json:db:x:read.sensitivity',
      ]),
    );
  });

  test('when scopes.json is not JSON, then start-up fails saying so', () => {
    expect(() => loadScopeCatalogue(dirWith('{nope'))).toThrow(/config\/scopes.json: not valid JSON/);
  });
});

describe('the dev defaults are for local use only', () => {
  test('when the broker listens beyond loopback without real Vault, PostgreSQL and bundle, then start-up fails', () => {
    expect(problemsOf({ GRANTLINE_HOST: '0.0.0.0' }).problems[0]!.key).toBe(
      'DATABASE_URL/VAULT_ADDR/GRANTLINE_TRUST_BUNDLE',
    );
  });

  test('when NODE_ENV is production and only Vault is missing, then start-up fails naming it', () => {
    const err = problemsOf({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://db/grantline',
      GRANTLINE_TRUST_BUNDLE: '/etc/spire/bundle.json',
      GRANTLINE_TRUST_DOMAIN: 'example.org',
    });
    expect(err.problems[0]!.key).toBe('VAULT_ADDR');
  });

  test('when GRANTLINE_ALLOW_DEV=true, then the dev defaults run anywhere', () => {
    expect(loadConfig({ GRANTLINE_HOST: '0.0.0.0', GRANTLINE_ALLOW_DEV: 'true' }).http.host).toBe('0.0.0.0');
  });
});

describe('trust source and local Vault choice', () => {
  const expectProblem = (env: Record<string, string>, key: string) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    try {
      loadConfig(env);
    } catch (err) {
      expect((err as Error).message).toContain(key);
    }
  };

  test('when the Workload API is the trust source, then its socket and trust domain are taken', () => {
    const config = loadConfig({
      GRANTLINE_TRUST_SOURCE: 'workload-api',
      SPIFFE_ENDPOINT_SOCKET: 'unix:///run/spire/agent.sock',
      GRANTLINE_TRUST_DOMAIN: 'example.org',
      GRANTLINE_TLS_SVID: 'true',
    });
    expect(config.identity.source).toBe('workload-api');
    expect(config.identity.workloadApi).toEqual({
      address: 'unix:///run/spire/agent.sock',
      spiffeId: undefined,
    });
    expect(config.http.tlsFromSvid).toEqual({ port: 8443 });
  });

  test('when the Workload API source lacks its socket or trust domain, or the socket is bad, then start-up fails', () => {
    expectProblem(
      { GRANTLINE_TRUST_SOURCE: 'workload-api', GRANTLINE_TRUST_DOMAIN: 'example.org' },
      'SPIFFE_ENDPOINT_SOCKET',
    );
    expectProblem(
      { GRANTLINE_TRUST_SOURCE: 'workload-api', SPIFFE_ENDPOINT_SOCKET: 'unix:///a.sock' },
      'GRANTLINE_TRUST_DOMAIN',
    );
    expectProblem(
      {
        GRANTLINE_TRUST_SOURCE: 'workload-api',
        SPIFFE_ENDPOINT_SOCKET: 'unix://host/a',
        GRANTLINE_TRUST_DOMAIN: 'x.org',
      },
      'SPIFFE_ENDPOINT_SOCKET',
    );
  });

  test('when the SVID-served listener is asked for without the Workload API, then start-up fails', () => {
    expectProblem({ GRANTLINE_TLS_SVID: 'true' }, 'GRANTLINE_TLS_SVID');
  });

  test('when GRANTLINE_VAULT is unset, then it is auto; with VAULT_ADDR it may not force a local Vault', () => {
    expect(loadConfig({}).localVault).toBe('auto');
    expect(loadConfig({ GRANTLINE_VAULT: 'dev' }).localVault).toBe('dev');
    expectProblem(
      { GRANTLINE_VAULT: 'bao', VAULT_ADDR: 'http://127.0.0.1:8200', VAULT_TOKEN: 't' },
      'GRANTLINE_VAULT',
    );
    expectProblem({ GRANTLINE_VAULT: 'sometimes' }, 'GRANTLINE_VAULT');
  });
});

describe('console configuration', () => {
  const oidc = {
    GRANTLINE_CONSOLE_OIDC_ISSUER: 'https://idp.example',
    GRANTLINE_CONSOLE_OIDC_CLIENT_ID: 'grantline-console',
    GRANTLINE_CONSOLE_ROLE_MAP: '{"approver": ["approvers"], "auditor": ["auditors"]}',
  };

  test('when an identity provider is configured, then the role map is parsed and cookies are not Secure on loopback http', () => {
    const config = loadConfig(oidc);
    expect(config.console.oidc).toMatchObject({
      issuer: 'https://idp.example',
      clientId: 'grantline-console',
      roleClaim: 'groups',
      scopes: 'openid profile email',
      roleMap: { approver: ['approvers'], auditor: ['auditors'] },
    });
    expect(config.console.secureCookies).toBe(false);
    expect(config.console.sessionTtlSeconds).toBe(1800);
  });

  test('when the console is half configured or its role map is bad, then start-up names each key', () => {
    const keys = (env: Record<string, string>) => problemsOf(env).problems.map((p) => p.key);
    expect(keys({ GRANTLINE_CONSOLE_OIDC_ISSUER: 'https://idp.example' })).toContain(
      'GRANTLINE_CONSOLE_OIDC_ISSUER/GRANTLINE_CONSOLE_OIDC_CLIENT_ID',
    );
    expect(keys({ ...oidc, GRANTLINE_CONSOLE_ROLE_MAP: '{"admin": ["x"]}' })).toContain(
      'GRANTLINE_CONSOLE_ROLE_MAP',
    );
    expect(keys({ ...oidc, GRANTLINE_CONSOLE_ROLE_MAP: 'not json' })).toContain('GRANTLINE_CONSOLE_ROLE_MAP');
    expect(keys({ ...oidc, GRANTLINE_CONSOLE_OIDC_SCOPES: 'profile email' })).toContain(
      'GRANTLINE_CONSOLE_OIDC_SCOPES',
    );
    const { GRANTLINE_CONSOLE_ROLE_MAP: _, ...noMap } = oidc;
    expect(keys(noMap)).toContain('GRANTLINE_CONSOLE_ROLE_MAP');
  });

  test('when in production, then sign-in needs a shared session key file and an https console URL', () => {
    const problems = problemsOf({ ...oidc, NODE_ENV: 'production' }).problems.map((p) => p.key);
    expect(problems).toEqual(
      expect.arrayContaining(['GRANTLINE_CONSOLE_SESSION_KEY_FILE', 'GRANTLINE_CONSOLE_URL']),
    );
    const err = problemsOf({
      ...oidc,
      NODE_ENV: 'production',
      GRANTLINE_CONSOLE_OIDC_CLIENT_SECRET: 'hunter2',
    });
    expect(err.message).not.toContain('hunter2');
  });
});
