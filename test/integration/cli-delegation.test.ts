import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AGENT_A, AGENT_B, AUDITOR, ORCHESTRATOR, startTestBroker, type TestBroker } from '../helpers/broker';
import { runCli } from '../unit/cli/run-cli';

describe('grantline delegation, lineage and demo against a running broker', () => {
  let t: TestBroker;
  const savedHome = process.env.GRANTLINE_HOME;
  const as = (id: string) => ['--broker', t.broker.url, '--as', id];

  beforeAll(async () => {
    t = await startTestBroker();
    process.env.GRANTLINE_HOME = t.home;
  });
  afterAll(async () => {
    if (savedHome === undefined) delete process.env.GRANTLINE_HOME;
    else process.env.GRANTLINE_HOME = savedHome;
    await t?.stop();
  });

  test('when A delegates to B and B redeems with its own SVID, then the lineage shows the hop under A', async () => {
    const open = await runCli([
      'task',
      'open',
      ...as(ORCHESTRATOR),
      '--purpose',
      'delegation',
      '--agent',
      AGENT_A,
      '--delegate',
      AGENT_B,
      '--scope',
      'db:demo:read',
      '--budget',
      '10',
      '--max-depth',
      '2',
      '-q',
    ]);
    const taskId = open.stdout.trim();
    const granted = JSON.parse(
      (
        await runCli([
          'grant',
          'request',
          taskId,
          ...as(AGENT_A),
          '--scope',
          'db:demo:read',
          '--audience',
          'orders-db',
          '-q',
        ])
      ).stdout,
    );

    const offer = await runCli([
      'grant',
      'delegate',
      granted.grant_id,
      ...as(AGENT_A),
      '--to',
      AGENT_B,
      '--scope',
      'db:demo:read',
      '--ttl',
      '2m',
      '--budget',
      '2',
      '--no-redelegate',
      '--quiet',
    ]);
    expect(offer).toMatchObject({ exitCode: 0, stderr: '' });
    const token = offer.stdout.trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const stolen = await runCli([
      'grant',
      'redeem',
      token,
      ...as('spiffe://dev.grantline.local/agent/stranger'),
    ]);
    expect(stolen.exitCode).toBe(1);
    expect(stolen.stderr).toMatch(/\(invalid_request\)/);

    const redeemed = await runCli(['grant', 'redeem', token, ...as(AGENT_B), '--audience', 'orders-db']);
    expect(redeemed).toMatchObject({ exitCode: 0, stderr: '' });
    const childId = redeemed.stdout.split('\n')[0]!;
    expect(redeemed.stdout).toContain('secret db:demo:read (dynamic)');

    const again = await runCli([
      'grant',
      'delegate',
      childId,
      ...as(AGENT_B),
      '--to',
      'spiffe://dev.grantline.local/agent/c',
      '--scope',
      'db:demo:read',
    ]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(/\(access_denied\)/);

    const tree = await runCli(['lineage', taskId, ...as(AUDITOR)]);
    expect(tree.exitCode).toBe(0);
    const lines = tree.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^task ${taskId}  open  "delegation"`));
    expect(lines[1]).toMatch(
      new RegExp(`^└─ ${AGENT_A}  \\[db:demo:read\\]  active  \\(depth 0, cost 1, budget \\d+/task`),
    );
    expect(lines[2]).toMatch(
      new RegExp(
        `^ {3}└─ ${AGENT_B}  \\[db:demo:read\\]  active  \\(depth 1, cost 1, budget \\d+/2, .*no re-delegation`,
      ),
    );

    const path = await runCli(['lineage', childId, ...as(AUDITOR)]);
    expect(path.exitCode).toBe(0);
    expect(path.stdout).toMatch(new RegExp(`grant ${childId}\\)  ◀$`, 'm'));
  });

  test('when the demo runs against the broker, then every step succeeds and it ends verified', async () => {
    const run = await runCli(['demo', '--broker', t.broker.url]);
    if (run.exitCode !== 0) console.log(run.stdout, run.stderr);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`using the broker at ${t.broker.url}`);
    expect(run.stdout).toMatch(/agent a queried PostgreSQL .*: 3 rows/);
    expect(run.stdout).toMatch(/agent b queried PostgreSQL: 3 rows/);
    expect(run.stdout).toMatch(
      /agent b tried to redeem a db:demo:read offer as kv:demo\/api-key: refused \(400 invalid_scope/,
    );
    expect(run.stdout).toMatch(/agent b tried to re-delegate to agent c: refused \(403 access_denied/);
    expect(run.stdout).toMatch(/agent a's login \S+ no longer works: /);
    expect(run.stdout).toMatch(/agent b's login \S+ no longer works: /);
    expect(run.stdout).toMatch(/^ {3}complete: yes$/m);
    expect(run.stdout).toMatch(
      /the auditor verified the audit log: ok, \d+ events, root \S+, \d+ signed checkpoints/,
    );
    // The demo prints login names and lease ids, never a password, an access token or a delegation token.
    expect(run.stdout).not.toMatch(/ey[\w-]{10,}\.[\w-]+\./);
  });

  test('when the demo mints SVIDs the broker does not trust, then it explains that it needs the same dev trust domain', async () => {
    const otherHome = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-other-home-'));
    process.env.GRANTLINE_HOME = otherHome;
    try {
      // Another dev trust domain: its SVIDs are well formed, but signed by a key the broker does not know.
      expect((await runCli(['dev', 'init'])).exitCode).toBe(0);
      const run = await runCli(['demo', '--broker', t.broker.url]);
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain('error: the broker refused the demo\u2019s dev SVIDs');
      expect(run.stderr).toContain('same GRANTLINE_HOME');
    } finally {
      process.env.GRANTLINE_HOME = t.home;
      fs.rmSync(otherHome, { recursive: true, force: true });
    }
  });
});
