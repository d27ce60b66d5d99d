import type { Command } from 'commander';
import { colourEnabled, out } from '../cli-output';
import { brokerErrorLines, brokerUrl, CliFailure, clientAction, DEFAULT_BROKER_URL } from '../client-options';

/** The demo mints its actors' SVIDs from the local dev trust domain: a 401 means the broker trusts another. */
async function explainUnauthenticated(err: unknown): Promise<unknown> {
  const { BrokerError } = await import('@grantline/sdk');
  if (!(err instanceof BrokerError && err.status === 401)) return err;
  return new CliFailure('the broker refused the demo\u2019s dev SVIDs', [
    ...brokerErrorLines(err).map((l) => `  ${l}`),
    '  the demo mints SVIDs from the dev trust domain (spiffe://dev.grantline.local) under $GRANTLINE_HOME,',
    '  so it needs a broker on that dev trust domain with the same GRANTLINE_HOME (and GRANTLINE_AUDIENCE),',
    '  or no broker at all (the demo then starts one itself)',
  ]);
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'the story: a task, a grant, a narrower delegation, refusals, close, lineage, receipt, audit',
    )
    .option(
      '--broker <url>',
      `use this broker if it answers (default: $GRANTLINE_URL or ${DEFAULT_BROKER_URL}); else start one`,
    )
    .action(
      clientAction(async (o: { broker?: string }) => {
        const { acquireDemoBroker } = await import('../../dev/demo/demo-broker.js');
        const { demoContext, runDemoStory } = await import('../../dev/demo/demo-story.js');
        const broker = await acquireDemoBroker(brokerUrl(o));
        if (broker.embedded) {
          out(`started a broker on the embedded defaults at ${broker.url}`);
          out(`   (development only: in-memory dev Vault, dev trust domain keys under ${broker.home})`);
        } else out(`using the broker at ${broker.url}`);
        let step = 0;
        const say = (line: string) => out(/^\s/.test(line) ? line : `${String(++step).padStart(2)}. ${line}`);
        try {
          await runDemoStory(demoContext(broker, say, colourEnabled()));
          out('done: every credential of the task is revoked, and the record of it is intact');
        } catch (err) {
          throw await explainUnauthenticated(err);
        } finally {
          await broker.stop();
        }
      }),
    );
}
