import { listReply, noContent, ok } from './envelope';
import type { PolicyStore } from './policy-store';
import type { RequestContext, Route } from './route-types';
import { notFound } from './vault-error';

const policyName = (ctx: RequestContext): string => ctx.params[0]!;

function read(store: PolicyStore, ctx: RequestContext) {
  const p = store.get(policyName(ctx));
  if (!p) throw notFound();
  return p;
}

/** `sys/policy/:name` (data also copied to the top level) and `sys/policies/acl/:name`. */
export function createPolicyRoutes(store: PolicyStore): Route[] {
  const write = (key: 'policy' | 'rules') => (ctx: RequestContext) => {
    store.put(policyName(ctx), ctx.fields.raw.policy ?? (key === 'rules' ? ctx.fields.raw.rules : undefined));
    return noContent();
  };
  const remove = (ctx: RequestContext) => {
    store.delete(policyName(ctx));
    return noContent();
  };
  return [
    {
      pattern: /^sys\/policy$/,
      handlers: {
        read: () => ok({ data: { keys: store.list(), policies: store.list() }, copyDataToTop: true }),
        list: () => listReply(store.list()),
      },
    },
    {
      pattern: /^sys\/policy\/([^/]+)$/,
      fields: ['policy', 'rules'],
      exists: ([n]) => store.exists(n!),
      handlers: {
        read: (ctx) => {
          const p = read(store, ctx);
          return ok({ data: { name: p.name, rules: p.text }, copyDataToTop: true });
        },
        update: write('rules'),
        delete: remove,
      },
    },
    { pattern: /^sys\/policies\/acl$/, handlers: { list: () => listReply(store.list()) } },
    {
      pattern: /^sys\/policies\/acl\/([^/]+)$/,
      fields: ['policy'],
      exists: ([n]) => store.exists(n!),
      handlers: {
        read: (ctx) => {
          const p = read(store, ctx);
          // OpenBao 2.x adds CAS and versioning fields to every ACL policy.
          return ok({
            data: {
              name: p.name,
              policy: p.text,
              version: 1,
              cas_required: false,
              modified: p.modified,
              allow_slashes_in_identity_templates: false,
              allow_wildcards_in_identity_templates: false,
            },
          });
        },
        update: write('policy'),
        delete: remove,
      },
    },
  ];
}
