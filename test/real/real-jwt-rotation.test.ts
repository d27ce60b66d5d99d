import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { decodeProtectedHeader } from 'jose';
import { eventually } from '../helpers/broker';
import { call, closeWorkloadClients, jwtSvid, type RealBroker, startRealBroker } from './support/real-broker';
import { stackInfo } from './support/stack-info';

const run = promisify(execFile);

/** `spire-server localauthority jwt <command>` (real-stack-and-mcp.md §1: the authority ID is the kid). */
async function jwtAuthority(command: string, authorityId?: string): Promise<any> {
  const info = stackInfo();
  const args = ['localauthority', 'jwt', command, '-socketPath', info.serverSocket, '-output', 'json'];
  if (authorityId) args.push('-authorityID', authorityId);
  return JSON.parse((await run(info.serverBin, args)).stdout);
}

const kidOf = (token: string) => decodeProtectedHeader(token).kid;

describe('SPIRE rotates its JWT signing key while the broker runs', () => {
  let rb: RealBroker;

  beforeAll(async () => {
    rb = await startRealBroker();
  });
  afterAll(async () => {
    closeWorkloadClients();
    await rb?.stop();
  });

  /** The JWT key IDs the broker last installed for our trust domain (from its log). */
  const brokerKids = (): string[] => {
    const updates = rb.logs
      .map((l) => JSON.parse(l) as { msg?: string; trustDomain?: string; jwtKeyIds?: string[] })
      .filter(
        (l) =>
          l.msg === 'trust bundle updated from the Workload API' && l.trustDomain === stackInfo().trustDomain,
      );
    return updates.at(-1)?.jwtKeyIds ?? [];
  };
  const listTasks = (bearer: string) => call(rb, 'GET', '/v1/tasks?status=open', { bearer });

  test('when a key is prepared, activated, tainted and revoked, then the broker follows without a restart', async () => {
    const url = rb.broker.url;
    const oldKid = (await jwtAuthority('show')).active.authority_id as string;
    const oldSvid = await jwtSvid('orchestrator');
    expect(kidOf(oldSvid)).toBe(oldKid);
    expect((await listTasks(oldSvid)).status).toBe(200);

    const newKid = (await jwtAuthority('prepare')).prepared_authority.authority_id as string;
    expect(await eventually(async () => brokerKids().includes(newKid), 30_000, 200)).toBe(true);
    expect(brokerKids()).toContain(oldKid);

    await jwtAuthority('activate', newKid);
    await jwtAuthority('taint', oldKid);
    // Tainting makes the agent drop JWT-SVIDs signed by the old key: the next fetch is signed by the new one.
    let newSvid = '';
    expect(
      await eventually(
        async () => {
          newSvid = await jwtSvid('orchestrator');
          return kidOf(newSvid) === newKid;
        },
        30_000,
        300,
      ),
    ).toBe(true);
    expect((await listTasks(newSvid)).status).toBe(200);
    // A tainted key is still in the bundle: what it signed still verifies until it is revoked.
    expect((await listTasks(oldSvid)).status).toBe(200);

    await jwtAuthority('revoke', oldKid);
    expect(await eventually(async () => !brokerKids().includes(oldKid), 30_000, 200)).toBe(true);

    const refused = await listTasks(oldSvid);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_token');
    expect((await listTasks(newSvid)).status).toBe(200);
    expect(rb.broker.url).toBe(url);
  });
});
