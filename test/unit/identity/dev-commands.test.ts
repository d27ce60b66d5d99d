import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { decodeJwt } from 'jose';
import { registerDevCommands } from '../../../server/cli/commands/dev';

describe('grantline dev commands', () => {
  let home: string;
  let out: string[];
  const env = process.env;

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'grantline-cli-'));
    process.env = { ...env, GRANTLINE_HOME: home, GRANTLINE_AUDIENCE: 'from-env' };
    out = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    process.env = env;
    await rm(home, { recursive: true, force: true });
  });

  const run = (...args: string[]) => {
    const program = new Command().exitOverride();
    registerDevCommands(program);
    return program.parseAsync(['node', 'grantline', ...args]);
  };

  it('when `dev svid` runs, then stdout holds exactly one JWT-SVID with the env audience and the ttl', async () => {
    await run('dev', 'svid', 'spiffe://dev.grantline.local/agent/a', '--ttl', '90s');
    expect(out).toHaveLength(1);
    const token = out[0]!.trim();
    expect(token.split('.')).toHaveLength(3);
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ sub: 'spiffe://dev.grantline.local/agent/a', aud: ['from-env'] });
    expect(claims.exp! - claims.iat!).toBe(90);
  });

  it('when `dev svid` gets --audience, then it wins over the environment', async () => {
    await run('dev', 'svid', 'spiffe://dev.grantline.local/agent/a', '--audience', 'explicit');
    expect(decodeJwt(out[0]!.trim()).aud).toEqual(['explicit']);
  });

  it('when `dev svid` gets a bad ttl or a foreign ID, then it fails', async () => {
    await expect(run('dev', 'svid', 'spiffe://dev.grantline.local/a', '--ttl', 'soon')).rejects.toThrow(
      /--ttl/,
    );
    await expect(run('dev', 'svid', 'spiffe://prod.example/a')).rejects.toThrow(/dev trust domain/);
  });

  it('when `dev x509` runs, then it writes svid.pem, a 0600 svid.key and bundle.pem', async () => {
    const dir = path.join(home, 'out');
    await run('dev', 'x509', 'spiffe://dev.grantline.local/agent/x', '--out', dir);
    const cert = new X509Certificate(await readFile(path.join(dir, 'svid.pem')));
    expect(cert.subjectAltName).toBe('URI:spiffe://dev.grantline.local/agent/x');
    expect(cert.checkIssued(new X509Certificate(await readFile(path.join(dir, 'bundle.pem'))))).toBe(true);
    expect((await stat(path.join(dir, 'svid.key'))).mode & 0o777).toBe(0o600);
  });

  it('when `dev init` runs, then the dev trust domain exists under GRANTLINE_HOME', async () => {
    await run('dev', 'init');
    await expect(stat(path.join(home, 'dev-identity', 'bundle.json'))).resolves.toBeDefined();
  });
});
