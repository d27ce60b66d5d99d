import { type Acl, compileAcl, type PolicyRules, parsePolicy } from './acl';
import { invalidRequest } from './vault-error';

/**
 * The parts of Vault's built-in `default` policy that matter here: a token may look itself up, renew and
 * revoke itself, renew and look up leases, and use its cubbyhole.
 */
const DEFAULT_POLICY = JSON.stringify(
  {
    path: {
      'auth/token/lookup-self': { capabilities: ['read'] },
      'auth/token/renew-self': { capabilities: ['update'] },
      'auth/token/revoke-self': { capabilities: ['update'] },
      'sys/capabilities-self': { capabilities: ['update'] },
      'sys/leases/renew': { capabilities: ['update'] },
      'sys/leases/lookup': { capabilities: ['update'] },
      'cubbyhole/*': { capabilities: ['create', 'read', 'update', 'delete', 'list'] },
    },
  },
  null,
  2,
);

interface StoredPolicy {
  name: string;
  text: string;
  rules: PolicyRules;
  /** RFC 3339, as OpenBao reports it on a policy read. */
  modified: string;
}

export interface PolicyStore {
  get(name: string): { name: string; text: string; modified: string } | undefined;
  put(name: string, doc: unknown): void;
  delete(name: string): void;
  list(): string[];
  exists(name: string): boolean;
  /** The ACL for a token's policy list (root is handled by the caller: it bypasses ACLs). */
  aclFor(policies: string[]): Acl;
  reset(): void;
}

const normalise = (name: string): string => name.trim().toLowerCase();

export function createPolicyStore(): PolicyStore {
  const policies = new Map<string, StoredPolicy>();
  const seedDefault = (): void => {
    policies.set('default', {
      name: 'default',
      text: DEFAULT_POLICY,
      rules: parsePolicy(DEFAULT_POLICY),
      modified: new Date().toISOString(),
    });
  };
  seedDefault();

  return {
    get(name) {
      const n = normalise(name);
      if (n === 'root') return { name: 'root', text: '', modified: '' };
      const p = policies.get(n);
      return p ? { name: p.name, text: p.text, modified: p.modified } : undefined;
    },
    put(name, doc) {
      const n = normalise(name);
      if (n === '') throw invalidRequest('policy name must be provided');
      if (n === 'root') throw invalidRequest('cannot update "root" policy');
      const rules = parsePolicy(doc);
      const text = typeof doc === 'string' ? doc : JSON.stringify(doc);
      policies.set(n, { name: n, text, rules, modified: new Date().toISOString() });
    },
    delete(name) {
      const n = normalise(name);
      if (n === 'root' || n === 'default') throw invalidRequest(`cannot delete "${n}" policy`);
      policies.delete(n);
    },
    list: () => [...policies.keys(), 'root'].sort(),
    exists: (name) => normalise(name) === 'root' || policies.has(normalise(name)),
    aclFor(names) {
      const rules = names.map((n) => policies.get(normalise(n))?.rules).filter((r) => r !== undefined);
      return compileAcl(rules);
    },
    reset() {
      policies.clear();
      seedDefault();
    },
  };
}
