import { defaultAssetsDir } from '../console/assets';
import { createConsoleRouter } from '../console/console.router';
import { consoleApiRoutes } from '../console/console-api';
import { readConsoleKeyFile } from '../console/console-keys';
import { createOidcSignIn } from '../console/oidc';
import { createSessionCodec } from '../console/session';
import { consumeSignInLink, createSignIn } from '../console/sign-in';
import { devConsoleKeyFile, loadDevSignIn } from './dev-defaults';
import type { Infrastructure, Services } from './services';

/**
 * The console (`/console`): OIDC sign-in when an identity provider is configured, `grantline console`'s
 * one-time links when the broker runs on the dev trust domain, the JSON API and the built assets.
 */
export async function buildConsole(infra: Infrastructure, services: Services, brokerUrl: string) {
  const { config, clock, logger } = infra;
  const cfg = config.console;
  const publicUrl = (cfg.publicUrl ?? config.issuer ?? brokerUrl).replace(/\/+$/, '');
  const redirectUri = `${publicUrl}/console/auth/callback`;
  const devMode = infra.identity.devMode;
  const keys =
    cfg.oidc || devMode
      ? await readConsoleKeyFile(cfg.sessionKeyFile ?? (await devConsoleKeyFile(config.home)))
      : undefined;
  const sessions = keys
    ? createSessionCodec({ keys, ttlSeconds: cfg.sessionTtlSeconds, secure: cfg.secureCookies, clock })
    : undefined;
  const signIn = sessions ? createSignIn({ uow: services.uow, sessions }) : undefined;
  const devSignIn =
    devMode && keys && signIn
      ? (await loadDevSignIn()).devSignInHandler({
          keys,
          clock,
          signIn,
          consume: (q) => consumeSignInLink(services.uow, q),
        })
      : undefined;
  if (!cfg.oidc && !devMode)
    logger.info('console sign-in is off: set GRANTLINE_CONSOLE_OIDC_ISSUER to let people sign in');
  return createConsoleRouter({
    sessions,
    signIn,
    oidc: cfg.oidc ? createOidcSignIn(cfg.oidc, redirectUri, logger) : undefined,
    redirectUri,
    origin: new URL(publicUrl).origin,
    secure: cfg.secureCookies,
    assetsDir: cfg.assetsDir ?? defaultAssetsDir(),
    api: consoleApiRoutes({ ...services, db: infra.db }),
    devSignIn,
  });
}
