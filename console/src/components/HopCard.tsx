import { Handle, type NodeProps, Position } from '@xyflow/react';
import type { HopData, LineageFlowNode, TaskData } from '../lib/lineage-layout';
import { safeText, shortId, when, workloadName } from '../lib/safe-text';
import type { LineageNode } from '../lib/types';
import { Status } from './Status';

/** What the hop was allowed, as the broker recorded it (never the secrets it received). */
export function Constraints({ hop }: { hop: LineageNode }) {
  const c: Record<string, unknown> =
    typeof hop.constraints === 'object' && hop.constraints !== null ? { ...hop.constraints } : {};
  const parts = [
    `ttl ${hop.ttl}s`,
    `depth ${hop.depth}`,
    `cost ${hop.cost}`,
    hop.budget.reserved !== null ? `budget ${hop.budget.spent}/${hop.budget.reserved}` : undefined,
    hop.may_redelegate ? 'may re-delegate' : 'no re-delegation',
    typeof c.audience === 'string' ? `aud ${c.audience}` : undefined,
    typeof c.tool === 'string' ? `tool ${c.tool}` : undefined,
  ].filter(Boolean);
  return <span>{safeText(parts.join(' · '))}</span>;
}

export function ApprovalLine({ hop }: { hop: LineageNode }) {
  const a = hop.approval;
  if (!a) return null;
  const who =
    a.approver_kind === 'human' ? `${a.approver_subject} @ ${a.approver_issuer}` : a.approver_subject;
  return (
    <div className="approval">
      <strong>Approved</strong> {a.scope} by {safeText(a.approver)}
      <div className="muted small" title={who ?? ''}>
        {a.approver_kind ?? 'recorded'}: {safeText(who ?? 'identity not recorded')}
      </div>
    </div>
  );
}

function HopNode({ data }: NodeProps<LineageFlowNode>) {
  const { hop } = data as HopData;
  return (
    <article className={`hop hop-${hop.status}`} aria-label={`Grant ${hop.grant_id} held by ${hop.holder}`}>
      <Handle type="target" position={Position.Top} />
      <header>
        <span className="holder" title={hop.holder}>
          {workloadName(hop.holder)}
        </span>
        <Status value={hop.status} />
      </header>
      <div className="scopes">{hop.scopes.join(' ')}</div>
      <div className="small">
        <Constraints hop={hop} />
      </div>
      <div className="small muted" title={hop.policy_version}>
        policies {hop.policy_ids.join(', ') || '–'} · version {shortId(hop.policy_version, 14)}
      </div>
      <ApprovalLine hop={hop} />
      <ul className="leases" aria-label="Vault tokens and leases">
        {hop.leases.map((l) => (
          <li key={`${l.kind}-${l.lease_id ?? l.token_accessor}`}>
            {l.kind}
            {l.scope ? ` ${l.scope}` : ''} <Status value={l.state} />
          </li>
        ))}
      </ul>
      <footer className="small muted">
        {shortId(hop.grant_id)} · issued {when(hop.issued_at)}
      </footer>
      <Handle type="source" position={Position.Bottom} />
    </article>
  );
}

function TaskNode({ data }: NodeProps<LineageFlowNode>) {
  const { task } = data as TaskData;
  return (
    <article className="hop task-node" aria-label={`Task ${task.purpose}`}>
      <header>
        <span className="holder">Task</span>
        <Status value={task.status} />
      </header>
      <div>{safeText(task.purpose)}</div>
      <div className="small muted" title={task.owner}>
        opened by {workloadName(task.owner)}
      </div>
      <Handle type="source" position={Position.Bottom} />
    </article>
  );
}

export const nodeTypes = { hop: HopNode, task: TaskNode };
