import { Background, Controls, ReactFlow } from '@xyflow/react';
import { useMemo } from 'react';
import { flatten, lineageFlow } from '../lib/lineage-layout';
import { safeText, shortId, workloadName } from '../lib/safe-text';
import type { LineageNode, Task } from '../lib/types';
import { ApprovalLine, Constraints, nodeTypes } from './HopCard';
import { Status } from './Status';

/** The same tree as nested lists: what a screen reader (or a keyboard) reads instead of the drawing. */
function HopList({ hops }: { hops: LineageNode[] }) {
  return (
    <ul>
      {hops.map((h) => (
        <li key={h.grant_id} data-grant-id={h.grant_id}>
          <span title={h.holder}>{workloadName(h.holder)}</span> <Status value={h.status} />{' '}
          {h.scopes.join(' ')} (<Constraints hop={h} />; policies {h.policy_ids.join(', ')}; grant{' '}
          {shortId(h.grant_id)}; leases {h.leases.map((l) => `${l.kind} ${l.state}`).join(', ') || 'none'})
          <ApprovalLine hop={h} />
          {h.children.length > 0 && <HopList hops={h.children} />}
        </li>
      ))}
    </ul>
  );
}

export function LineageGraph({ task, grants }: { task: Task; grants: LineageNode[] }) {
  const flow = useMemo(() => lineageFlow(task, grants), [task, grants]);
  const count = flatten(grants).length;
  return (
    <section aria-labelledby="lineage-title" className="lineage">
      <h2 id="lineage-title">Delegation tree</h2>
      <p className="muted">
        {count} grant{count === 1 ? '' : 's'} in {safeText(task.purpose)}; each hop shows its holder, scopes,
        constraints, the policies and policy version that allowed it, its approval and its Vault leases.
      </p>
      <figure
        className="graph"
        aria-label="The delegation tree drawn as a graph"
        data-testid="lineage-graph"
        style={{ height: Math.min(900, Math.max(320, flow.height + 40)) }}
      >
        <ReactFlow
          nodes={flow.nodes}
          edges={flow.edges}
          nodeTypes={nodeTypes}
          fitView
          nodesDraggable={false}
          nodesConnectable={false}
          elementsSelectable={false}
          proOptions={{ hideAttribution: true }}
          minZoom={0.2}
          fitViewOptions={{ maxZoom: 1 }}
        >
          <Background />
          <Controls showInteractive={false} />
        </ReactFlow>
      </figure>
      <details className="tree-text">
        <summary>The tree as text</summary>
        {count ? <HopList hops={grants} /> : <p>No grant was issued in this task.</p>}
      </details>
    </section>
  );
}
