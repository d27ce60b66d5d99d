import path from 'node:path';

/** Where the broker keeps its local state (embedded PostgreSQL, dev keys, dev trust domain). */
export function grantlineHome(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(
    env.GRANTLINE_HOME && env.GRANTLINE_HOME.length > 0 ? env.GRANTLINE_HOME : '.grantline',
  );
}
