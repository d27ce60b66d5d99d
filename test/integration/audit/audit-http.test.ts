import fs from 'node:fs';
import path from 'node:path';
import { compactVerify, createLocalJWKSet, importJWK, importPKCS8, type JWK, jwtVerify, SignJWT } from 'jose';
import {
  AGENT_A,
  AUDITOR,
  eventually,
  ORCHESTRATOR,
  RESOURCE,
  STRANGER,
  startTestBroker,
  type TestBroker,
} from '../../helpers/broker';
import { independentCheck } from '../../helpers/rfc9162-check';
import { grantOk, openTask } from '../../helpers/scenario';

interface Checkpoint {
  tree_size: number;
  root_hash: string;
  timestamp: number;
  signature: string;
}

/**
 * Issue 13, "Done when": an auditor holding only a checkpoint and the JWKS checks, with an RFC 9162
 * implementation we did not write, that an event is in the log and that a later checkpoint extends an
 * earlier one; jose checks the checkpoint signatures against the published JWKS.
 */
describe('the audit log over HTTP, checked by an independent RFC 9162 implementation', () => {
  let t: TestBroker;
  let taskId: string;
  let first: Checkpoint;
  let second: Checkpoint;
  let jwks: { keys: JWK[] };

  const get = async (url: string, as = AUDITOR) => t.call('GET', url, { as });

  beforeAll(async () => {
    t = await startTestBroker();
    taskId = await openTask(t);
    await grantOk(t, taskId, ['kv:demo/api-key']);
    first = (await t.call('POST', '/v1/audit/checkpoints', { as: AUDITOR })).body;
    await grantOk(t, taskId, ['db:demo:read']);
    await t.call('POST', `/v1/tasks/${taskId}/close`, { as: ORCHESTRATOR, body: { reason: 'done' } });
    const revoked = await eventually(
      async () =>
        (await t.call('GET', `/v1/tasks/${taskId}/receipt`, { as: ORCHESTRATOR })).body.complete === true,
    );
    expect(revoked).toBe(true);
    const res = await t.call('POST', '/v1/audit/checkpoints', { as: AUDITOR });
    expect(res.status).toBe(201);
    second = res.body;
    jwks = (await t.call('GET', '/.well-known/jwks.json')).body;
  });
  afterAll(async () => {
    await t?.stop();
  });

  test('when checkpoints are asked for on demand, then each covers every event committed before and is the latest', async () => {
    expect(first.tree_size).toBeGreaterThan(0);
    expect(second.tree_size).toBeGreaterThan(first.tree_size);
    const latest = await get('/v1/audit/checkpoint');
    expect(latest.status).toBe(200);
    expect(latest.body.tree_size).toBeGreaterThanOrEqual(second.tree_size);
    const listed = await get(`/v1/audit/checkpoints?after=${first.tree_size - 1}&limit=1000`);
    expect(listed.body.checkpoints[0]).toEqual(first);
    expect(listed.body.checkpoints).toContainEqual(second);
    const sizes = listed.body.checkpoints.map((c: Checkpoint) => c.tree_size);
    expect(sizes).toEqual([...sizes].sort((a: number, b: number) => a - b));
  });

  test('when the auditor checks a checkpoint with jose and the published JWKS, then the signature holds over exactly the tree head', async () => {
    const audit = jwks.keys.filter((k) => k.use === 'audit');
    expect(audit).toHaveLength(1);
    expect(jwks.keys.filter((k) => k.use === 'sig').length).toBeGreaterThan(0);
    const { use: _use, ...bare } = audit[0]!;
    const { payload, protectedHeader } = await compactVerify(
      second.signature,
      await importJWK(bare, 'ES256'),
      {
        algorithms: ['ES256'],
      },
    );
    expect(protectedHeader).toMatchObject({
      alg: 'ES256',
      kid: audit[0]!.kid,
      typ: 'grantline-checkpoint+jws',
    });
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual({
      root_hash: second.root_hash,
      timestamp: second.timestamp,
      tree_size: second.tree_size,
    });
    // A token verifier using the same JWKS never accepts the audit key (jose skips use != sig).
    await expect(compactVerify(second.signature, createLocalJWKSet(jwks))).rejects.toThrow();
  });

  test('when a token is signed with the audit key, then a resource server verifying with the JWKS refuses it', async () => {
    const pem = fs.readFileSync(path.join(t.home, 'keys', 'audit-key.pem'), 'utf8');
    const kid = jwks.keys.find((k) => k.use === 'audit')!.kid!;
    const forged = await new SignJWT({ scope: 'db:demo:read', task_id: taskId })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
      .setIssuer(t.broker.tokens.issuer)
      .setAudience('orders-db')
      .setExpirationTime('5m')
      .sign(await importPKCS8(pem, 'ES256'));
    await expect(jwtVerify(forged, createLocalJWKSet(jwks))).rejects.toThrow();
    const introspected = await t.call('POST', '/oauth2/introspect', {
      as: RESOURCE,
      form: { token: forged },
    });
    expect(introspected.body).toEqual({ active: false });
  });

  test('when the events of the task are proved and the two checkpoints linked, then the independent implementation accepts every proof', async () => {
    const listed = await get(`/v1/audit/events?task=${taskId}&limit=1000`);
    expect(listed.status).toBe(200);
    const events = listed.body.events.filter((e: { leaf_index: number }) => e.leaf_index < second.tree_size);
    expect(events.length).toBeGreaterThan(5);
    const inclusions = [];
    for (const event of events) {
      const proof = await get(`/v1/audit/events/${event.leaf_index}/proof?tree_size=${second.tree_size}`);
      expect(proof.status).toBe(200);
      inclusions.push({ event, proof: proof.body, checkpoint: 1 });
    }
    const early = events.find((e: { leaf_index: number }) => e.leaf_index < first.tree_size);
    const earlyProof = await get(`/v1/audit/events/${early.leaf_index}/proof?tree_size=${first.tree_size}`);
    inclusions.push({ event: early, proof: earlyProof.body, checkpoint: 0 });
    const consistency = await get(
      `/v1/audit/consistency?first=${first.tree_size}&second=${second.tree_size}`,
    );
    expect(consistency.status).toBe(200);

    const genuine = await independentCheck({
      jwks,
      checkpoints: [first, second],
      inclusions,
      consistencies: [{ older: 0, newer: 1, proof: consistency.body }],
    });
    expect(genuine.checkpoints).toEqual([{ ok: true }, { ok: true }]);
    expect(genuine.inclusions.every((r) => r.ok)).toBe(true);
    expect(genuine.consistencies).toEqual([{ ok: true }]);

    // The same checks fail the moment anything is altered: the event, its place, the root, the link.
    const event = inclusions[0]!;
    const altered = await independentCheck({
      jwks,
      checkpoints: [first, second, { ...second, root_hash: first.root_hash }],
      inclusions: [
        { ...event, event: { ...(event.event as object), payload: { forged: true } } },
        {
          ...event,
          event: {
            ...(event.event as object),
            leaf_index: (event.event as { leaf_index: number }).leaf_index + 1,
          },
        },
        { ...event, checkpoint: 2 },
      ],
      consistencies: [
        { older: 0, newer: 2, proof: consistency.body },
        { older: 1, newer: 0, proof: consistency.body },
      ],
    });
    expect(altered.checkpoints.map((r) => r.ok)).toEqual([true, true, false]);
    expect(altered.inclusions.map((r) => r.ok)).toEqual([false, false, false]);
    expect(altered.consistencies.map((r) => r.ok)).toEqual([false, false]);
  });

  test('when the auditor verifies the whole log, then every checkpoint holds and lineage and receipt cite provable leaves', async () => {
    const v = await get('/v1/audit/verify');
    expect(v.status).toBe(200);
    expect(v.body).toMatchObject({ ok: true, legacy_events: 0 });
    expect(v.body.checkpoints_checked).toBeGreaterThanOrEqual(2);
    expect(v.body).not.toHaveProperty('broken_at');

    const lineage = await get(`/v1/tasks/${taskId}/lineage`);
    const node = lineage.body.grants[0];
    expect(node.audit_events.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['grant.issued', 'grant.revoked']),
    );
    await t.call('POST', '/v1/audit/checkpoints', { as: AUDITOR });
    const receipt = await t.call('GET', `/v1/tasks/${taskId}/receipt`, { as: ORCHESTRATOR });
    expect(receipt.body.audit_events.map((e: { type: string }) => e.type)).toContain('task.opened');
    const cited = [
      ...receipt.body.audit_events,
      ...receipt.body.grants.flatMap((g: { audit_events: unknown[] }) => g.audit_events),
    ] as Array<{ leaf_index: number | null; type: string }>;
    // Only the receipt's own read, audited in this very request, may still be waiting for its leaf.
    const pending = cited.filter((e) => e.leaf_index === null);
    expect(pending.length).toBeLessThanOrEqual(1);
    expect(pending.every((e) => e.type === 'decision.allow')).toBe(true);
    for (const { leaf_index, type } of cited.filter((e) => e.leaf_index !== null)) {
      const e = await get(`/v1/audit/events/${leaf_index}`);
      expect([e.body.task_id, e.body.type]).toEqual([taskId, type]);
    }
  });

  test.each([
    ['a leaf index that is not a number', 404, '/v1/audit/events/abc/proof'],
    ['a leaf index beyond the tree', 400, '/v1/audit/events/999999/proof'],
    ['a tree size beyond the latest checkpoint', 400, '/v1/audit/events/0/proof?tree_size=999999'],
    ['a tree size of 0', 400, '/v1/audit/events/0/proof?tree_size=0'],
    ['an unknown query field', 400, '/v1/audit/events/0/proof?size=3'],
    ['consistency without first', 400, '/v1/audit/consistency'],
    ['consistency with first above second', 400, '/v1/audit/consistency?first=5&second=2'],
    ['a list with a negative after', 400, '/v1/audit/events?after=-1'],
    ['checkpoints with a limit of 0', 400, '/v1/audit/checkpoints?limit=0'],
    ['an event that does not exist', 404, '/v1/audit/events/999999'],
  ])('when the auditor asks for %s, then the answer is %i', async (_n, status, url) => {
    const res = await get(url);
    expect(res.status).toBe(status);
    expect(res.body.error).toEqual(expect.any(String));
  });

  test.each([
    ['/v1/audit/checkpoint'],
    ['/v1/audit/checkpoints'],
    ['/v1/audit/events/0/proof'],
    ['/v1/audit/consistency?first=1'],
    ['/v1/audit/events/0'],
  ])('when an agent that is not an auditor asks %s, then it is refused', async (url) => {
    for (const as of [AGENT_A, STRANGER]) expect((await get(url, as)).status).toBe(403);
    expect((await t.call('GET', url)).status).toBe(401);
  });
});
