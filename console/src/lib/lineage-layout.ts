import { Graph, layout } from '@dagrejs/dagre';
import type { Edge, Node } from '@xyflow/react';
import type { LineageNode, Task } from './types';

export type HopData = { kind: 'hop'; hop: LineageNode };
export type TaskData = { kind: 'task'; task: Task };
export type LineageFlowNode = Node<HopData | TaskData>;

const WIDTH = 320;

/** Every hop of the tree, parents before children. */
export function flatten(roots: LineageNode[]): LineageNode[] {
  const out: LineageNode[] = [];
  const walk = (n: LineageNode) => {
    out.push(n);
    for (const c of n.children) walk(c);
  };
  for (const r of roots) walk(r);
  return out;
}

/** A hop card grows with what it lists: scopes, policy ids, the approval, each lease. */
function heightOf(hop: LineageNode): number {
  return 150 + 18 * (hop.leases.length + hop.policy_ids.length) + (hop.approval ? 54 : 0);
}

/**
 * The task and its delegation tree as React Flow nodes and edges, laid out top-down by dagre (each
 * hop below the grant it was delegated from).
 */
export function lineageFlow(
  task: Task,
  roots: LineageNode[],
): { nodes: LineageFlowNode[]; edges: Edge[]; height: number } {
  const hops = flatten(roots);
  const g = new Graph();
  g.setGraph({ rankdir: 'TB', nodesep: 40, ranksep: 70, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  g.setNode('task', { width: WIDTH, height: 110 });
  for (const h of hops) g.setNode(h.grant_id, { width: WIDTH, height: heightOf(h) });
  const edges: Edge[] = hops.map((h) => ({
    id: `e-${h.grant_id}`,
    source: h.parent_id ?? 'task',
    target: h.grant_id,
    label: h.parent_id ? 'delegated' : 'granted',
    animated: h.status === 'active',
  }));
  for (const e of edges) g.setEdge(e.source, e.target);
  layout(g);
  const place = (id: string) => {
    const n = g.node(id) as { x: number; y: number; width: number; height: number };
    return { x: n.x - n.width / 2, y: n.y - n.height / 2 };
  };
  const nodes: LineageFlowNode[] = [
    { id: 'task', type: 'task', position: place('task'), data: { kind: 'task', task }, draggable: false },
    ...hops.map((h) => ({
      id: h.grant_id,
      type: 'hop',
      position: place(h.grant_id),
      data: { kind: 'hop' as const, hop: h },
      draggable: false,
    })),
  ];
  return { nodes, edges, height: (g.graph() as { height?: number }).height ?? 400 };
}
