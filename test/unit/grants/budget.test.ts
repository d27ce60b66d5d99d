import type { GrantRow, Tx } from '../../../server/db/database';
import { QuotaExceeded } from '../../../server/shared/errors';

/**
 * The budget rules of grants/budget.ts over an in-memory delegation tree: the repositories it calls are
 * replaced by a model of the same guarded updates, so the rules (which pool, in which order, how far
 * up) are checked without a database. The SQL itself is covered by the integration tests.
 */
interface G {
  id: string;
  parent_id: string | null;
  depth: number;
  status: string;
  budget_reserved: number | null;
  budget_spent: number;
  children: number;
}
const state = {
  task: { budget: 0, spent: 0 },
  grants: new Map<string, G>(),
  offers: [] as Array<{ parent: string; budget: number; status: string }>,
};

jest.mock('../../../server/grants/grant.repository', () => ({
  takeChildSlot: async (_tx: Tx, q: { parentId: string; budget: number; maxFanout: number }) => {
    const g = state.grants.get(q.parentId)!;
    if (g.status !== 'active' || g.children >= q.maxFanout) return false;
    if (g.budget_reserved !== null && g.budget_spent + q.budget > g.budget_reserved) return false;
    g.children++;
    if (g.budget_reserved !== null) g.budget_spent += q.budget;
    return true;
  },
  childSlotState: async (_tx: Tx, id: string) => state.grants.get(id)!,
  reservationsOf: async (_tx: Tx, ids: string[]) =>
    ids.map((id) => state.grants.get(id)!).sort((a, b) => b.depth - a.depth),
  budgetSpentOf: async (_tx: Tx, id: string) => state.grants.get(id)!.budget_spent,
  settleReservation: async (_tx: Tx, id: string, reserved: number) => {
    state.grants.get(id)!.budget_spent = reserved;
  },
  returnToGrant: async (_tx: Tx, q: { grantId: string; amount: number; releaseChild: boolean }) => {
    const g = state.grants.get(q.grantId)!;
    const live = g.status === 'pending' || g.status === 'active';
    if (g.budget_reserved !== null && live) g.budget_spent = Math.max(g.budget_spent - q.amount, 0);
    if (q.releaseChild) g.children = Math.max(g.children - 1, 0);
    return g;
  },
}));
jest.mock('../../../server/grants/offer.repository', () => ({
  revokePendingOffersOf: async (_tx: Tx, grantId: string) => {
    const mine = state.offers.filter((o) => o.parent === grantId && o.status === 'pending');
    for (const o of mine) o.status = 'revoked';
    return mine.map((o) => o.budget);
  },
  reopenOffer: async () => undefined,
}));
jest.mock('../../../server/tasks', () => ({
  drawTaskBudget: async (_tx: Tx, _id: string, amount: number) => {
    if (state.task.spent + amount > state.task.budget) return false;
    state.task.spent += amount;
    return true;
  },
  returnTaskBudget: async (_tx: Tx, _id: string, amount: number) => {
    state.task.spent = Math.max(state.task.spent - amount, 0);
  },
  takeGrantSlot: async () => undefined,
  returnGrantSlot: async () => undefined,
  releaseApprovalsOf: async () => undefined,
}));

import { reserveForOffer, returnBudgets, returnToPool } from '../../../server/grants/budget';

const tx = {} as Tx;
const grant = (g: Partial<G> & { id: string }): G => {
  const full = {
    parent_id: null,
    depth: 0,
    status: 'active',
    budget_reserved: null,
    budget_spent: 0,
    children: 0,
    ...g,
  };
  state.grants.set(g.id, full);
  return full;
};
const row = (g: G) => ({ ...g, task_id: 't' }) as unknown as GrantRow;

beforeEach(() => {
  state.task = { budget: 10, spent: 0 };
  state.grants.clear();
  state.offers = [];
});

describe('reserving for an offer', () => {
  test('when the parent is a direct grant, then the reservation comes from the task budget', async () => {
    const root = grant({ id: 'root' });
    await reserveForOffer(tx, { parent: row(root), budget: 4, maxFanout: 3 });
    expect(state.task.spent).toBe(4);
    expect(root.children).toBe(1);
  });

  test('when the parent is delegated, then it comes from the parent’s own reservation, never more', async () => {
    const child = grant({ id: 'c', parent_id: 'root', depth: 1, budget_reserved: 5, budget_spent: 1 });
    await reserveForOffer(tx, { parent: row(child), budget: 4, maxFanout: 3 });
    expect(child.budget_spent).toBe(5);
    await expect(reserveForOffer(tx, { parent: row(child), budget: 1, maxFanout: 3 })).rejects.toMatchObject({
      code: 'quota_exceeded',
      details: { limit: 'budget' },
    });
    expect(state.task.spent).toBe(0);
  });

  test('when the parent has its max fan-out of children, then it is quota_exceeded max_fanout', async () => {
    const root = grant({ id: 'root', children: 2 });
    const err = await reserveForOffer(tx, { parent: row(root), budget: 0, maxFanout: 2 }).catch((e) => e);
    expect(err).toBeInstanceOf(QuotaExceeded);
    expect(err.details).toEqual({ limit: 'max_fanout' });
  });

  test('when the task budget is short, then the fan-out slot is refused with it (the unit rolls back)', async () => {
    const root = grant({ id: 'root' });
    state.task.spent = 9;
    await expect(reserveForOffer(tx, { parent: row(root), budget: 2, maxFanout: 3 })).rejects.toBeInstanceOf(
      QuotaExceeded,
    );
  });
});

describe('returning what ended grants leave unspent', () => {
  test('when a delegated subtree ends, then the deepest returns first and everything reaches the task', async () => {
    grant({ id: 'root' });
    grant({ id: 'a', parent_id: 'root', depth: 1, budget_reserved: 6, budget_spent: 3 });
    grant({ id: 'b', parent_id: 'a', depth: 2, budget_reserved: 3, budget_spent: 1 });
    state.task.spent = 6;
    for (const id of ['a', 'b']) state.grants.get(id)!.status = 'revoked';
    const returned = await returnBudgets(tx, { taskId: 't', grantIds: ['a', 'b'] });
    // b gives 2 back to a (ended, so passed on to root's pool: the task); a gives its own 3 unspent.
    expect(returned).toBe(5);
    expect(state.task.spent).toBe(1);
  });

  test('when a live delegated grant gets budget back, then it stays in its reservation', async () => {
    const a = grant({ id: 'a', parent_id: 'root', depth: 1, budget_reserved: 6, budget_spent: 6 });
    await returnToPool(tx, { taskId: 't', parentId: 'a', amount: 2 });
    expect(a.budget_spent).toBe(4);
    expect(state.task.spent).toBe(0);
  });

  test('when an ended grant had pending offers, then they die and their reservation returns with a slot', async () => {
    const root = grant({ id: 'root', children: 1, status: 'revoked' });
    state.offers.push({ parent: 'root', budget: 3, status: 'pending' });
    state.task.spent = 3;
    expect(await returnBudgets(tx, { taskId: 't', grantIds: ['root'] })).toBe(3);
    expect(state.offers[0]!.status).toBe('revoked');
    expect(root.children).toBe(0);
    expect(state.task.spent).toBe(0);
  });
});
