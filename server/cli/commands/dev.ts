import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { grantlineHome } from '../../config/home';
import { parseDurationSeconds } from '../../shared/duration';

/** The dev trust domain (server/dev), loaded only when a `dev` command runs. */
const devTrustDomain = () => import('../../dev/identity/dev-trust-domain.js');

function ttlSeconds(input: string): number {
  const seconds = parseDurationSeconds(input);
  if (seconds === undefined || seconds <= 0)
    throw new Error(`--ttl ${input} is not a positive duration (e.g. 90s, 5m)`);
  return seconds;
}

const defaultAudience = (): string => process.env.GRANTLINE_AUDIENCE ?? 'grantline';

async function writeSvidFiles(dir: string, svid: { certPem: string; keyPem: string; bundlePem: string }) {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'svid.pem'), svid.certPem, { mode: 0o644 });
  // A fresh file, so the 0600 mode applies even when an older svid.key with looser rights was there.
  const keyFile = path.join(dir, 'svid.key');
  await rm(keyFile, { force: true });
  await writeFile(keyFile, svid.keyPem, { mode: 0o600, flag: 'wx' });
  await writeFile(path.join(dir, 'bundle.pem'), svid.bundlePem, { mode: 0o644 });
}

/** `grantline dev …`: the development trust domain (never for production). Actions are async: use parseAsync. */
export function registerDevCommands(program: Command): void {
  const dev = program
    .command('dev')
    .description('development identity: a local SPIFFE trust domain (spiffe://dev.grantline.local)');

  dev
    .command('init')
    .description('create (or reuse) the dev trust domain under $GRANTLINE_HOME/dev-identity')
    .action(async () => {
      const { initDevTrustDomain } = await devTrustDomain();
      const domain = await initDevTrustDomain(grantlineHome());
      console.log(`dev trust domain spiffe://${domain.trustDomain} ready in ${domain.dir}`);
      console.log(`bundle: ${domain.bundlePath}`);
      console.log('development only: its private keys are on this disk');
    });

  dev
    .command('svid <spiffe-id>')
    .description('print a JWT-SVID for <spiffe-id> (in the dev trust domain) to stdout')
    .option('--audience <audience>', 'the aud claim (default: $GRANTLINE_AUDIENCE or "grantline")')
    .option('--ttl <duration>', 'lifetime, e.g. 90s, 5m', '5m')
    .action(async (spiffeId: string, opts: { audience?: string; ttl: string }) => {
      const { mintDevJwtSvid } = await devTrustDomain();
      const token = await mintDevJwtSvid({
        home: grantlineHome(),
        spiffeId,
        audience: opts.audience ?? defaultAudience(),
        ttlSeconds: ttlSeconds(opts.ttl),
      });
      process.stdout.write(`${token}\n`);
    });

  dev
    .command('x509 <spiffe-id>')
    .description('write an X509-SVID for <spiffe-id>: svid.pem, svid.key (0600) and bundle.pem')
    .requiredOption('--out <dir>', 'directory to write the files to')
    .option('--ttl <duration>', 'lifetime, e.g. 1h', '1h')
    .action(async (spiffeId: string, opts: { out: string; ttl: string }) => {
      const { issueDevX509Svid } = await devTrustDomain();
      const svid = await issueDevX509Svid({
        home: grantlineHome(),
        spiffeId,
        ttlSeconds: ttlSeconds(opts.ttl),
      });
      const dir = path.resolve(opts.out);
      await writeSvidFiles(dir, svid);
      console.error(`wrote ${path.join(dir, 'svid.pem')}, svid.key and bundle.pem`);
    });
}
