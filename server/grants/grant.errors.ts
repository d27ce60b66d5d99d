import { Conflict, InvalidRequest, NotFound } from '../shared/errors';

export class GrantNotFound extends NotFound {
  constructor() {
    super('no such grant');
  }
}

export class UnknownScope extends InvalidRequest {
  constructor(scopes: string[]) {
    super(`unknown scope(s): ${scopes.join(', ')}`, { unknown_scopes: scopes });
  }
}

export class TaskClosedWhileIssuing extends Conflict {
  constructor() {
    super('the task was closed while the grant was being issued; nothing was issued');
  }
}

export class GrantNoLongerActive extends Conflict {
  constructor() {
    super('the grant is no longer active');
  }
}
