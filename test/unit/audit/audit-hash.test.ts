import { createHash } from 'node:crypto';
import {
  auditHash,
  auditRecordJson,
  type ChainedRecord,
  GENESIS_HASH,
} from '../../../server/audit/audit-hash';

const base: ChainedRecord = {
  seq: 42,
  at: new Date('2026-11-24T08:30:00.123Z'),
  type: 'grant.issued',
  taskId: '6f1c1d1e-8a43-4c56-9a3e-2b9d2f6f0a11',
  grantId: null,
  principal: 'spiffe://dev.grantline.local/agent/a',
  payload: { scopes: ['db:orders:read'], ttl: 300, nested: { é: 'ü', emoji: '😀', q: 'a"b\\c\n' } },
  prevHash: 'ab'.repeat(32),
};

/** The hash chain of events written before the transparency log: still checked link by link. */
describe('legacy audit chain hash', () => {
  it('when a record is hashed, then the hash is sha256 hex over its canonical snake_case JSON', () => {
    const json = auditRecordJson(base);
    expect(json.startsWith('{"at":"2026-11-24T08:30:00.123Z","grant_id":null,"payload":{')).toBe(true);
    expect(json).toContain(
      `"prev_hash":"${base.prevHash}","principal":"spiffe://dev.grantline.local/agent/a","seq":42,`,
    );
    expect(json.endsWith('"task_id":"6f1c1d1e-8a43-4c56-9a3e-2b9d2f6f0a11","type":"grant.issued"}')).toBe(
      true,
    );
    expect(auditHash(base)).toBe(createHash('sha256').update(Buffer.from(json, 'utf8')).digest('hex'));
  });

  it('when any covered field changes, then the hash changes', () => {
    const h = auditHash(base);
    const variants: ChainedRecord[] = [
      { ...base, seq: 43 },
      { ...base, at: new Date(base.at.getTime() + 1) },
      { ...base, type: 'grant.revoked' },
      { ...base, taskId: null },
      { ...base, grantId: base.taskId },
      { ...base, principal: 'spiffe://dev.grantline.local/agent/b' },
      { ...base, payload: { ...base.payload, ttl: 301 } },
      { ...base, prevHash: GENESIS_HASH },
    ];
    for (const v of variants) expect(auditHash(v)).not.toBe(h);
  });
});
