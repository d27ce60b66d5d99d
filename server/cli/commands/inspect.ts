import type { GrantlineClient } from '@grantline/sdk';
import type { Command } from 'commander';
import type { Receipt } from '../../revocation/receipt';
import { colourEnabled, outLines, printJson } from '../cli-output';
import { type ClientOptions, clientAction, withClient, withClientOptions } from '../client-options';
import { type GrantLineage, renderLineage, type TaskLineage } from '../lineage-render';
import { renderReceipt } from '../receipt-render';

/** A grant's lineage if `id` names a grant, else the task's whole tree (ids are UUIDs in both). */
export async function fetchLineage(client: GrantlineClient, id: string): Promise<GrantLineage | TaskLineage> {
  try {
    return await client.grants.lineage(id);
  } catch (err) {
    if ((err as { status?: number }).status !== 404) throw err;
  }
  return await client.tasks.lineage(id);
}

/** `grantline receipt <task-id>` and `grantline lineage <task-id|grant-id>`. */
export function registerInspectCommands(program: Command): void {
  withClientOptions(
    program
      .command('receipt <task-id>')
      .description('the revocation receipt: every grant, token and lease of a task with its state'),
  ).action(
    clientAction(async (taskId: string, o: ClientOptions) => {
      const r = await withClient(o, (c) => c.tasks.receipt(taskId));
      if (o.json) printJson(r);
      else outLines(renderReceipt(r as unknown as Receipt));
    }),
  );
  withClientOptions(
    program
      .command('lineage <id>')
      .description('the delegation tree of a task, or the path to a grant and its subtree'),
  ).action(
    clientAction(async (id: string, o: ClientOptions) => {
      const lineage = await withClient(o, (c) => fetchLineage(c, id));
      if (o.json) printJson(lineage);
      else outLines(renderLineage(lineage, { colour: colourEnabled() }));
    }),
  );
}
