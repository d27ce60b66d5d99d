import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initDevTrustDomain } from '../../../server/dev/identity/dev-trust-domain';
import { runCli } from './run-cli';

const undici: typeof import('undici') = require('undici');

const BROKER = 'http://broker.test:8080';
const SVID = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

let sent: Sent[];
let replies: Array<{ status: number; body: unknown } | Error>;
let dir: string;
let svidFile: string;

beforeEach(() => {
  sent = [];
  replies = [];
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-cli-'));
  svidFile = path.join(dir, 'svid.jwt');
  fs.writeFileSync(svidFile, `${SVID}\n`);
  // The CLI's client is @grantline/sdk, which calls undici's fetch (the module itself, not a copy of it).
  jest.spyOn(undici, 'fetch').mockImplementation((async (input: unknown, init?: RequestInit) => {
    sent.push({
      url: String(input),
      method: init?.method ?? 'GET',
      headers: init?.headers as Record<string, string>,
      body: init?.body as string | undefined,
    });
    const reply = replies.shift();
    if (!reply) throw new Error('unexpected request');
    if (reply instanceof Error) throw reply;
    return new Response(JSON.stringify(reply.body), {
      status: reply.status,
      headers: { 'content-type': 'application/json' },
    });
  }) as unknown as typeof undici.fetch);
});

afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

const client = ['--broker', BROKER, '--svid'];
const taskView = {
  id: '11111111-1111-4111-8111-111111111111',
  status: 'open',
  purpose: 'p',
  owner: 'spiffe://dev.grantline.local/orchestrator/o',
  agents: ['spiffe://dev.grantline.local/agent/a'],
  scopes: ['db:demo:read'],
  ttl: 1800,
  context: { task_type: 't', data_sensitivity: 'low', risk_score: 5 },
  limits: { max_grants: 1, max_active: 1, max_depth: 1, max_fanout: 1, budget: 7 },
  counters: { grants_issued: 0, active_grants: 0, budget_spent: 0, budget_remaining: 7 },
  policy_version: 'v1',
  created_at: '2026-01-01T10:00:00.000Z',
  expires_at: '2026-01-01T10:30:00.000Z',
  expires_in: 1800,
  closing_at: null,
  closed_at: null,
  close_reason: null,
};

describe('grantline task open', () => {
  test('when options repeat and durations have units, then the body carries lists, seconds and only the limits given', async () => {
    replies.push({ status: 201, body: taskView });
    const run = await runCli([
      'task',
      'open',
      ...client,
      svidFile,
      '--purpose',
      'p',
      '--agent',
      'spiffe://dev.grantline.local/agent/a',
      '--agent',
      'spiffe://dev.grantline.local/agent/b',
      '--scope',
      'db:demo:read',
      '--scope',
      'kv:demo/api-key',
      '--ttl',
      '30m',
      '--budget',
      '7',
      '--max-depth',
      '2',
      '--sensitivity',
      'low',
      '--risk',
      '5',
    ]);
    expect(run).toMatchObject({ exitCode: 0, stderr: '' });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.url).toBe(`${BROKER}/v1/tasks`);
    expect(sent[0]!.headers.authorization).toBe(`Bearer ${SVID}`);
    expect(JSON.parse(sent[0]!.body!)).toEqual({
      purpose: 'p',
      agents: ['spiffe://dev.grantline.local/agent/a', 'spiffe://dev.grantline.local/agent/b'],
      scopes: ['db:demo:read', 'kv:demo/api-key'],
      ttl: 1800,
      limits: { budget: 7, max_depth: 2 },
      context: { data_sensitivity: 'low', risk_score: 5 },
    });
    expect(run.stdout.split('\n')[0]).toBe(taskView.id);
    expect(run.stdout).toMatch(/^status +open$/m);
  });

  test('when --quiet is given, then only the task id is printed', async () => {
    replies.push({ status: 201, body: taskView });
    const run = await runCli([
      'task',
      'open',
      ...client,
      svidFile,
      '--purpose',
      'p',
      '--agent',
      'spiffe://dev.grantline.local/agent/a',
      '--scope',
      's',
      '-q',
    ]);
    expect(run.stdout).toBe(`${taskView.id}\n`);
  });

  test('when --ttl is not a duration, then commander refuses it and nothing is sent', async () => {
    const run = await runCli([
      'task',
      'open',
      ...client,
      svidFile,
      '--purpose',
      'p',
      '--agent',
      'x',
      '--scope',
      's',
      '--ttl',
      'soon',
    ]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("option '--ttl <duration>' argument 'soon' is invalid");
    expect(sent).toHaveLength(0);
  });

  test('when --sensitivity is not low|medium|high, then it is refused', async () => {
    const run = await runCli([
      'task',
      'open',
      ...client,
      svidFile,
      '--purpose',
      'p',
      '--agent',
      'x',
      '--scope',
      's',
      '--sensitivity',
      'extreme',
    ]);
    expect(run.exitCode).toBe(1);
    expect(sent).toHaveLength(0);
  });
});

