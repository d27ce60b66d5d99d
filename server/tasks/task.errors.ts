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
