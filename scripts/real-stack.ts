/**
 * `npm run real-stack -- up`: SPIRE and OpenBao from the tools cache, on this machine, for a person to try
 * Grantline on the real systems. Stays in the foreground and prints the environment `grantline serve`
 * needs (also written to <stack dir>/env); Ctrl-C (or `npm run real-stack -- down`) stops everything.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../server/config/config';
import { REAL_IDENTITIES, REAL_TRUST_DOMAIN, startRealStack } from '../server/dev/real-stack';
import { createLogger } from '../server/shared/logger';

const pidFile = path.join(os.tmpdir(), `grantline-real-stack-${os.userInfo().uid}.pid`);

async function up(): Promise<void> {
  const logger = createLogger({ level: 'warn' }, process.stderr);
  const config = loadConfig({ ...process.env, VAULT_ADDR: '', VAULT_TOKEN: '' });
  const stack = await startRealStack(config, logger);
  const exports = Object.entries(stack.env).map(([k, v]) => `export ${k}=${v}`);
  const envFile = path.join(stack.spire.dir, 'env');
  fs.writeFileSync(envFile, `${exports.join('\n')}\n`, { mode: 0o600 });
  fs.writeFileSync(pidFile, String(process.pid));
  console.log(
    `SPIRE ${stack.spire.version} (trust domain ${REAL_TRUST_DOMAIN}) and OpenBao ${stack.bao.version} are up.`,
  );
  console.log(`\nThe broker's environment (also in ${envFile}; VAULT_TOKEN is the dev root token):\n`);
  console.log(exports.join('\n'));
  console.log('\nIn another terminal:');
  console.log(`  . ${envFile} && npx grantline serve`);
  console.log('Then act as any registered workload (all are attested by your uid; pick one per command):');
  for (const p of Object.values(REAL_IDENTITIES).slice(1)) {
    console.log(
      `  GRANTLINE_SPIFFE_ID=spiffe://${REAL_TRUST_DOMAIN}${p} SPIFFE_ENDPOINT_SOCKET=${stack.env.SPIFFE_ENDPOINT_SOCKET} npx grantline …`,
    );
  }
  console.log('\nCtrl-C stops SPIRE and OpenBao.');
  const shutdown = () => {
    stack.stop().finally(() => {
      fs.rmSync(pidFile, { force: true });
      process.exit(0);
    });
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

function down(): void {
  if (!fs.existsSync(pidFile)) {
    console.log('no real stack is running');
    return;
  }
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  try {
    process.kill(pid, 'SIGTERM');
    console.log(`stopping the real stack (pid ${pid})`);
  } catch {
    console.log('the real stack had already stopped');
    fs.rmSync(pidFile, { force: true });
  }
}

const command = process.argv[2];
if (command === 'up') {
  up().catch((err: Error) => {
    console.error(`real-stack: ${err.message}`);
    process.exit(1);
  });
} else if (command === 'down') down();
else {
  console.error('usage: npm run real-stack -- up|down');
  process.exit(2);
}
