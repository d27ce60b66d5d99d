import { type CreateTokenRequest, createTokenStore } from '../../../../server/dev/vault/token-store';
import { ManualClock } from '../../../../server/shared/clock';

function setup() {
  const clock = new ManualClock(Date.UTC(2026, 10, 24, 12, 0, 0));
  const revoked: string[][] = [];
  const store = createTokenStore({ clock, onRevoked: (ids) => revoked.push(ids) });
  const root = store.createRoot('hvs.root');
  const make = (over: Partial<CreateTokenRequest> = {}) =>
    store.create({
      id: `hvs.t${Math.random().toString(36).slice(2)}`,
      policies: ['default', 'task'],
      ttl: 3600,
      explicitMaxTtl: 0,
      numUses: 0,
      renewable: true,
      meta: null,
      displayName: 'token',
      path: 'auth/token/create',
      parent: root,
      ...over,
    }).entry;
  return { clock, store, root, revoked, make };
}

describe('token store', () => {
  it('when a token passes its TTL, then lookup no longer finds it and its revocation is reported', () => {
    const { clock, store, make, revoked } = setup();
    const t = make({ ttl: 60 });
    clock.advance(59_999);
    expect(store.lookup(t.id)).toBe(t);
    clock.advance(1);
    expect(store.lookup(t.id)).toBeUndefined();
    expect(revoked).toEqual([[t.id]]);
  });

  it('when a parent expires, then looking up the child revokes the whole tree, children first', () => {
    const { clock, store, make, revoked } = setup();
    const parent = make({ ttl: 60 });
    const child = make({ ttl: 3600, parent });
    clock.advance(61_000);
    expect(store.lookup(child.id)).toBeUndefined();
    expect(revoked).toEqual([[child.id, parent.id]]);
  });

  it('when expireDue runs, then every expired token and its subtree goes', () => {
    const { clock, store, make, revoked } = setup();
    const a = make({ ttl: 60 });
    const b = make({ ttl: 3600, parent: a });
    const keep = make({ ttl: 3600 });
    clock.advance(60_000);
    store.expireDue();
    expect(revoked.flat().sort()).toEqual([a.id, b.id].sort());
    expect(store.lookup(keep.id)).toBe(keep);
  });

  it('when renewed, then the new expiry is now + increment, capped by explicit_max_ttl', () => {
    const { clock, store, make } = setup();
    const t = make({ ttl: 300, explicitMaxTtl: 600 });
    clock.advance(120_000);
    expect(store.renew(t, 1000).ttl).toBe(480);
    expect(t.expireAtMs).toBe(clock.now().getTime() + 480_000);
    expect(store.renew(t, 0).ttl).toBe(300);
  });

  it('when a renewal is not possible, then the spec errors come in Vault order', () => {
    const { clock, store, make, root } = setup();
    expect(() => store.renew(root, 60)).toThrow('lease is not renewable');
    const fixed = make({ renewable: false });
    expect(() => store.renew(fixed, 60)).toThrow('lease is not renewable');
    const t = make({ ttl: 60 });
    clock.advance(60_000);
    expect(() => store.renew(t, 60)).toThrow('lease expired');
  });

  it('when revoke-orphan is used, then the children lose their parent but live on', () => {
    const { store, make } = setup();
    const parent = make();
    const child = make({ parent });
    store.revokeOrphan(parent.id);
    expect(store.lookup(child.id)?.parentId).toBeNull();
    store.revoke(parent.id);
    expect(store.lookup(child.id)).toBe(child);
  });

  it('when num_uses runs out, then the token stops resolving at once', () => {
    const { store, make } = setup();
    const t = make({ numUses: 2 });
    expect(store.consumeUse(t)).toBe(false);
    expect(store.consumeUse(t)).toBe(true);
    expect(store.lookup(t.id)).toBeUndefined();
  });

  it('when created with a TTL above the 768h system max, then it is capped with a warning', () => {
    const { store } = setup();
    const { entry, warnings } = store.create({
      id: 'hvs.long',
      policies: ['default'],
      ttl: 800 * 3600,
      explicitMaxTtl: 0,
      numUses: 0,
      renewable: true,
      meta: null,
      displayName: 'token',
      path: 'auth/token/create',
      parent: null,
    });
    expect(entry.creationTtl).toBe(768 * 3600);
    expect(warnings).toEqual([
      'TTL of "800h" exceeded the effective max_ttl of "768h"; TTL value is capped accordingly',
    ]);
  });
});
