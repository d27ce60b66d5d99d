import { AuditEventRejected } from '../../../server/audit/audit.errors';
import { checkAuditEvent } from '../../../server/audit/audit-event.guard';

const TASK = '6F1C1D1E-8A43-4C56-9A3E-2B9D2F6F0A11';
const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl';
const VAULT_TOKEN = `hvs.${'A1b2C3d4'.repeat(10)}`;

describe('audit event guard', () => {
  it('when an event is well formed, then ids are lower-cased and the payload is canonical JSON', () => {
    const checked = checkAuditEvent({
      type: 'grant.issued',
      taskId: TASK,
      principal: 'spiffe://dev.grantline.local/agent/a',
      payload: { token_accessor: 'acc123', lease_id: 'database/creds/x/abc', b: 1, a: [true] },
    });
    expect(checked).toEqual({
      type: 'grant.issued',
      taskId: TASK.toLowerCase(),
      grantId: null,
      principal: 'spiffe://dev.grantline.local/agent/a',
      payloadJson: '{"a":[true],"b":1,"lease_id":"database/creds/x/abc","token_accessor":"acc123"}',
    });
  });

  it.each([
    'password',
    'token',
    'client_token',
    'secret',
    'access_token',
    'accessToken',
    'Client-Token',
    'refresh_token',
    'private_key',
    'secrets',
  ])('when the payload has a key %s, then the event is refused naming the key', (key) => {
    expect(() => checkAuditEvent({ type: 'x', payload: { outer: [{ [key]: 'redacted' }] } })).toThrow(
      new AuditEventRejected(
        `audit payload key payload.outer[0].${key} looks like a secret: store an id, accessor or hash`,
      ),
    );
  });

  it.each([
    ['a JWT', JWT],
    ['a Vault service token', VAULT_TOKEN],
  ])('when a payload value is %s, then the event is refused without echoing the value', (_name, value) => {
    let caught: unknown;
    try {
      checkAuditEvent({ type: 'x', payload: { note: value } });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AuditEventRejected);
    expect((caught as AuditEventRejected).message).toContain('payload.note');
    expect((caught as AuditEventRejected).message).not.toContain(value);
    expect((caught as AuditEventRejected).expose).toBe(false);
  });

  it.each([
    ['an empty type', { type: '', payload: {} }],
    ['a type with spaces', { type: 'grant issued', payload: {} }],
    ['a task id that is not a uuid', { type: 'x', taskId: 'task-1', payload: {} }],
    ['a braced grant uuid', { type: 'x', grantId: `{${TASK}}`, payload: {} }],
    ['an empty principal', { type: 'x', principal: '', payload: {} }],
    ['a NUL in the principal', { type: 'x', principal: 'a\u0000b', payload: {} }],
    ['a NUL in a payload string', { type: 'x', payload: { a: 'b\u0000' } }],
    ['an array payload', { type: 'x', payload: [] as unknown as Record<string, unknown> }],
    ['an undefined payload member', { type: 'x', payload: { a: undefined } }],
    ['a non-finite number', { type: 'x', payload: { n: Number.NaN } }],
    ['a lone surrogate', { type: 'x', payload: { s: '\ud800' } }],
  ])('when an event has %s, then it is refused', (_name, event) => {
    expect(() => checkAuditEvent(event)).toThrow(AuditEventRejected);
  });

  it('when the payload nests past the depth cap, then it is refused', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 40; i += 1) deep = { d: deep };
    expect(() => checkAuditEvent({ type: 'x', payload: deep })).toThrow(/nests deeper/);
  });
});
