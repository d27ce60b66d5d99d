import { sql } from 'kysely';
import type { DbOrTx, GrantRow } from '../db/database';
import { eventLeaves } from './audit.service';
import type { LineageNode } from './audit.types';

async function decorate(db: DbOrTx, grants: GrantRow[]): Promise<LineageNode[]> {
  if (grants.length === 0) return [];
  const ids = grants.map((g) => g.id);
  const approvalIds = grants.map((g) => g.approval_id).filter((a): a is string => a !== null);
  // Three independent reads, at once on pooled connections (one after another inside a transaction).
  const [leases, trail, approvals] = await Promise.all([
    db
      .selectFrom('leases')
      .select(['grant_id', 'kind', 'scope', 'state', 'vault_lease_id', 'vault_token_accessor'])
      .where('grant_id', 'in', ids)
      .orderBy('created_at')
      .execute(),
    eventLeaves(db, { grantIds: ids }),
    approvalIds.length
      ? db
          .selectFrom('approvals')
          .select([
            'id',
            'approver',
            'approver_kind',
            'approver_issuer',
            'approver_subject',
            'approval_request_id',
            'scope',
            'expires_at',
            'args_digest',
          ])
          .where('id', 'in', approvalIds)
          .execute()
      : [],
  ]);
  const leasesOf = new Map<string | null, typeof leases>();
  for (const l of leases) leasesOf.set(l.grant_id, [...(leasesOf.get(l.grant_id) ?? []), l]);
  const approvalOf = new Map(approvals.map((a) => [a.id, a]));
  return grants.map((g) => {
    const a = g.approval_id === null ? undefined : approvalOf.get(g.approval_id);
    return {
      grant_id: g.id,
      parent_id: g.parent_id,
      holder: g.holder,
      scopes: g.scopes,
      status: g.status,
      depth: g.depth,
      ttl: g.ttl_seconds,
      cost: g.cost,
      budget: { reserved: g.budget_reserved, spent: g.budget_spent },
      actions: { reserved: g.actions_reserved, spent: g.actions_spent, used: g.actions_used },
      audiences: g.audiences,
      may_redelegate: g.may_redelegate,
      children_count: g.children,
      constraints: g.constraints,
      policy_ids: g.policy_ids,
      policy_version: g.policy_version,
      offer_id: g.offer_id,
      approval: a
        ? {
            id: a.id,
            approver: a.approver,
            approver_kind: a.approver_kind,
            approver_issuer: a.approver_issuer,
            approver_subject: a.approver_subject,
            approval_request_id: a.approval_request_id,
            scope: a.scope,
            expires_at: a.expires_at.toISOString(),
            args_digest: a.args_digest,
          }
        : null,
      issued_at: g.issued_at.toISOString(),
      expires_at: g.expires_at.toISOString(),
      revoked_at: g.revoked_at?.toISOString() ?? null,
      revoke_reason: g.revoke_reason,
      leases: (leasesOf.get(g.id) ?? []).map((l) => ({
        kind: l.kind,
        scope: l.scope,
        state: l.state,
        lease_id: l.vault_lease_id,
        token_accessor: l.vault_token_accessor,
      })),
      audit_events: trail.get(g.id) ?? [],
      children: [],
    };
  });
}

/** Builds the forest of `nodes` (roots are nodes whose parent is not among them). */
export function buildTree(nodes: LineageNode[]): LineageNode[] {
  const byId = new Map(nodes.map((n) => [n.grant_id, n]));
  const roots: LineageNode[] = [];
  for (const n of nodes) {
    const parent = n.parent_id ? byId.get(n.parent_id) : undefined;
    if (parent) parent.children.push(n);
    else roots.push(n);
  }
  return roots;
}

/** The whole delegation tree of a task. */
export async function taskLineage(db: DbOrTx, taskId: string): Promise<LineageNode[]> {
  const grants = await db
    .selectFrom('grants')
    .selectAll()
    .where('task_id', '=', taskId)
    .orderBy('depth')
    .orderBy('issued_at')
    .execute();
  return buildTree(await decorate(db, grants));
}

/** The grant and its ancestors, root first: one index lookup per hop. */
async function pathTo(db: DbOrTx, grantId: string): Promise<GrantRow[]> {
  const r = await sql<GrantRow & { hop: number }>`
    with recursive up as (select g.*, 0 as hop from grants g where g.id = ${grantId}
      union all select p.*, up.hop + 1 from grants p join up on p.id = up.parent_id)
    select * from up order by hop desc`.execute(db);
  return r.rows;
}

/**
 * Every grant below `grantId`. The recursive step is a LATERAL lookup kept from being flattened into a
 * join (`offset 0`), so it is always a parameterised scan of the parent index: as a join, the planner,
 * expecting ~100 children per parent among a million grants, hashed the work table and scanned the whole
 * table once per level (14 s for ten levels among 1,000,000 grants).
 */
async function below(db: DbOrTx, grantId: string): Promise<GrantRow[]> {
  const r = await sql<GrantRow>`
    with recursive down as (select g.* from grants g where g.parent_id = ${grantId}
      union all select c.* from down, lateral (select * from grants where parent_id = down.id offset 0) c)
    select * from down order by depth, issued_at`.execute(db);
  return r.rows;
}

/**
 * The path from the root grant down to `grantId` (ancestors first) and the subtree under it; each a
 * recursive query over the parent index, so the cost grows with the depth and the subtree, not with
 * the size of the table. Both are read at once, then decorated together.
 */
export async function grantLineage(
  db: DbOrTx,
  grantId: string,
): Promise<{ path: LineageNode[]; subtree: LineageNode } | undefined> {
  const [ancestors, descendants] = await Promise.all([pathTo(db, grantId), below(db, grantId)]);
  if (ancestors.length === 0) return undefined;
  const nodes = await decorate(db, [...ancestors, ...descendants]);
  const path = nodes.slice(0, ancestors.length);
  const self = path[path.length - 1]!;
  const subtree = buildTree([{ ...self, children: [] }, ...nodes.slice(ancestors.length)])[0]!;
  return { path, subtree };
}
