import type { Command } from 'commander';
import type { Receipt } from '../../revocation/receipt';
import { type BrokerClient, BrokerHttpError } from '../broker-client';
import { colourEnabled, outLines, printJson } from '../cli-output';
import { type ClientOptions, clientAction, clientFrom, withClientOptions } from '../client-options';
import { type GrantLineage, renderLineage, type TaskLineage } from '../lineage-render';
import { renderReceipt } from '../receipt-render';

/** A grant's lineage if `id` names a grant, else the task's whole tree (ids are UUIDs in both). */
export async function fetchLineage(client: BrokerClient, id: string): Promise<GrantLineage | TaskLineage> {
  const safe = encodeURIComponent(id);
  try {
    return await client.get<GrantLineage>(`/v1/grants/${safe}/lineage`);
  } catch (err) {
    if (!(err instanceof BrokerHttpError && err.status === 404)) throw err;
  }
  return client.get<TaskLineage>(`/v1/tasks/${safe}/lineage`);
}

/** `grantline receipt <task-id>` and `grantline lineage <task-id|grant-id>`. */
export function registerInspectCommands(program: Command): void {
  withClientOptions(
    program
      .command('receipt <task-id>')
      .description('the revocation receipt: every grant, token and lease of a task with its state'),
  ).action(
    clientAction(async (taskId: string, o: ClientOptions) => {
      const r = await clientFrom(o).get<Receipt>(`/v1/tasks/${encodeURIComponent(taskId)}/receipt`);
      if (o.json) printJson(r);
      else outLines(renderReceipt(r));
    }),
  );
  withClientOptions(
    program
      .command('lineage <id>')
      .description('the delegation tree of a task, or the path to a grant and its subtree'),
  ).action(
    clientAction(async (id: string, o: ClientOptions) => {
      const lineage = await fetchLineage(clientFrom(o), id);
      if (o.json) printJson(lineage);
      else outLines(renderLineage(lineage, { colour: colourEnabled() }));
    }),
  );
}
