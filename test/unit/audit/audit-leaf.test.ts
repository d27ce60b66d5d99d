import { eventBody, leafFromBody, leafFromLegacy, loggedEvent } from '../../../server/audit/audit-leaf';
import { canonicalJson } from '../../../server/audit/canonical-json';

const fields = {
  at: new Date('2026-11-24T08:30:00.123Z'),
  type: 'grant.issued',
  taskId: '6f1c1d1e-8a43-4c56-9a3e-2b9d2f6f0a11',
  grantId: null,
  principal: 'spiffe://dev.grantline.local/agent/a',
};
const payload = { scopes: ['db:orders:read'], note: 'Grüße "q" \\ \n 😀', big: 1e21, neg: -0, none: null };

describe('audit leaves', () => {
  it.each([
    ['every field set', fields],
    ['nullable fields null', { ...fields, taskId: null, principal: null }],
    ['a grant id', { ...fields, grantId: '0f1c1d1e-8a43-4c56-9a3e-2b9d2f6f0a12' }],
  ])(
    'when a body is built (%s), then it is the RFC 8785 JSON of the event without its leaf index',
    (_n, f) => {
      const body = eventBody(f, canonicalJson(payload));
      expect(body).toBe(
        canonicalJson({
          at: f.at.toISOString(),
          type: f.type,
          task_id: f.taskId,
          grant_id: f.grantId,
          principal: f.principal,
          payload,
        }),
      );
    },
  );

  it.each([0, 7, 1_000_000, 2 ** 40])(
    'when leaf %d is built from a body, then it is the canonical JSON of the event exactly as the API returns it',
    (index) => {
      const leaf = leafFromBody(eventBody(fields, canonicalJson(payload)), index);
      const asReturned = loggedEvent(leaf);
      expect(asReturned.leaf_index).toBe(index);
      expect(canonicalJson(asReturned)).toBe(leaf);
      // The same object after a JSON round trip (what a client gets over HTTP) canonicalises to the leaf.
      expect(canonicalJson(JSON.parse(JSON.stringify(asReturned)))).toBe(leaf);
    },
  );

  it('when a legacy event becomes a leaf, then its chain fields are part of what the leaf commits to', () => {
    const leaf = leafFromLegacy(
      {
        seq: 3,
        at: fields.at,
        type: 'probe',
        task_id: null,
        grant_id: null,
        principal: null,
        payload: { i: 1 },
        prev_hash: 'a'.repeat(64),
        hash: 'b'.repeat(64),
      },
      2,
    );
    expect(leaf).toBe(
      `{"at":"2026-11-24T08:30:00.123Z","grant_id":null,"hash":"${'b'.repeat(64)}","leaf_index":2,` +
        `"payload":{"i":1},"prev_hash":"${'a'.repeat(64)}","principal":null,"seq":3,"task_id":null,"type":"probe"}`,
    );
  });

  it('when a body has no payload member, then no leaf is built from it', () => {
    expect(() => leafFromBody('{"at":"x"}', 0)).toThrow(/no payload member/);
  });
});
