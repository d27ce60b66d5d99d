import { runDevVault } from '../../server/dev/vault/run-dev-vault';
import { AGENT_A, APPROVER, ORCHESTRATOR, startTestBroker, type TestBroker } from '../helpers/broker';
import { runCli } from '../unit/cli/run-cli';

describe('grantline client commands against a running broker', () => {
  let t: TestBroker;
  const saved = { home: process.env.GRANTLINE_HOME, db: process.env.DATABASE_URL };
  const as = (id: string) => ['--broker', t.broker.url, '--as', id];

  beforeAll(async () => {
    t = await startTestBroker();
    process.env.GRANTLINE_HOME = t.home;
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
  });

  async function openTask(): Promise<string> {
    const run = await runCli([
      'task',
      'open',
      ...as(ORCHESTRATOR),
      '--purpose',
      'cli test',
      '--agent',
      AGENT_A,
      '--scope',
      'db:demo:read',
      '--scope',
      'tool:demo:deploy',
      '--ttl',
      '30m',
      '--budget',
      '20',
      '--max-depth',
      '2',
      '--quiet',
    ]);
    expect(run).toMatchObject({ exitCode: 0, stderr: '' });
    expect(run.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    return run.stdout.trim();
  }

  test('when a task is opened, shown and listed, then the CLI prints its id first and its facts aligned', async () => {
    const id = await openTask();
    const show = await runCli(['task', 'show', id, ...as(ORCHESTRATOR)]);
    expect(show.exitCode).toBe(0);
    expect(show.stdout.split('\n')[0]).toBe(id);
    expect(show.stdout).toMatch(/^status +open$/m);
    expect(show.stdout).toMatch(/^scopes +db:demo:read, tool:demo:deploy$/m);
    expect(show.stdout).toMatch(/^limits +grants 100, active 20, depth 2, fanout 5, budget 20$/m);

    const list = await runCli(['task', 'list', '--status', 'open', ...as(ORCHESTRATOR)]);
    expect(list.stdout).toMatch(/^ID +STATUS +EXPIRES +PURPOSE$/m);
    expect(list.stdout).toContain(`${id}  open`);

    const json = await runCli(['task', 'show', id, ...as(ORCHESTRATOR), '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ id, status: 'open', limits: { budget: 20 } });
  });

  test('when a privileged scope is requested before and after approval, then the CLI shows the refusal, then the grant', async () => {
    const id = await openTask();
    const refused = await runCli([
      'grant',
      'request',
      id,
      ...as(AGENT_A),
      '--scope',
      'tool:demo:deploy',
      '--audience',
      'deployer',
    ]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/^error: .+ \(access_denied\)$/m);
    expect(refused.stderr).toMatch(/^ {2}reasons: /m);

    const approve = await runCli([
      'task',
      'approve',
      id,
      ...as(APPROVER),
      '--scope',
      'tool:demo:deploy',
      '--approver',
      'alice',
      '--ttl',
      '15m',
      '--single-use',
      '--note',
      'deploy once',
    ]);
    expect(approve.exitCode).toBe(0);
    expect(approve.stdout).toMatch(/^approver +alice$/m);
    expect(approve.stdout).toMatch(/^single use +yes$/m);

    const granted = await runCli([
      'grant',
      'request',
      id,
      ...as(AGENT_A),
      '--scope',
      'tool:demo:deploy',
      '--audience',
      'deployer',
      '--tool',
      'deploy',
    ]);
    expect(granted.exitCode).toBe(0);
    expect(granted.stdout).toContain('secret tool:demo:deploy (token)');
  });

  test('when a grant is requested, revoked, and the task closed, then secrets, revocation and the receipt are printed', async () => {
    const id = await openTask();
    const granted = await runCli([
      'grant',
      'request',
      id,
      ...as(AGENT_A),
      '--scope',
      'db:demo:read',
      '--audience',
      'orders-db',
      '--ttl',
      '5m',
      '--intent',
      'count orders',
    ]);
    expect(granted).toMatchObject({ exitCode: 0, stderr: '' });
    const grantId = granted.stdout.split('\n')[0]!;
    expect(grantId).toMatch(/^[0-9a-f-]{36}$/);
    expect(granted.stdout).toMatch(/^access token +ey[\w-]+\.[\w-]+\.[\w-]+$/m);
    expect(granted.stdout).toContain('secret db:demo:read (dynamic)');
    expect(granted.stdout).toMatch(/^ {2}username +\S+$/m);
    expect(granted.stdout).toMatch(/^ {2}password +\S+$/m);
    expect(granted.stdout).toMatch(/^ {2}lease id +database\/creds\/demo-read\/\S+$/m);
    expect(granted.stdout).toMatch(new RegExp(`^ {2}database +${t.demoDatabase}$`, 'm'));

    const quiet = await runCli([
      'grant',
      'request',
      id,
      ...as(AGENT_A),
      '--scope',
      'db:demo:read',
      '--audience',
      'orders-db',
      '--quiet',
    ]);
    const second = JSON.parse(quiet.stdout);
    expect(second).toMatchObject({ token_type: 'Bearer', scope: 'db:demo:read' });

    const revoked = await runCli([
      'grant',
      'revoke',
      second.grant_id,
      ...as(AGENT_A),
      '--reason',
      'not needed',
    ]);
    expect(revoked.exitCode).toBe(0);
    expect(revoked.stdout).toMatch(/^status +revoked$/m);
    expect(revoked.stdout).not.toContain(second.access_token);

    const closed = await runCli(['task', 'close', id, ...as(ORCHESTRATOR), '--reason', 'done']);
    expect(closed.exitCode).toBe(0);
    expect(closed.stdout.split('\n')[0]).toBe(id);
    expect(closed.stdout).toMatch(/^status +(closing|closed)$/m);
    expect(closed.stdout).toMatch(/^grants +2$/m);

    await t.broker.runBackgroundOnce();
    const receipt = await runCli(['receipt', id, ...as(ORCHESTRATOR)]);
    expect(receipt.exitCode).toBe(0);
    expect(receipt.stdout.split('\n')[0]).toMatch(new RegExp(`^task ${id}  (closing|closed)  \\(done\\)$`));
    expect(receipt.stdout).toMatch(
      new RegExp(`^grant +${grantId} +${AGENT_A} \\[db:demo:read\\] +revoked`, 'm'),
    );
    expect(receipt.stdout).toMatch(
      /^ {2}lease +database\/creds\/demo-read\/\S+ +db:demo:read +(revoked|retrying|active)/m,
    );
    expect(receipt.stdout).toMatch(/^task_token +\S+ +- +/m);
    expect(receipt.stdout.trimEnd().split('\n').at(-1)).toMatch(/^complete: (yes|no)$/);
    for (const secret of [granted.stdout.match(/^ {2}password +(\S+)$/m)![1]!, second.access_token]) {
      expect(receipt.stdout).not.toContain(secret);
      expect(closed.stdout).not.toContain(secret);
    }
  });

  test('when a task closes twice, then the second close is idempotent and a grant request on it is refused with 409', async () => {
    const id = await openTask();
    expect((await runCli(['task', 'close', id, ...as(ORCHESTRATOR)])).exitCode).toBe(0);
    expect((await runCli(['task', 'close', id, ...as(ORCHESTRATOR)])).exitCode).toBe(0);
    const late = await runCli([
      'grant',
      'request',
      id,
      ...as(AGENT_A),
      '--scope',
      'db:demo:read',
      '--audience',
      'x',
    ]);
    expect(late.exitCode).toBe(1);
    expect(late.stderr).toMatch(/^error: the task is (closing|closed), not open \(conflict\)$/m);
  });

  test('when another orchestrator asks for a task, then it is not found', async () => {
    const id = await openTask();
    const run = await runCli(['task', 'show', id, ...as('spiffe://dev.grantline.local/orchestrator/other')]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe('error: no such task (not_found)\n');
  });

  test('when the broker is not running, then the CLI says it cannot reach it', async () => {
    const run = await runCli(['task', 'list', '--broker', 'http://127.0.0.1:1', '--as', ORCHESTRATOR]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/^error: cannot reach the broker at http:\/\/127\.0\.0\.1:1: /);
  });

  test('when the audit log is verified from the database, then progress, the root and the checkpoints are printed', async () => {
    process.env.DATABASE_URL = t.db.url;
    await t.broker.auditSequencer.runOnce({ forceCheckpoint: true });
    const run = await runCli(['audit', 'verify']);
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toMatch(/^checked \d+\/\d+$/m);
    expect(run.stdout).toMatch(
      /^ok: \d+ leaves, root \S{44}, \d+ checkpoints checked \(latest checkpoint at size \d+\)\n$/,
    );
  });

  test('when the dev Vault is started, then VAULT_ADDR and VAULT_TOKEN are printed and it answers until stopped', async () => {
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    let printed = '';
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      printed += String(chunk);
      return true;
    });
    const running = runDevVault({ port: 0, host: '127.0.0.1', rootToken: 'root-for-test' }, stopped);
    try {
      const deadline = Date.now() + 5000;
      while (!printed.includes('VAULT_TOKEN=') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
    } finally {
      spy.mockRestore();
    }
    const addr = printed.match(/^VAULT_ADDR=(\S+)$/m)?.[1];
    expect(printed).toMatch(/^VAULT_TOKEN=root-for-test$/m);
    const health = await fetch(`${addr}/v1/sys/health`);
    expect(health.status).toBe(200);
    stop();
    await running;
    await expect(fetch(`${addr}/v1/sys/health`)).rejects.toThrow();
  });
});
