import type { LineageNode } from '@grantline/sdk';
import {
  describeNode,
  type GrantLineage,
  renderLineage,
  type TaskLineage,
} from '../../../server/cli/lineage-render';

const A = 'spiffe://dev.grantline.local/agent/a';
const B = 'spiffe://dev.grantline.local/agent/b';
const C = 'spiffe://dev.grantline.local/agent/c';
const task = {
  id: 't-1',
  purpose: 'count orders',
  owner: 'spiffe://dev.grantline.local/orchestrator/demo',
  status: 'closed' as const,
};

function node(id: string, holder: string, overrides: Partial<LineageNode> = {}): LineageNode {
  return {
    grant_id: id,
    parent_id: null,
    holder,
    scopes: ['db:demo:read'],
    status: 'revoked',
    depth: 0,
    ttl: 300,
    cost: 1,
    budget: { reserved: null, spent: 1 },
    actions: { reserved: null, spent: 0, used: 0 },
    audiences: ['orders'],
    may_redelegate: true,
    children_count: 0,
    constraints: {},
    offer_id: null,
    policy_ids: ['agent-request-grant'],
    policy_version: 'v1',
    approval: null,
    issued_at: '2026-01-01T10:00:00.000Z',
    expires_at: '2026-01-01T10:05:00.000Z',
    revoked_at: '2026-01-01T10:01:00.000Z',
    revoke_reason: 'task closed',
    leases: [],
    children: [],
    ...overrides,
  };
}

const b = node('g-b', B, {
  parent_id: 'g-a',
  depth: 1,
  budget: { reserved: 2, spent: 1 },
  may_redelegate: false,
  policy_ids: ['subagent-redeem-grant'],
});
const c = node('g-c', C, {
  parent_id: 'g-a',
  depth: 1,
  status: 'expired',
  budget: { reserved: 1, spent: 0 },
});
const a = node('g-a', A, {
  children: [b, c],
  leases: [
    { kind: 'grant_token', scope: null, state: 'revoked', lease_id: null, token_accessor: 'acc-1' },
    {
      kind: 'lease',
      scope: 'db:demo:read',
      state: 'revoked',
      lease_id: 'database/creds/x/1',
      token_accessor: null,
    },
  ],
});
const other = node('g-x', A, {
  status: 'active',
  scopes: ['kv:demo/api-key'],
  approval: {
    id: 'ap-1',
    approver: 'alice',
    scope: 'kv:demo/api-key',
    expires_at: '2026-01-01T10:15:00.000Z',
    args_digest: null,
  },
});

describe('lineage renderer', () => {
  test('when a node is described, then it shows holder, scopes, status and its constraints', () => {
    expect(describeNode(b, { colour: false })).toBe(
      `${B}  [db:demo:read]  revoked  (depth 1, cost 1, budget 1/2, policies subagent-redeem-grant, no re-delegation, grant g-b)`,
    );
    expect(describeNode(a, { colour: false })).toContain('budget 1/task');
    expect(describeNode(a, { colour: false })).toContain('leases 2 revoked');
    expect(describeNode(other, { colour: false })).toContain('approved by alice');
  });

  test('when a task lineage is rendered, then the tree is drawn with box-drawing characters under the task', () => {
    const lines = renderLineage({ task, grants: [a, other] } satisfies TaskLineage, { colour: false });
    const shape = lines.map((l) => l.replace(/(spiffe:\/\/\S+).*$/, '$1'));
    expect(shape).toEqual([
      `task t-1  closed  "count orders"  (owner ${task.owner})`,
      `├─ ${A}`,
      `│  ├─ ${B}`,
      `│  └─ ${C}`,
      `└─ ${A}`,
    ]);
  });

  test('when a grant lineage is rendered, then its path leads down to it, it is marked, and its subtree follows', () => {
    const lineage: GrantLineage = {
      task,
      path: [node('g-root', A, { children: undefined }), node('g-mid', B, { depth: 1, children: undefined })],
      subtree: node('g-mid', B, { depth: 1, children: [node('g-leaf', C, { depth: 2 })] }),
    };
    const lines = renderLineage(lineage, { colour: false });
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/^└─ spiffe:\/\/dev\.grantline\.local\/agent\/a .*grant g-root\)$/);
    expect(lines[2]).toMatch(/^ {3}└─ spiffe:\/\/dev\.grantline\.local\/agent\/b .*grant g-mid\) {2}◀$/);
    expect(lines[3]).toMatch(/^ {6}└─ spiffe:\/\/dev\.grantline\.local\/agent\/c .*grant g-leaf\)$/);
  });

  test('when colour is off (not a TTY), then no escape codes appear', () => {
    const text = renderLineage({ task, grants: [a, other] }, { colour: false }).join('\n');
    expect(text).not.toContain('\u001b[');
  });

  test('when colour is on, then active is green, revoked red and expired yellow', () => {
    const text = renderLineage({ task, grants: [a, other] }, { colour: true }).join('\n');
    expect(text).toContain('\u001b[32mactive\u001b[39m');
    expect(text).toContain('\u001b[31mrevoked\u001b[39m');
    expect(text).toContain('\u001b[33mexpired\u001b[39m');
  });

  test('when a task has no grants, then it says so', () => {
    expect(renderLineage({ task, grants: [] }, { colour: false })).toEqual([
      `task t-1  closed  "count orders"  (owner ${task.owner})`,
      '(no grants)',
    ]);
  });
});
