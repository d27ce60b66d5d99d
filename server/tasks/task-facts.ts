import type { TaskRow } from '../db/database';
import type { TaskFacts } from '../policy';

/** What policy knows of a task. */
export function taskFacts(t: TaskRow): TaskFacts {
  const ctx = t.context as {
    task_type?: string;
    data_sensitivity?: 'low' | 'medium' | 'high';
    risk_score?: number;
  };
  return {
    id: t.id,
    owner: t.owner,
    agents: t.agents,
    audiences: t.audiences,
    ceiling: t.scopes,
    status: t.status,
    taskType: ctx.task_type ?? 'general',
    dataSensitivity: ctx.data_sensitivity ?? 'medium',
    riskScore: ctx.risk_score ?? 0,
  };
}