describe('errors and identity', () => {
  test('when the broker answers non-2xx, then stderr gets the description, the code and the details, exit 1', async () => {
    replies.push({
      status: 429,
      body: {
        error: 'quota_exceeded',
        error_description: 'the task budget is spent',
        limit: 'budget',
        reasons: ['r1', 'r2'],
      },
    });
    const run = await runCli(['task', 'show', taskView.id, ...client, svidFile]);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'error: the task budget is spent (quota_exceeded)\n  limit: budget\n  reasons: r1; r2\n',
    );
  });

  test('when the broker cannot be reached, then the read is tried three times and the message says so, exit 1', async () => {
    for (let i = 0; i < 3; i++)
      replies.push(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }));
    const run = await runCli(['task', 'list', ...client, svidFile]);
    expect(run.exitCode).toBe(1);
    expect(sent).toHaveLength(3);
    expect(run.stderr).toBe(`error: cannot reach the broker at ${BROKER}: connection refused\n`);
  });

  test('when a call that creates something cannot reach the broker, then it is not sent twice', async () => {
    replies.push(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } }));
    const run = await runCli(['task', 'close', taskView.id, ...client, svidFile]);
    expect(run.exitCode).toBe(1);
    const open = await runCli([
      'task',
      'open',
      ...client,
      svidFile,
      '--purpose',
      'p',
      '--agent',
      'a',
      '--scope',
      's',
    ]);
    expect(open.exitCode).toBe(1);
    // close is idempotent (retried), open is not: one more request in all.
    expect(sent.filter((r) => r.url.endsWith('/v1/tasks'))).toHaveLength(1);
  });

  test('when neither --svid nor --as is given, then the CLI asks who you are and sends nothing', async () => {
    const run = await runCli(['task', 'list', '--broker', BROKER]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('give --svid <file>, --as <spiffe-id> or --workload-api');
    expect(sent).toHaveLength(0);
  });

  test('when --workload-api is given without SPIFFE_ENDPOINT_SOCKET, or with --as, then nothing is sent', async () => {
    const saved = process.env.SPIFFE_ENDPOINT_SOCKET;
    delete process.env.SPIFFE_ENDPOINT_SOCKET;
    try {
      const noSocket = await runCli(['task', 'list', '--broker', BROKER, '--workload-api']);
      expect(noSocket.exitCode).toBe(1);
      expect(noSocket.stderr).toContain('needs SPIFFE_ENDPOINT_SOCKET');
      const both = await runCli([
        'task',
        'list',
        '--broker',
        BROKER,
        '--workload-api',
        '--as',
        'spiffe://a.b/c',
      ]);
      expect(both.exitCode).toBe(1);
      expect(both.stderr).toContain('give one of');
    } finally {
      if (saved !== undefined) process.env.SPIFFE_ENDPOINT_SOCKET = saved;
    }
    expect(sent).toHaveLength(0);
  });

  test('when --svid names a file without a JWT, then it is refused before any request', async () => {
    fs.writeFileSync(svidFile, 'not a jwt');
    const run = await runCli(['task', 'list', ...client, svidFile]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('does not hold a JWT-SVID');
    expect(sent).toHaveLength(0);
  });

  test('when --as names a dev SPIFFE ID, then a dev JWT-SVID for it is minted under $GRANTLINE_HOME', async () => {
    const previous = process.env.GRANTLINE_HOME;
    process.env.GRANTLINE_HOME = dir;
    await initDevTrustDomain(dir);
    try {
      replies.push({ status: 200, body: { tasks: [] } });
      const run = await runCli([
        'task',
        'list',
        '--broker',
        BROKER,
        '--as',
        'spiffe://dev.grantline.local/orchestrator/o',
      ]);
      expect(run).toMatchObject({ exitCode: 0, stdout: 'no tasks\n' });
      const jwt = sent[0]!.headers.authorization!.replace(/^Bearer /, '');
      const claims = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());
      expect(claims).toMatchObject({
        sub: 'spiffe://dev.grantline.local/orchestrator/o',
        aud: ['grantline'],
      });
      expect(claims.exp - claims.iat).toBe(300);
    } finally {
      if (previous === undefined) delete process.env.GRANTLINE_HOME;
      else process.env.GRANTLINE_HOME = previous;
    }
  });

  test('when --broker is not given, then $GRANTLINE_URL is used', async () => {
    const previous = process.env.GRANTLINE_URL;
    process.env.GRANTLINE_URL = 'http://from-env.test:9000/';
    try {
      replies.push({ status: 200, body: { tasks: [] } });
      await runCli(['task', 'list', '--svid', svidFile, '--status', 'open']);
      expect(sent[0]!.url).toBe('http://from-env.test:9000/v1/tasks?status=open');
    } finally {
      if (previous === undefined) delete process.env.GRANTLINE_URL;
      else process.env.GRANTLINE_URL = previous;
    }
  });

  test('when --as names another trust domain, then minting fails with an explanation', async () => {
    const run = await runCli(['task', 'list', '--broker', BROKER, '--as', 'spiffe://prod.example/agent']);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('--as only works with the dev trust domain');
  });
});

