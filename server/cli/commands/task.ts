import type { ApprovalRequest, OpenTaskRequest, TaskStatus } from '@grantline/sdk';
import { type Command, Option } from 'commander';
import { collect, parseArgsDigest, parseCount, parseDuration, parseRisk } from '../cli-args';
import { out, outLines, printJson } from '../cli-output';
import { type ClientOptions, clientAction, withClient, withClientOptions } from '../client-options';
import { renderApproval, renderReceiptSummary, renderTask, renderTaskList } from '../task-render';

export interface OpenTaskOptions extends ClientOptions {
  purpose: string;
  agent: string[];
  delegate?: string[];
  scope: string[];
  audience?: string[];
  ttl?: number;
  budget?: number;
  maxGrants?: number;
  maxActive?: number;
  maxDepth?: number;
  maxFanout?: number;
  maxActions?: number;
  taskType?: string;
  sensitivity?: 'low' | 'medium' | 'high';
  risk?: number;
  quiet?: boolean;
}

const defined = <T extends Record<string, unknown>>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** The `POST /v1/tasks` body: limits and context only with what was given, so the broker's defaults apply. */
export function openTaskBody(o: OpenTaskOptions): OpenTaskRequest {
  const limits = defined({
    max_grants: o.maxGrants,
    max_active: o.maxActive,
    max_depth: o.maxDepth,
    max_fanout: o.maxFanout,
    budget: o.budget,
    max_actions: o.maxActions,
  });
  const context = defined({ task_type: o.taskType, data_sensitivity: o.sensitivity, risk_score: o.risk });
  return {
    purpose: o.purpose,
    agents: o.agent,
    scopes: o.scope,
    ...(o.delegate?.length ? { delegates: o.delegate } : {}),
    ...(o.audience?.length ? { audiences: o.audience } : {}),
    ...(o.ttl !== undefined ? { ttl: o.ttl } : {}),
    ...(Object.keys(limits).length ? { limits } : {}),
    ...(Object.keys(context).length ? { context } : {}),
  } as OpenTaskRequest;
}

function registerOpen(task: Command): void {
  withClientOptions(
    task
      .command('open')
      .description('open a task (as its orchestrator); prints the task id on the first line')
      .requiredOption('--purpose <text>', 'what the task is for')
      .requiredOption('--agent <spiffe-id>', 'an agent allowed in the task (repeatable)', collect)
      .requiredOption('--scope <scope>', 'a scope in the task ceiling (repeatable)', collect)
      .option(
        '--delegate <spiffe-id>',
        'who else its grants may be delegated to: a SPIFFE ID, or spiffe://<td>/<path>/* (repeatable)',
        collect,
      )
      .option(
        '--audience <aud>',
        'an audience its tokens may carry (repeatable; default: what its scopes name in the catalogue)',
        collect,
      )
      .option('--ttl <duration>', 'task lifetime, e.g. 30m (default: the broker\u2019s, 1h)', parseDuration)
      .option('--budget <n>', 'total cost the task may spend', parseCount)
      .option('--max-grants <n>', 'grants the task may issue in all', parseCount)
      .option('--max-active <n>', 'grants active at once', parseCount)
      .option('--max-depth <n>', 'delegation depth', parseCount)
      .option('--max-fanout <n>', 'delegations per grant', parseCount)
      .option('--max-actions <n>', 'tool calls (times their action cost) the whole task may make', parseCount)
      .option('--task-type <type>', 'context: the kind of task')
      .addOption(
        new Option('--sensitivity <level>', 'context: data sensitivity').choices(['low', 'medium', 'high']),
      )
      .option('--risk <n>', 'context: risk score 0..100', parseRisk)
      .option('-q, --quiet', 'print only the task id'),
  ).action(
    clientAction(async (o: OpenTaskOptions) => {
      const t = await withClient(o, (c) => c.tasks.open(openTaskBody(o)));
      if (o.json) printJson(t);
      else if (o.quiet) out(t.id);
      else outLines(renderTask(t));
    }),
  );
}

function registerReadCommands(task: Command): void {
  withClientOptions(
    task.command('show <task-id>').description('show a task with its limits and counters'),
  ).action(
    clientAction(async (id: string, o: ClientOptions) => {
      const t = await withClient(o, (c) => c.tasks.show(id));
      if (o.json) printJson(t);
      else outLines(renderTask(t));
    }),
  );
  withClientOptions(
    task
      .command('list')
      .description('list the tasks you may read')
      .addOption(
        new Option('--status <status>', 'only tasks in this state').choices([
          'open',
          'closing',
          'closed',
          'expired',
        ]),
      ),
  ).action(
    clientAction(async (o: ClientOptions & { status?: TaskStatus }) => {
      const tasks = await withClient(o, (c) => c.tasks.list(o.status ? { status: o.status } : {}));
      if (o.json) printJson({ tasks });
      else outLines(renderTaskList(tasks));
    }),
  );
}

interface ApproveOptions extends ClientOptions {
  scope: string;
  approver: string;
  ttl?: number;
  note?: string;
  singleUse?: boolean;
  argsDigest?: string;
}

function registerChangeCommands(task: Command): void {
  withClientOptions(
    task
      .command('close <task-id>')
      .description('close a task: every grant, Vault token and lease of it is revoked; prints the receipt')
      .option('--reason <text>', 'why (recorded in the audit log)'),
  ).action(
    clientAction(async (id: string, o: ClientOptions & { reason?: string }) => {
      const r = await withClient(o, (c) => c.tasks.close(id, o.reason));
      if (o.json) printJson(r);
      else outLines(renderReceiptSummary(r as Parameters<typeof renderReceiptSummary>[0]));
    }),
  );
  withClientOptions(
    task
      .command('approve <task-id>')
      .description(
        "record a person's approval of a privileged scope in the task, as an approver workload " +
          '(--as spiffe://…/approver/…; the orchestrator that opened the task may not approve)',
      )
      .requiredOption('--scope <scope>', 'the privileged scope approved')
      .requiredOption('--approver <name>', 'who approved it')
      .option('--ttl <duration>', 'how long the approval lasts (default 15m)', parseDuration)
      .option('--note <text>', 'a note for the audit log')
      .option('--single-use', 'the approval covers one grant only')
      .option('--args-digest <sha256:hex>', 'the exact arguments the approval covers', parseArgsDigest),
  ).action(
    clientAction(async (id: string, o: ApproveOptions) => {
      const body = defined({
        scope: o.scope,
        approver: o.approver,
        ttl: o.ttl,
        note: o.note,
        single_use: o.singleUse ? true : undefined,
        args_digest: o.argsDigest,
      }) as unknown as ApprovalRequest;
      const a = await withClient(o, (c) => c.tasks.approve(id, body));
      if (o.json) printJson(a);
      else outLines(renderApproval(a));
    }),
  );
}

/** `grantline task open|show|list|close|approve`. Actions are async: use parseAsync. */
export function registerTaskCommands(program: Command): void {
  const task = program.command('task').description('open, inspect, approve and close tasks');
  registerOpen(task);
  registerReadCommands(task);
  registerChangeCommands(task);
}
