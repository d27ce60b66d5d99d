import { renderGrant, renderOffer } from '../../../server/cli/grant-render';
import { renderReceipt } from '../../../server/cli/receipt-render';
import { renderReceiptSummary } from '../../../server/cli/task-render';
import type { Receipt } from '../../../server/revocation/receipt';

const lease = (over: Partial<NonNullable<Receipt['task_token']>>) =>
  ({
    kind: 'lease',
    scope: 'db:demo:read',
    lease_id: 'database/creds/demo-read/abc',
    token_accessor: null,
    state: 'revoked',
    attempts: 1,
    last_error: null,
    created_at: '2026-01-01T10:00:00.000Z',
    expires_at: '2026-01-01T10:05:00.000Z',
    revoked_at: '2026-01-01T10:01:00.000Z',
    ...over,
  }) as NonNullable<Receipt['task_token']>;

const receipt: Receipt = {
  task_id: 't-1',
  status: 'closed',
  close_reason: 'done',
  closing_at: '2026-01-01T10:01:00.000Z',
  closed_at: '2026-01-01T10:01:01.000Z',
  complete: false,
  summary: { grants: 1, leases: 3, lease_states: { revoked: 2, retrying: 1 }, pending_jobs: 1 },
  task_token: lease({ kind: 'task_token', scope: null, lease_id: null, token_accessor: 'acc-task' }),
  audit_events: [{ type: 'task.closing', leaf_index: 6 }],
  grants: [
    {
      grant_id: 'g-1',
      parent_id: null,
      holder: 'spiffe://dev.grantline.local/agent/a',
      scopes: ['db:demo:read'],
      status: 'revoked',
      issued_at: '2026-01-01T10:00:00.000Z',
      expires_at: '2026-01-01T10:05:00.000Z',
      revoked_at: '2026-01-01T10:01:00.000Z',
      revoke_reason: 'task closed',
      leases: [
        lease({ kind: 'grant_token', scope: null, lease_id: null, token_accessor: 'acc-g1' }),
        lease({ state: 'retrying', attempts: 3, last_error: 'vault unavailable', revoked_at: null }),
      ],
      audit_events: [{ type: 'grant.revoked', leaf_index: 7 }],
    },
  ],
  jobs: [
    {
      id: 'j-1',
      kind: 'revoke_lease',
      status: 'pending',
      attempts: 3,
      last_error: 'vault unavailable',
      due_at: '2026-01-01T10:02:00.000Z',
    },
  ],
};

describe('receipt renderer', () => {
  test('when a receipt is rendered, then each grant is followed by its leases, then jobs, then complete: yes/no', () => {
    const lines = renderReceipt(receipt);
    expect(lines[0]).toBe('task t-1  closed  (done)');
    expect(lines[1]).toMatch(/^KIND +ID +HOLDER \/ SCOPE +STATE +DETAIL$/);
    expect(lines[2]).toMatch(/^task_token +acc-task +- +revoked +revoked 2026-01-01T10:01:00.000Z$/);
    expect(lines[3]).toMatch(
      /^grant +g-1 +spiffe:\/\/dev\.grantline\.local\/agent\/a \[db:demo:read\] +revoked/,
    );
    expect(lines[4]).toMatch(/^ {2}grant_token +acc-g1 +- +revoked/);
    expect(lines[5]).toMatch(
      /^ {2}lease +database\/creds\/demo-read\/abc +db:demo:read +retrying +attempts 3, last error: vault unavailable$/,
    );
    expect(lines[6]).toMatch(
      /^job +j-1 +revoke_lease +pending +attempts 3, last error: vault unavailable, due 2026/,
    );
    expect(lines.at(-1)).toBe('complete: no');
    expect(renderReceipt({ ...receipt, complete: true }).at(-1)).toBe('complete: yes');
  });

  test('when a close is summarised, then the lease states are counted and completeness is explained', () => {
    const text = renderReceiptSummary(receipt).join('\n');
    expect(text).toMatch(/^leases +3 \(2 revoked, 1 retrying\)$/m);
    expect(text).toMatch(/^complete +no \(revocation continues/m);
  });
});

describe('grant renderer', () => {
  const grant = {
    grant_id: 'g-1',
    task_id: 't-1',
    access_token: 'eyJ.access.token',
    token_type: 'Bearer',
    expires_in: 300,
    scope: 'db:demo:read kv:demo/api-key',
    secrets: [
      {
        scope: 'db:demo:read',
        kind: 'dynamic' as const,
        data: { username: 'v-a', password: 'pw' },
        lease_id: 'database/creds/demo-read/x',
        lease_duration: 300,
        connection: { host: '127.0.0.1', port: 5432, database: 'grantline_demo' },
      },
      {
        scope: 'kv:demo/api-key',
        kind: 'kv' as const,
        data: { api_key: 'k', meta: { a: 1 } },
        lease_id: null,
        lease_duration: null,
      },
    ],
  };

  test('when a grant is rendered, then its id is first and each secret lists its data, lease and connection', () => {
    const lines = renderGrant(grant, new Date('2026-01-01T10:00:00Z'));
    expect(lines[0]).toBe('g-1');
    const text = lines.join('\n');
    expect(text).toMatch(/^expires +in 5m \(2026-01-01T10:05:00Z\)$/m);
    expect(text).toMatch(/^access token +eyJ\.access\.token$/m);
    expect(text).toContain('secret db:demo:read (dynamic)');
    expect(text).toMatch(/^ {2}password +pw$/m);
    expect(text).toMatch(/^ {2}lease id +database\/creds\/demo-read\/x$/m);
    expect(text).toMatch(/^ {2}database +grantline_demo$/m);
    expect(text).toMatch(/^ {2}meta +\{"a":1\}$/m);
    expect(text).not.toMatch(/^ {2}lease id +-/m);
  });

  test('when an offer is rendered, then the delegation token is its last line', () => {
    const lines = renderOffer({
      offer_id: 'o',
      delegation_token: 'dt',
      expires_in: 60,
      to: 'b',
      scopes: ['s'],
      budget: null,
      may_redelegate: false,
    });
    expect(lines.at(-1)).toMatch(/^delegation token +dt$/);
    expect(lines.join('\n')).toMatch(/^redelegate +not allowed$/m);
  });
});
