import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildAuditKeys } from '../../../server/audit';
import { generateSigningKeyPem, signingKeyFromPem } from '../../../server/tokens/key-material';
import { AUDITOR, ORCHESTRATOR, startTestBroker, type TestBroker } from '../../helpers/broker';
import { grantOk, openTask } from '../../helpers/scenario';
import { runCli } from '../../unit/cli/run-cli';

/** `grantline audit export` and `grantline audit verify [--offline]`: an auditor's tools without a broker. */
describe('grantline audit export and verify', () => {
  let t: TestBroker;
  let dir: string;
  let exported: string;
  let jwksFile: string;
  let checkpointFile: string;
  const saved = { home: process.env.GRANTLINE_HOME, db: process.env.DATABASE_URL };

  beforeAll(async () => {
    t = await startTestBroker();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-audit-cli-'));
    const taskId = await openTask(t);
    await grantOk(t, taskId, ['kv:demo/api-key']);
    await t.call('POST', '/v1/audit/checkpoints', { as: AUDITOR });
    await t.call('POST', `/v1/tasks/${taskId}/close`, { as: ORCHESTRATOR, body: { reason: 'done' } });
    const cp = (await t.call('POST', '/v1/audit/checkpoints', { as: AUDITOR })).body;
    checkpointFile = path.join(dir, 'kept-checkpoint.json');
    fs.writeFileSync(checkpointFile, JSON.stringify(cp));
    jwksFile = path.join(dir, 'jwks.json');
    fs.writeFileSync(jwksFile, JSON.stringify((await t.call('GET', '/.well-known/jwks.json')).body));
    process.env.GRANTLINE_HOME = t.home;
    process.env.DATABASE_URL = t.db.url;
    exported = path.join(dir, 'audit.jsonl');
  });
  afterAll(async () => {
    for (const [key, value] of [
      ['GRANTLINE_HOME', saved.home],
      ['DATABASE_URL', saved.db],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await t?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A copy of the export with `edit` applied to its lines. */
  function editedExport(name: string, edit: (lines: string[]) => string[]): string {
    const lines = fs.readFileSync(exported, 'utf8').trimEnd().split('\n');
    const file = path.join(dir, name);
    fs.writeFileSync(file, `${edit(lines).join('\n')}\n`);
    return file;
  }

  const leafLine = (lines: string[], index: number) =>
    lines.findIndex((l) => l.includes(`"leaf_index":${index},`));

  test('when the log is exported, then the file holds a header, the checkpoints and one canonical line per leaf', async () => {
    const run = await runCli(['audit', 'export', '--out', exported]);
    expect(run).toMatchObject({ exitCode: 0, stderr: '' });
    const [, size, checkpoints] = run.stdout.match(/^exported (\d+) events and (\d+) checkpoints to /)!;
    const lines = fs.readFileSync(exported, 'utf8').trimEnd().split('\n');
    const header = JSON.parse(lines[0]!);
    expect(header).toMatchObject({ format: 'grantline-audit-log', version: 1, tree_size: Number(size) });
    expect(header.jwks.keys.map((k: { use: string }) => k.use)).toEqual(['audit']);
    expect(lines).toHaveLength(1 + Number(checkpoints) + Number(size));
    expect((fs.statSync(exported).mode & 0o077) === 0).toBe(true);
  });

  test('when the export is verified offline, then it is ok with its own keys, with the JWKS and with a kept checkpoint', async () => {
    const own = await runCli(['audit', 'verify', '--offline', exported]);
    expect(own.exitCode).toBe(0);
    expect(own.stdout).toMatch(/^ok: \d+ leaves, root \S{44}, \d+ checkpoints checked/);
    expect(own.stderr).toMatch(/trusting the keys inside the export/);
    const pinned = await runCli([
      'audit',
      'verify',
      '--offline',
      exported,
      '--jwks',
      jwksFile,
      '--trusted-checkpoint',
      checkpointFile,
    ]);
    expect(pinned.exitCode).toBe(0);
    expect(pinned.stderr).not.toMatch(/trusting the keys/);
    const byUrl = await runCli([
      'audit',
      'verify',
      '--offline',
      exported,
      '--jwks',
      `${t.broker.url}/.well-known/jwks.json`,
      '--json',
    ]);
    expect(JSON.parse(byUrl.stdout)).toMatchObject({ ok: true, keysFrom: 'caller' });
  });

  test('when a leaf line is removed from the export, then offline verify names that leaf', async () => {
    const file = editedExport('removed.jsonl', (lines) => lines.filter((_, i) => i !== leafLine(lines, 4)));
    const run = await runCli(['audit', 'verify', '--offline', file, '--jwks', jwksFile]);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/^BROKEN at leaf 4: leaf_missing/);
  });

  test('when an event is edited in the export, then offline verify fails at or before it against the signed checkpoints', async () => {
    const file = editedExport('edited.jsonl', (lines) => {
      const i = leafLine(lines, 3);
      lines[i] = lines[i]!.replace('"type":"', '"type":"x');
      return lines;
    });
    const run = await runCli(['audit', 'verify', '--offline', file, '--jwks', jwksFile, '--json']);
    expect(run.exitCode).toBe(1);
    const r = JSON.parse(run.stdout);
    expect(r.brokenAt.reason).toBe('checkpoint_mismatch');
    expect(r.brokenAt.leafIndex).toBeLessThanOrEqual(3);
  });

  test('when the export is checked against keys that did not sign it, then every checkpoint is refused', async () => {
    const stranger = buildAuditKeys(await signingKeyFromPem(generateSigningKeyPem(), 'other'));
    const file = path.join(dir, 'other-jwks.json');
    fs.writeFileSync(file, JSON.stringify(stranger.jwks()));
    const run = await runCli(['audit', 'verify', '--offline', exported, '--jwks', file]);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/^BROKEN at leaf 0: checkpoint_signature \(checkpoint \d+: unknown_key\)/);
  });

  test('when the export is cut short, then offline verify names the first missing leaf', async () => {
    const file = editedExport('short.jsonl', (lines) => lines.slice(0, -2));
    const run = await runCli(['audit', 'verify', '--offline', file, '--json']);
    const r = JSON.parse(run.stdout);
    expect(run.exitCode).toBe(1);
    expect(r.brokenAt).toMatchObject({ reason: 'leaf_missing', leafIndex: r.treeSize - 2 });
  });

  test('when the file is not an export, then verify says so', async () => {
    const file = path.join(dir, 'not-an-export.jsonl');
    fs.writeFileSync(file, '{"hello":1}\n');
    await expect(runCli(['audit', 'verify', '--offline', file])).rejects.toThrow(
      /not a grantline-audit-log export/,
    );
  });

  test('when the database log is verified with a kept checkpoint, then it is ok and the checkpoint is counted', async () => {
    const run = await runCli(['audit', 'verify', '--trusted-checkpoint', checkpointFile, '--json']);
    expect(run.exitCode).toBe(0);
    const r = JSON.parse(run.stdout);
    expect(r).toMatchObject({ ok: true });
    expect(r.checkpointsChecked).toBeGreaterThanOrEqual(3);
  });
});
