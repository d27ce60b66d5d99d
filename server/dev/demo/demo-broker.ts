import { loadConfig } from '../../config/config';
import { grantlineHome } from '../../config/home';
import { startBroker } from '../../main';
import { createLogger } from '../../shared/logger';

export interface DemoBroker {
  url: string;
  /** Where the dev trust domain lives, to mint the actors' SVIDs. */
  home: string;
  audience: string;
  /** True when the demo started the broker itself (and stops it at the end). */
  embedded: boolean;
  stop(): Promise<void>;
}

/** Is a broker answering `/healthz` at `url`? (No SVID needed: liveness is public.) */
async function brokerIsUp(url: string, timeoutMs = 1500): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * The broker at `url` if it answers /healthz; otherwise one started in-process on the embedded defaults
 * (embedded PostgreSQL, dev Vault, dev trust domain), on a free port so nothing already listening clashes.
 */
export async function acquireDemoBroker(
  url: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DemoBroker> {
  const audience = env.GRANTLINE_AUDIENCE || 'grantline';
  const base = url.replace(/\/+$/, '');
  if (await brokerIsUp(base)) {
    return {
      url: base,
      home: grantlineHome(env),
      audience,
      embedded: false,
      stop: async () => undefined,
    };
  }
  const config = loadConfig({ ...env, GRANTLINE_PORT: '0' });
  // Its start-up warnings (dev Vault, dev trust domain) are summed up by the demo in one line instead.
  const broker = await startBroker(config, { logger: createLogger({ level: 'error' }, process.stderr) });
  return {
    url: broker.url,
    home: config.home,
    audience: config.identity.audience,
    embedded: true,
    stop: () => broker.stop(),
  };
}