describe('grant delegation commands', () => {
  const offer = {
    offer_id: 'o-1',
    delegation_token: 'dt.x.y',
    expires_in: 120,
    to: 'spiffe://dev.grantline.local/agent/b',
    scopes: ['db:demo:read'],
    budget: 2,
    may_redelegate: false,
  };

  test('when delegating with --no-redelegate, then the body says so and --quiet prints only the token', async () => {
    replies.push({ status: 201, body: offer });
    const run = await runCli([
      'grant',
      'delegate',
      'g-1',
      ...client,
      svidFile,
      '--to',
      offer.to,
      '--scope',
      'db:demo:read',
      '--ttl',
      '2m',
      '--budget',
      '2',
      '--no-redelegate',
      '--quiet',
    ]);
    expect(run).toMatchObject({ exitCode: 0, stdout: 'dt.x.y\n' });
    expect(sent[0]!.url).toBe(`${BROKER}/v1/grants/g-1/delegations`);
    expect(JSON.parse(sent[0]!.body!)).toEqual({
      to: offer.to,
      scopes: ['db:demo:read'],
      ttl: 120,
      budget: 2,
      may_redelegate: false,
    });
  });

  test('when delegating with --actions, then the offer reserves that many actions for the delegate', async () => {
    replies.push({ status: 201, body: { ...offer, actions: 3 } });
    await runCli([
      'grant',
      'delegate',
      'g-1',
      ...client,
      svidFile,
      '--to',
      offer.to,
      '--scope',
      's',
      '--actions',
      '3',
    ]);
    expect(JSON.parse(sent[0]!.body!)).toMatchObject({ actions: 3 });
  });

  test('when a grant is requested with --resource (RFC 8707), then the body names the resources, not an audience', async () => {
    replies.push({
      status: 201,
      body: {
        grant_id: 'g-9',
        access_token: 'at',
        token_type: 'Bearer',
        expires_in: 60,
        scope: 's',
        secrets: [],
      },
    });
    const resource = ['https://orders.example/mcp', 'https://billing.example/mcp'];
    const run = await runCli([
      'grant',
      'request',
      't-1',
      ...client,
      svidFile,
      '--scope',
      's',
      ...resource.flatMap((r) => ['--resource', r]),
    ]);
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(sent[0]!.body!)).toEqual({ scopes: ['s'], resource, context: {} });
    const neither = await runCli(['grant', 'request', 't-1', ...client, svidFile, '--scope', 's']);
    expect(neither.exitCode).toBe(1);
    expect(neither.stderr).toContain('give either --audience or --resource');
    expect(sent).toHaveLength(1);
  });

  test('when delegating without --no-redelegate, then re-delegation is allowed', async () => {
    replies.push({ status: 201, body: { ...offer, may_redelegate: true } });
    await runCli([
      'grant',
      'delegate',
      'g-1',
      ...client,
      svidFile,
      '--to',
      offer.to,
      '--scope',
      'db:demo:read',
    ]);
    expect(JSON.parse(sent[0]!.body!)).toEqual({
      to: offer.to,
      scopes: ['db:demo:read'],
      may_redelegate: true,
    });
  });

  test('when redeeming, then an RFC 8693 form goes to /oauth2/token with the caller SVID as actor and Bearer', async () => {
    const grant = {
      grant_id: 'g-2',
      access_token: 'at',
      token_type: 'Bearer',
      expires_in: 120,
      scope: 'db:demo:read',
      secrets: [],
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    };
    replies.push({ status: 200, body: grant });
    const run = await runCli([
      'grant',
      'redeem',
      'dt.x.y',
      ...client,
      svidFile,
      '--scope',
      'db:demo:read',
      '--scope',
      'kv:demo/api-key',
      '--audience',
      'orders',
    ]);
    expect(run.exitCode).toBe(0);
    expect(sent[0]!.url).toBe(`${BROKER}/oauth2/token`);
    expect(sent[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(sent[0]!.headers.authorization).toBe(`Bearer ${SVID}`);
    expect(Object.fromEntries(new URLSearchParams(sent[0]!.body))).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: 'dt.x.y',
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      actor_token: SVID,
      actor_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      scope: 'db:demo:read kv:demo/api-key',
      audience: 'orders',
    });
    expect(run.stdout.split('\n')[0]).toBe('g-2');
  });
});

