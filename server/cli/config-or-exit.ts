import { loadConfig } from '../config/config';
import { ConfigError } from '../config/config.errors';

/** The configuration, or exit 2 naming every bad key (never a value). */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env) {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`grantline: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
