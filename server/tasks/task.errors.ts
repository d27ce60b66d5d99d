import { Conflict, NotFound } from '../shared/errors';

export class TaskNotFound extends NotFound {
  constructor() {
    super('no such task');
  }
}

export class TaskNotOpen extends Conflict {
  constructor(status: string) {
    super(`the task is ${status}, not open`, { task_status: status });
  }
}

export class ApprovalRequestNotFound extends NotFound {
  constructor() {
    super('no such approval request');
  }
}

/** The request was already decided, or expired, before this decision arrived. */
export class ApprovalRequestClosed extends Conflict {
  constructor(status: string) {
    super(`the approval request is ${status}, not pending`, { approval_request_status: status });
  }
}
