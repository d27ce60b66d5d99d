import type { ScopeCatalogue, ScopeSpec } from '../../../server/config/scope-catalogue';
import { InvalidRequest } from '../../../server/shared/errors';
import {
  admitsHolder,
  isDelegatePattern,
  requireAdmitted,
  resolveTaskTargets,
} from '../../../server/tasks/task-targets';

const TD = 'dev.grantline.local';
const task = (delegates: string[]) => ({ agents: [`spiffe://${TD}/agent/a`], delegates });

const spec = (audiences: string[]): ScopeSpec => ({
  cost: 1,
  action_cost: 1,
  sensitivity: 'low',
  privileged: false,
  vault: { kind: 'kv', path: 'secret/data/x' },
  policies: [],
  audiences,
});
const catalogue: ScopeCatalogue = new Map([
  ['kv:a', spec(['api-a'])],
  ['kv:b', spec(['api-b', 'api-a'])],
  ['kv:none', spec([])],
]);

describe('delegate patterns', () => {
  test.each([
    [`spiffe://${TD}/agent/b`, true],
    [`spiffe://${TD}/agent/helpers/*`, true],
    ['spiffe://partner.example/agent/x', true],
    [`spiffe://${TD}/*`, false],
    [`spiffe://${TD}/agent/*/x`, false],
    [`spiffe://${TD}/agent/**`, false],
    [`spiffe://${TD}/agent/helpers/`, false],
    ['*', false],
  ])('when the entry is %s, then valid is %s', (entry, valid) => {
    expect(isDelegatePattern(entry)).toBe(valid);
  });

  test('when a workload is an agent, named exactly, or below a wildcard path, then it is admitted', () => {
    const t = task([`spiffe://${TD}/agent/helpers/*`, 'spiffe://partner.example/agent/x']);
    expect(admitsHolder(t, `spiffe://${TD}/agent/a`)).toBe(true);
    expect(admitsHolder(t, `spiffe://${TD}/agent/helpers/indexer`)).toBe(true);
    expect(admitsHolder(t, `spiffe://${TD}/agent/helpers/deep/er`)).toBe(true);
    expect(admitsHolder(t, 'spiffe://partner.example/agent/x')).toBe(true);
  });

  test('when a workload is the wildcard path itself, a sibling sharing its prefix, or unlisted, then it is not', () => {
    const t = task([`spiffe://${TD}/agent/helpers/*`]);
    expect(admitsHolder(t, `spiffe://${TD}/agent/helpers`)).toBe(false);
    expect(admitsHolder(t, `spiffe://${TD}/agent/helpersx/a`)).toBe(false);
    expect(admitsHolder(t, 'spiffe://partner.example/agent/helpers/indexer')).toBe(false);
    expect(() => requireAdmitted(t, `spiffe://${TD}/agent/b`)).toThrow(/does not list/);
  });

  test('when a wildcard covers a federated trust domain, then open is refused naming the entry', () => {
    const resolve = () =>
      resolveTaskTargets(
        { catalogue, trustDomain: TD },
        { ceiling: ['kv:a'], delegates: ['spiffe://partner.example/agent/*'] },
      );
    expect(resolve).toThrow(InvalidRequest);
    expect(resolve).toThrow(/delegates\.0/);
  });
});

describe('task audiences', () => {
  const resolve = (q: { ceiling: string[]; audiences?: string[] }) =>
    resolveTaskTargets({ catalogue, trustDomain: TD }, { ...q, delegates: [] }).audiences;

  test('when none are declared, then the catalogue audiences of the ceiling, sorted and unique', () => {
    expect(resolve({ ceiling: ['kv:a', 'kv:b'] })).toEqual(['api-a', 'api-b']);
  });

  test('when they are declared, then they are kept as declared, sorted and unique', () => {
    expect(resolve({ ceiling: ['kv:a'], audiences: ['z', 'y', 'z'] })).toEqual(['y', 'z']);
  });

  test('when neither the task nor its scopes name any, then open is refused', () => {
    expect(() => resolve({ ceiling: ['kv:none'] })).toThrow(/declare the audiences/);
  });
});
