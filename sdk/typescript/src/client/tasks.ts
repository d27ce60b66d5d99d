import type { Transport } from '../http/transport';
import type {
  Approval,
  ApprovalRequest,
  OpenTaskRequest,
  Receipt,
  Task,
  TaskLineage,
  TaskStatus,
} from './types';

const seg = (id: string) => encodeURIComponent(id);

/** What an orchestrator does with tasks (and what an auditor reads). */
export function taskApi(t: Transport) {
  return {
    /** Opens a task. Retried only after a 503 (nothing was created then). */
    open: (body: OpenTaskRequest) =>
      t.call<Task>('POST', '/v1/tasks', { json: body, retry: 'if-nothing-happened' }),
    show: (id: string) => t.call<Task>('GET', `/v1/tasks/${seg(id)}`, { retry: 'idempotent' }),
    async list(q: { status?: TaskStatus; limit?: number } = {}): Promise<Task[]> {
      const params = new URLSearchParams();
      if (q.status) params.set('status', q.status);
      if (q.limit !== undefined) params.set('limit', String(q.limit));
      const query = params.size ? `?${params}` : '';
      return (await t.call<{ tasks: Task[] }>('GET', `/v1/tasks${query}`, { retry: 'idempotent' })).tasks;
    },
    /** Records a human's approval of a privileged scope in the task. */
    approve: (id: string, body: ApprovalRequest) =>
      t.call<Approval>('POST', `/v1/tasks/${seg(id)}/approvals`, {
        json: body,
        retry: 'if-nothing-happened',
      }),
    /** Closes the task: every grant is inactive when this returns. Idempotent, so it is retried. */
    close: (id: string, reason?: string) =>
      t.call<Receipt>('POST', `/v1/tasks/${seg(id)}/close`, {
        json: reason ? { reason } : {},
        retry: 'idempotent',
      }),
    receipt: (id: string) => t.call<Receipt>('GET', `/v1/tasks/${seg(id)}/receipt`, { retry: 'idempotent' }),
    lineage: (id: string) =>
      t.call<TaskLineage>('GET', `/v1/tasks/${seg(id)}/lineage`, { retry: 'idempotent' }),
  };
}

export type TaskApi = ReturnType<typeof taskApi>;
