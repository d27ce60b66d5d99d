import type * as Api from '@grantline/sdk';
import { type Colour, paint } from './cli-output';

/**
 * The fields of a hop the renderer draws, picked from the SDK's own types (the CLI reads the API through
 * the SDK, so a change there shows here).
 */
export type LineageNode = Pick<
  Api.LineageNode,
  'grant_id' | 'holder' | 'scopes' | 'status' | 'depth' | 'cost' | 'budget' | 'may_redelegate' | 'policy_ids'
> & {
  approval: Pick<NonNullable<Api.LineageNode['approval']>, 'approver'> | null;
  leases: Array<Pick<Api.LineageNode['leases'][number], 'state'>>;
  children?: LineageNode[];
};

export type LineageTask = Pick<Api.Task, 'id' | 'purpose' | 'owner' | 'status'>;

export interface TaskLineage {
  task: LineageTask;
  grants: LineageNode[];
}

/** `path`: root first, the grant last (without children); `subtree`: the grant with its descendants. */
export interface GrantLineage {
  task: LineageTask;
  path: LineageNode[];
  subtree: LineageNode;
}

export interface RenderOptions {
  /** ANSI colours by status; the caller decides (TTY and no NO_COLOR). */
  colour: boolean;
}

const STATUS_COLOURS: Record<string, Colour> = {
  active: 'green',
  revoked: 'red',
  failed: 'red',
  expired: 'yellow',
};

export function isGrantLineage(l: TaskLineage | GrantLineage): l is GrantLineage {
  return Array.isArray((l as GrantLineage).path) && typeof (l as GrantLineage).subtree === 'object';
}

function leaseSummary(leases: LineageNode['leases']): string | undefined {
  if (!leases.length) return undefined;
  const counts = new Map<string, number>();
  for (const l of leases) counts.set(l.state, (counts.get(l.state) ?? 0) + 1);
  return `leases ${[...counts].map(([state, n]) => `${n} ${state}`).join(', ')}`;
}

/** `holder  [scopes]  status  (depth n, cost c, budget spent/reserved, policies …, …)`; `task` when it draws on the task's budget. */
export function describeNode(n: LineageNode, opts: RenderOptions): string {
  const facts = [
    `depth ${n.depth}`,
    `cost ${n.cost}`,
    `budget ${n.budget.spent}/${n.budget.reserved ?? 'task'}`,
    n.policy_ids.length ? `policies ${n.policy_ids.join(' ')}` : 'policies -',
    n.may_redelegate ? undefined : 'no re-delegation',
    n.approval ? `approved by ${n.approval.approver}` : undefined,
    leaseSummary(n.leases),
    `grant ${n.grant_id}`,
  ].filter((f): f is string => f !== undefined);
  const status = paint(n.status, STATUS_COLOURS[n.status], opts.colour);
  return `${n.holder}  [${n.scopes.join(' ')}]  ${status}  (${facts.join(', ')})`;
}

function renderChildren(nodes: LineageNode[], prefix: string, opts: RenderOptions, mark?: string): string[] {
  return nodes.flatMap((node, i) => {
    const last = i === nodes.length - 1;
    const marker = node.grant_id === mark ? '  \u25c0' : '';
    return [
      `${prefix}${last ? '\u2514\u2500 ' : '\u251c\u2500 '}${describeNode(node, opts)}${marker}`,
      ...renderChildren(node.children ?? [], `${prefix}${last ? '   ' : '\u2502  '}`, opts, mark),
    ];
  });
}

function taskHeader(t: LineageTask): string {
  return `task ${t.id}  ${t.status}  "${t.purpose}"  (owner ${t.owner})`;
}

/** The path (root first) as a chain of single children ending in the grant's own subtree. */
function chainOf(l: GrantLineage): LineageNode {
  const ancestors = l.path.slice(0, -1);
  return ancestors.reduceRight<LineageNode>((child, node) => ({ ...node, children: [child] }), l.subtree);
}

/**
 * The delegation tree drawn with box-drawing characters, the task on the first line. For a grant's
 * lineage, the path from its root down to it, then its subtree; the grant itself is marked with ◀.
 * Pure: no I/O, colour only when asked.
 */
export function renderLineage(l: TaskLineage | GrantLineage, opts: RenderOptions): string[] {
  if (isGrantLineage(l))
    return [taskHeader(l.task), ...renderChildren([chainOf(l)], '', opts, l.subtree.grant_id)];
  if (!l.grants.length) return [taskHeader(l.task), '(no grants)'];
  return [taskHeader(l.task), ...renderChildren(l.grants, '', opts)];
}
