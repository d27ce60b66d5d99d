import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { splitDer, WorkloadEndpointInvalid, workloadApiTarget } from '@grantline/sdk/workload-api';
import { GENERATED_FILE, renderGeneratedModule } from '../../../scripts/generate-workload-proto';
import { decodeJwtBundles } from '../../../sdk/typescript/src/workload-api/decode';
import { createCa, issueCert } from './support/pki';

const root = path.resolve(__dirname, '../../..');

describe('Workload API address (SPIFFE_ENDPOINT_SOCKET)', () => {
  test.each([
    ['unix:///run/spire/agent.sock', 'unix:///run/spire/agent.sock'],
    ['unix:/run/spire/agent.sock', 'unix:///run/spire/agent.sock'],
    ['tcp://127.0.0.1:8000', 'ipv4:127.0.0.1:8000'],
    ['tcp://[::1]:8000', 'ipv6:[::1]:8000'],
  ])('when it is %s, then grpc-js dials %s', (address, target) => {
    expect(workloadApiTarget(address)).toBe(target);
  });

  test.each([
    ['unix://host/run/agent.sock', 'a host in a unix URI (grpc-js would read a relative path)'],
    ['unix:relative.sock', 'a relative path'],
    ['unix:///run/a.sock?x=1', 'a query'],
    ['tcp://localhost:8000', 'a host name instead of an IP'],
    ['tcp://127.0.0.1:8000/path', 'a path after the port'],
    ['tcp://127.0.0.1', 'no port'],
    ['http://127.0.0.1:8000', 'another scheme'],
    [`unix:///${'a'.repeat(120)}`, 'a socket path over 107 bytes'],
  ])('when it is %s (%s), then it is refused', (address) => {
    expect(() => workloadApiTarget(address)).toThrow(WorkloadEndpointInvalid);
  });
});

describe('concatenated DER certificates', () => {
  test('when a chain of two is concatenated, then each certificate comes back whole, in order', async () => {
    const ca = await createCa('td.test');
    const leaf = await issueCert(ca, { uris: ['spiffe://td.test/w'] });
    const leafDer = new X509Certificate(leaf.certPem).raw;
    const caDer = new X509Certificate(ca.pem).raw;
    const parts = splitDer(Buffer.concat([leafDer, caDer]));
    expect(parts.map((p) => p.equals(leafDer))).toEqual([true, false]);
    expect(parts[1]!.equals(caDer)).toBe(true);
  });

  test('when the bytes are truncated or not a SEQUENCE, then it throws instead of guessing', async () => {
    const der = new X509Certificate((await createCa('td.test')).pem).raw;
    expect(() => splitDer(der.subarray(0, der.length - 1))).toThrow(/truncated/);
    expect(() => splitDer(Buffer.from([0x31, 0x00]))).toThrow(/SEQUENCE/);
    expect(splitDer(Buffer.alloc(0))).toEqual([]);
  });
});

describe('the descriptor the client loads', () => {
  test('when workload.proto is compiled now, then it equals the generated module (no drift)', () => {
    expect(readFileSync(path.join(root, GENERATED_FILE), 'utf8')).toBe(renderGeneratedModule(root));
  });

  test('when a bundles map arrives as entries or as an object, then both decode the same', () => {
    const json = Buffer.from('{"keys":[]}');
    const asEntries = decodeJwtBundles({ bundles: [{ key: 'spiffe://td.test', value: json }] });
    const asObject = decodeJwtBundles({ bundles: { 'spiffe://td.test': json } });
    expect([...asEntries]).toEqual([['spiffe://td.test', '{"keys":[]}']]);
    expect([...asObject]).toEqual([...asEntries]);
  });
});
