import { loadConfig } from '../../../server/config/config';
import { ConfigError } from '../../../server/config/config.errors';

const PRODUCTION = {
  NODE_ENV: 'production',
  GRANTLINE_HOST: '0.0.0.0',
  DATABASE_URL: 'postgres://db/grantline',
  VAULT_ADDR: 'https://vault.example:8200',
  VAULT_TOKEN: 'hvs.not-a-real-token',
  GRANTLINE_TRUST_BUNDLE: '/etc/spire/bundle.json',
  GRANTLINE_TRUST_DOMAIN: 'example.org',
};

function problemKeys(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.key);
    throw err;
  }
  return [];
}

describe('production refuses an http:// issuer (RFC 8414 §2: clients fetch keys from the issuer)', () => {
  test('when NODE_ENV=production and GRANTLINE_ISSUER is http://, then start-up fails naming it', () => {
    expect(problemKeys({ ...PRODUCTION, GRANTLINE_ISSUER: 'http://grantline.example' })).toEqual([
      'GRANTLINE_ISSUER',
    ]);
  });

  test('when NODE_ENV=production and no issuer is set, then the default (the http listen URL) is refused', () => {
    expect(problemKeys(PRODUCTION)).toEqual(['GRANTLINE_ISSUER']);
  });

  test('when the broker listens beyond loopback without NODE_ENV, an http issuer is refused too', () => {
    const { NODE_ENV: _env, ...exposed } = PRODUCTION;
    expect(problemKeys({ ...exposed, GRANTLINE_ISSUER: 'http://grantline.example' })).toEqual([
      'GRANTLINE_ISSUER',
    ]);
  });

  test('when the issuer is https, then production starts', () => {
    const config = loadConfig({ ...PRODUCTION, GRANTLINE_ISSUER: 'https://grantline.example' });
    expect(config.issuer).toBe('https://grantline.example');
  });

  test('when the broker is local (loopback, not production), then the http default stays allowed', () => {
    expect(loadConfig({}).issuer).toBeUndefined();
    expect(loadConfig({ GRANTLINE_ISSUER: 'http://127.0.0.1:8080' }).issuer).toBe('http://127.0.0.1:8080');
  });
});

describe('multi-audience JWT-SVIDs', () => {
  test('when nothing is set, then they are refused; GRANTLINE_SVID_ALLOW_MULTI_AUDIENCE=true allows them', () => {
    expect(loadConfig({}).identity.allowMultiAudience).toBe(false);
    expect(loadConfig({ GRANTLINE_SVID_ALLOW_MULTI_AUDIENCE: 'true' }).identity.allowMultiAudience).toBe(
      true,
    );
    expect(problemKeys({ GRANTLINE_SVID_ALLOW_MULTI_AUDIENCE: 'yes' })).toEqual([
      'GRANTLINE_SVID_ALLOW_MULTI_AUDIENCE',
    ]);
  });
});

describe('the operator listener (/metrics)', () => {
  test('when nothing is set, then it listens on loopback, one port above the API', () => {
    expect(loadConfig({}).operator).toEqual({ host: '127.0.0.1', port: 8081 });
    expect(loadConfig({ GRANTLINE_PORT: '9000' }).operator.port).toBe(9001);
  });

  test('when the API port is 0 (tests), then the operator port is chosen by the system too', () => {
    expect(loadConfig({ GRANTLINE_PORT: '0' }).operator.port).toBe(0);
  });

  test('when it is configured, then host and port are taken as given', () => {
    expect(
      loadConfig({ GRANTLINE_OPERATOR_HOST: '10.0.0.5', GRANTLINE_OPERATOR_PORT: '9464' }).operator,
    ).toEqual({ host: '10.0.0.5', port: 9464 });
  });

  test('when it would share the API port, then start-up fails', () => {
    expect(problemKeys({ GRANTLINE_PORT: '9000', GRANTLINE_OPERATOR_PORT: '9000' })).toEqual([
      'GRANTLINE_OPERATOR_PORT',
    ]);
    expect(problemKeys({ GRANTLINE_PORT: '65535' })).toEqual(['GRANTLINE_OPERATOR_PORT']);
  });
});
