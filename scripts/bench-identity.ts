import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initDevTrustDomain, mintDevJwtSvid } from '../server/dev/identity/dev-trust-domain';
import { createIdentityService } from '../server/identity';
import { systemClock } from '../server/shared/clock';
import { createLogger } from '../server/shared/logger';
import { createMetrics } from '../server/shared/metrics';

const AUDIENCE = 'grantline-bench';

/**
 * JWT-SVID verifications per second on one core: the full path (shape, header, strict SPIFFE ID parse,
 * per-trust-domain key lookup, ES256 signature, claims, lifetime cap), run sequentially for `durationMs`
 * against a throwaway dev trust domain.
 */
export async function benchIdentity(opts: { durationMs: number }): Promise<{ verificationsPerSec: number }> {
  const home = await mkdtemp(path.join(tmpdir(), 'grantline-bench-identity-'));
  const identity = createIdentityService({
    config: {
      trustDomain: 'dev.grantline.local',
      audience: AUDIENCE,
      federation: [],
      maxSvidLifetimeSeconds: 3600,
      leewaySeconds: 30,
      devHome: home,
    },
    logger: createLogger({ level: 'silent' }),
    metrics: createMetrics({ collectProcess: false }),
    clock: systemClock,
  });
  try {
    await initDevTrustDomain(home);
    await identity.start();
    const token = await mintDevJwtSvid({
      home,
      spiffeId: 'spiffe://dev.grantline.local/bench/agent',
      audience: AUDIENCE,
      ttlSeconds: 3600,
    });
    await identity.verifyJwtSvid(token); // warm the key import cache
    const started = performance.now();
    const deadline = started + Math.max(1, opts.durationMs);
    let count = 0;
    while (performance.now() < deadline) {
      await identity.verifyJwtSvid(token);
      count += 1;
    }
    const elapsedSeconds = (performance.now() - started) / 1000;
    return { verificationsPerSec: Math.round(count / elapsedSeconds) };
  } finally {
    identity.stop();
    await rm(home, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const durationMs = Number(process.argv[2] ?? 3000);
  benchIdentity({ durationMs })
    .then((result) => console.log(JSON.stringify(result)))
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
