import { sql } from 'kysely';
import type { DbOrTx, GrantRow } from '../db/database';
import { eventLeaves } from './audit.service';
import type { LineageNode } from './audit.types';

async function decorate(db: DbOrTx, grants: GrantRow[]): Promise<LineageNode[]> {
  if (grants.length === 0) return [];
  const ids = grants.map((g) => g.id);
  const leases = await db
    .selectFrom('leases')
    .select(['grant_id', 'kind', 'scope', 'state', 'vault_lease_id', 'vault_token_accessor'])
    .where('grant_id', 'in', ids)
    .orderBy('created_at')
    .execute();
  const trail = await eventLeaves(db, { grantIds: ids });
  const approvalIds = grants.map((g) => g.approval_id).filter((a): a is string => a !== null);
  const approvals = approvalIds.length
    ? await db
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
    : [];
  return grants.map((g) => {
    const a = approvals.find((x) => x.id === g.approval_id);
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
      leases: leases
        .filter((l) => l.grant_id === g.id)
        .map((l) => ({
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

/**
 * The path from the root grant down to `grantId` (ancestors first) and the subtree under it; each a
 * recursive query over the parent index, so the cost grows with the depth and the subtree, not with
 * the size of the table.
 */
export async function grantLineage(
  db: DbOrTx,
  grantId: string,
): Promise<{ path: LineageNode[]; subtree: LineageNode } | undefined> {
  const ancestors = await sql<GrantRow & { hop: number }>`
    with recursive up as (select g.*, 0 as hop from grants g where g.id = ${grantId}
      union all select p.*, up.hop + 1 from grants p join up on p.id = up.parent_id)
    select * from up order by hop desc`.execute(db);
  if (ancestors.rows.length === 0) return undefined;
  const below = await sql<GrantRow>`
    with recursive down as (select g.* from grants g where g.parent_id = ${grantId}
      union all select c.* from grants c join down on c.parent_id = down.id)
    select * from down order by depth, issued_at`.execute(db);
  const path = await decorate(db, ancestors.rows);
  const self = path[path.length - 1]!;
  const subtree = buildTree([{ ...self, children: [] }, ...(await decorate(db, below.rows))])[0]!;
  return { path, subtree };
}
