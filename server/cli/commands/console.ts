import type { Command } from 'commander';
import { CONSOLE_ROLES, type ConsoleRole } from '../../identity/human';
import { parseDuration } from '../cli-args';
import { out } from '../cli-output';
import {
  brokerIsUp,
  brokerUrl,
  CliFailure,
  clientAction,
  DEFAULT_BROKER_URL,
  normaliseBaseUrl,
} from '../client-options';

interface ConsoleOptions {
  broker?: string;
  role?: string[];
  name: string;
  subject: string;
  ttl?: number;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function rolesOf(o: ConsoleOptions): ConsoleRole[] {
  const roles = o.role?.length ? o.role : [...CONSOLE_ROLES];
  const unknown = roles.filter((r) => !(CONSOLE_ROLES as readonly string[]).includes(r));
  if (unknown.length) throw new CliFailure(`unknown role(s): ${unknown.join(', ')} (auditor, approver)`);
  return [...new Set(roles)] as ConsoleRole[];
}

/** Starts a broker in-process (like `serve`) and keeps it running until Ctrl-C. */
async function startServing(): Promise<string> {
  const { loadConfigOrExit } = await import('../config-or-exit.js');
  const { startBroker } = await import('../../main.js');
  const broker = await startBroker(loadConfigOrExit());
  const stop = () =>
    broker.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return broker.url;
}

/**
 * `grantline console`: a one-time sign-in link to the console for a dev human (like a notebook
 * server's token link), for the broker at --broker, or for one it starts when none answers there.
 */
export function registerConsoleCommand(program: Command): void {
  program
    .command('console')
    .description('print a one-time sign-in link to the web console for a dev human (dev trust domain only)')
    .option(
      '--broker <url>',
      `the broker (default: $GRANTLINE_URL or ${DEFAULT_BROKER_URL}); started if none answers`,
    )
    .option('--role <role>', 'auditor or approver; repeat for both (default: both)', collect)
    .option('--name <name>', 'the name the console shows', 'Dev Human')
    .option('--subject <id>', 'the dev human\u2019s subject (its id in the audit log)', 'dev-human')
    .option('--ttl <duration>', 'how long the link may be used (default 10m)', parseDuration)
    .action(
      clientAction(async (o: ConsoleOptions) => {
        const roles = rolesOf(o);
        const wanted = brokerUrl(o);
        const running = await brokerIsUp(wanted);
        const baseUrl = running ? normaliseBaseUrl(wanted) : await startServing();
        const { loadConfig } = await import('../../config/config.js');
        const { devSignInLinkFor } = await import('../../dev/console/dev-sign-in.js');
        const link = await devSignInLinkFor(loadConfig(), {
          baseUrl,
          human: { subject: o.subject, name: o.name, roles },
          ttlSeconds: o.ttl ?? 600,
          now: new Date(),
        });
        out(running ? `the broker at ${baseUrl}` : `started a broker at ${baseUrl} (Ctrl-C stops it)`);
        out(
          `sign in to the console as ${o.name} (${roles.join(', ')}): open this link once, within ${Math.round((o.ttl ?? 600) / 60)} min`,
        );
        out(`  ${link}`);
        out('  (it works only on a broker that runs the dev trust domain with this GRANTLINE_HOME)');
      }),
    );
}
