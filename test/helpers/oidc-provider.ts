import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface TestOidcProvider {
  issuer: string;
  /** Registers the console as a public client (PKCE) with this redirect URI (RFC 7591). */
  registerClient(clientId: string, redirectUri: string): Promise<void>;
  stop(): Promise<void>;
}

/** People of the test provider and the groups that map to console roles (see provider.mjs). */
export const TEST_ROLE_MAP = { approver: ['grantline-approvers'], auditor: ['grantline-auditors'] };

/** Environment that points a broker's console at `provider` with client `clientId`. */
export function consoleEnv(
  provider: TestOidcProvider,
  clientId = 'grantline-console',
): Record<string, string> {
  return {
    GRANTLINE_CONSOLE_OIDC_ISSUER: provider.issuer,
    GRANTLINE_CONSOLE_OIDC_CLIENT_ID: clientId,
    GRANTLINE_CONSOLE_OIDC_SCOPES: 'openid profile email groups',
    GRANTLINE_CONSOLE_ROLE_CLAIM: 'groups',
    GRANTLINE_CONSOLE_ROLE_MAP: JSON.stringify(TEST_ROLE_MAP),
  };
}

/** Starts the real OpenID provider of test/helpers/oidc/provider.mjs in its own process. */
export async function startTestOidcProvider(): Promise<TestOidcProvider> {
  const child: ChildProcess = spawn(process.execPath, [path.join(__dirname, 'oidc', 'provider.mjs')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += String(d);
  });
  const issuer = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve((JSON.parse(line) as { issuer: string }).issuer));
    child.once('exit', (code) => reject(new Error(`the OIDC provider exited (${code}): ${stderr}`)));
  });
  return {
    issuer,
    async registerClient(clientId, redirectUri) {
      const res = await fetch(`${issuer}/reg`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_name: clientId,
          redirect_uris: [redirectUri],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code'],
          response_types: ['code'],
        }),
      });
      if (res.status !== 201) throw new Error(`client registration: ${res.status} ${await res.text()}`);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