describe('grantline lineage', () => {
  const node = {
    grant_id: 'g-1',
    parent_id: null,
    holder: 'spiffe://dev.grantline.local/agent/a',
    scopes: ['s'],
    status: 'active',
    depth: 0,
    ttl: 300,
    cost: 1,
    budget: { reserved: null, spent: 1 },
    may_redelegate: true,
    policy_ids: ['p'],
    policy_version: 'v',
    approval: null,
    issued_at: 'x',
    expires_at: 'y',
    revoked_at: null,
    leases: [],
    children: [],
  };

  test('when the id is not a grant, then the task lineage is fetched and drawn without colour off a TTY', async () => {
    replies.push({ status: 404, body: { error: 'not_found', error_description: 'no such grant' } });
    replies.push({
      status: 200,
      body: { task: { id: 't-1', purpose: 'p', owner: 'o', status: 'open' }, grants: [node] },
    });
    const run = await runCli(['lineage', 't-1', ...client, svidFile]);
    expect(run.exitCode).toBe(0);
    expect(sent.map((s) => s.url)).toEqual([
      `${BROKER}/v1/grants/t-1/lineage`,
      `${BROKER}/v1/tasks/t-1/lineage`,
    ]);
    expect(run.stdout).toContain('└─ spiffe://dev.grantline.local/agent/a  [s]  active  (depth 0');
    expect(run.stdout).not.toContain('\u001b[');
  });

  test('when the grant lookup fails with something other than 404, then that error is reported', async () => {
    replies.push({ status: 403, body: { error: 'access_denied', error_description: 'auditors only' } });
    const run = await runCli(['lineage', 'g-1', ...client, svidFile]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe('error: auditors only (access_denied)\n');
    expect(sent).toHaveLength(1);
  });
});
