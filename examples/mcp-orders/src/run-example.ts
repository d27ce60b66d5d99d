import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createGrantlineClient, devTrustDomain } from '@grantline/sdk';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startAgent } from './agent';
import { freePort, startNode, waitForOk } from './processes';
import { pythonForAgent, startPythonAgent } from './python-agent';

const ORCHESTRATOR = 'spiffe://dev.grantline.local/orchestrator/planner';
const AGENT = 'spiffe://dev.grantline.local/agent/researcher';
const REPO = path.resolve(__dirname, '../../..');
const say = (line: string) => process.stdout.write(`${line}\n`);

/** The story with the broker and the tool server as separate processes, as a user would run them. */
async function story(brokerUrl: string, mcpUrl: string, home: string): Promise<void> {
  const orchestrator = createGrantlineClient({
    url: brokerUrl,
    identity: devTrustDomain({ spiffeId: ORCHESTRATOR, home }),
  });
  const task = await orchestrator.tasks.open({
    purpose: 'report how many orders are open',
    agents: [AGENT],
    scopes: ['mcp:orders:read'],
    // The tool's resource URL is the audience its tokens must carry (RFC 8707, MCP authorization).
    audiences: [mcpUrl],
    ttl: '10m',
  });
  say(`1. orchestrator opened task ${task.id}`);
  const agent = await startAgent({
    mcpUrl,
    identity: devTrustDomain({ spiffeId: AGENT, home }),
    taskId: task.id,
  });
  try {
    say(`2. agent discovered the authorization server ${agent.issuer} from ${mcpUrl}'s metadata`);
    say(`3. agent got grant ${agent.grant.grant_id} (${agent.grant.scope}, for ${mcpUrl})`);
    const open = await agent.countOrders('open');
    say(`4. count_orders(status=open) → ${open.count}`);
    const receipt = await orchestrator.tasks.close(task.id, 'report done');
    say(
      `5. orchestrator closed the task (status ${receipt.status}; its ${receipt.summary.grants} grant inactive at once)`,
    );
    const refused = await agent.countOrders('open').then(
      () => undefined,
      (err: unknown) => err,
    );
    if (!(refused instanceof StreamableHTTPError) || refused.code !== 401)
      throw new Error(`the call after close was not refused with 401: ${String(refused)}`);
    say('6. the next count_orders call was refused: 401 (the revocation feed reached the tool)');
  } finally {
    await agent.close();
    await orchestrator.close();
  }
}

/** The same story with the Python agent (the official `mcp` package and the `grantline` SDK). */
async function pythonStory(python: string, brokerUrl: string, mcpUrl: string, home: string): Promise<void> {
  const orchestrator = createGrantlineClient({
    url: brokerUrl,
    identity: devTrustDomain({ spiffeId: ORCHESTRATOR, home }),
  });
  const task = await orchestrator.tasks.open({
    purpose: 'report how many orders are open (Python agent)',
    agents: [AGENT],
    scopes: ['mcp:orders:read'],
    audiences: [mcpUrl],
    ttl: '10m',
  });
  say(`7. orchestrator opened task ${task.id} for the Python agent`);
  const agent = startPythonAgent(python, { mcpUrl, taskId: task.id, home });
  try {
    const expect = async (prefix: string) => {
      const { value, done } = await agent.lines.next();
      if (done || !value.startsWith(prefix))
        throw new Error(
          `the Python agent said ${done ? 'nothing more' : JSON.stringify(value)}, not "${prefix}…"`,
        );
      return value.slice(prefix.length).trim();
    };
    say(`8. Python agent discovered the authorization server ${await expect('discovered ')}`);
    say(`9. Python agent got grant ${await expect('granted ')}`);
    say(`10. Python agent: count_orders(status=open) → ${await expect('count ')}`);
    await expect('ready');
    const receipt = await orchestrator.tasks.close(task.id, 'report done');
    agent.taskClosed();
    say(`11. orchestrator closed the task (status ${receipt.status})`);
    await expect('refused 401');
    if ((await agent.exited) !== 0) throw new Error('the Python agent did not exit 0');
    say('12. the Python agent\u2019s next count_orders call was refused: 401');
  } catch (err) {
    process.stderr.write(`--- Python agent output ---\n${agent.output()}`);
    throw err;
  } finally {
    agent.stop();
    await orchestrator.close();
  }
}

/** `npm run example:mcp`: everything on embedded defaults, in a temporary GRANTLINE_HOME. */
export async function runExample(): Promise<void> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-mcp-example-'));
  // As `.grantline/` would be: the embedded PostgreSQL runs as its own user when we are root.
  fs.chmodSync(home, 0o755);
  const brokerPort = await freePort();
  const toolPort = await freePort();
  const brokerUrl = `http://127.0.0.1:${brokerPort}`;
  const env = { ...process.env, GRANTLINE_HOME: home, GRANTLINE_LOG_LEVEL: 'warn' };
  // Before anything starts: the Python agent's virtualenv (created and filled from PyPI the first time).
  const python = pythonForAgent();
  const broker = startNode('grantline serve', [path.join(REPO, 'bin/grantline.js'), 'serve'], {
    ...env,
    GRANTLINE_PORT: String(brokerPort),
  });
  try {
    await waitForOk(`${brokerUrl}/readyz`, broker, 120_000);
    say(`0. broker ready at ${brokerUrl} (embedded PostgreSQL, dev Vault, dev trust domain in ${home})`);
    // The tool server starts once the broker is up: it reads the broker's metadata and feed at start.
    const server = startNode('orders MCP server', [path.join(__dirname, '../server.js')], {
      ...env,
      GRANTLINE_URL: brokerUrl,
      PORT: String(toolPort),
    });
    try {
      await waitForOk(`http://127.0.0.1:${toolPort}/.well-known/oauth-protected-resource`, server, 30_000);
      await story(brokerUrl, `http://127.0.0.1:${toolPort}/mcp`, home);
      await pythonStory(python, brokerUrl, `http://127.0.0.1:${toolPort}/mcp`, home);
    } catch (err) {
      process.stderr.write(`--- orders MCP server output ---\n${server.output()}`);
      throw err;
    } finally {
      await server.stop();
    }
  } catch (err) {
    process.stderr.write(`--- broker output ---\n${broker.output()}`);
    throw err;
  } finally {
    await broker.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
}
