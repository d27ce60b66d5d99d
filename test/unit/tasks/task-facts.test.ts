import type { TaskRow } from '../../../server/db/database';
import { taskView } from '../../../server/tasks/task.view';
import { taskFacts } from '../../../server/tasks/task-facts';

const row = (over: Partial<TaskRow> = {}): TaskRow => ({
  id: '00000000-0000-4000-8000-000000000001',
  owner: 'spiffe://d/orchestrator/o',
  purpose: 'p',
  status: 'open',
  agents: ['spiffe://d/agent/a'],
  scopes: ['a', 'b'],
  audiences: ['orders-api'],
  delegates: [],
  context: { task_type: 'analysis', data_sensitivity: 'high', risk_score: 40 },
  ttl_seconds: 600,
  max_grants: 10,
  max_active: 5,
  max_depth: 2,
  max_fanout: 3,
  budget: 20,
  grants_issued: 4,
  active_grants: 2,
  budget_spent: 7,
  max_actions: null,
  actions_spent: 0,
  vault_token_accessor: 'acc',
  policy_version: 'v1',
  created_at: new Date('2026-11-30T10:00:00Z'),
  expires_at: new Date('2026-11-30T10:10:00Z'),
  closing_at: null,
  closed_at: null,
  close_reason: null,
  ...over,
});

describe('what policy knows of a task', () => {
  test('when the context names its type, sensitivity and risk, then policy gets them as facts', () => {
    expect(taskFacts(row())).toEqual({
      id: row().id,
      owner: 'spiffe://d/orchestrator/o',
      agents: ['spiffe://d/agent/a'],
      audiences: ['orders-api'],
      ceiling: ['a', 'b'],
      status: 'open',
      taskType: 'analysis',
      dataSensitivity: 'high',
      riskScore: 40,
    });
  });

  test('when the context is silent, then the defaults are general, medium and 0', () => {
    expect(taskFacts(row({ context: {} }))).toMatchObject({
      taskType: 'general',
      dataSensitivity: 'medium',
      riskScore: 0,
    });
  });
});

describe('the task as the API shows it', () => {
  test('when shown, then counters carry what is left of the budget and the time left, never the accessor', () => {
    const view = taskView(row(), new Date('2026-11-30T10:05:00Z'));
    expect(view.counters).toEqual({
      grants_issued: 4,
      active_grants: 2,
      budget_spent: 7,
      budget_remaining: 13,
      actions_spent: 0,
      actions_remaining: null,
    });
    expect(taskView(row({ max_actions: 10, actions_spent: 4 }), new Date()).counters).toMatchObject({
      actions_spent: 4,
      actions_remaining: 6,
    });
    expect(view.expires_in).toBe(300);
    expect(JSON.stringify(view)).not.toContain('acc');
  });

  test('when the task has expired, then expires_in is 0, not negative', () => {
    expect(taskView(row(), new Date('2026-12-01T00:00:00Z')).expires_in).toBe(0);
  });
});
