import { createPrivateKey, X509Certificate } from 'node:crypto';
import {
  loadPackageDefinition,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceClientConstructor,
  status,
} from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import { issueDevX509Svid, mintDevJwtSvid } from '../../../../server/dev/identity/dev-trust-domain';
import { WORKLOAD_API_DESCRIPTOR_SET } from '../../src/workload-api/workload-proto.generated';

/**
 * A SPIFFE Workload API server on a Unix socket (gRPC, the spec's descriptor), standing in for a SPIRE
 * agent where SPIRE is not installed: it hands out the dev trust domain's SVIDs, so the broker accepts
 * them. It enforces what SPIRE enforces: the `workload.spiffe.io: true` header, a non-empty audience,
 * and PermissionDenied for an identity it does not hold. X509-SVID streams stay open and get a new
 * message on `rotate()`.
 */
export interface FakeWorkloadApi {
  address: string;
  jwtFetches: number;
  /** The certificate last sent for `spiffeId`. */
  current(spiffeId: string): X509Certificate;
  /** Issues new X509-SVIDs and pushes them on every open stream. */
  rotate(): Promise<void>;
  close(): Promise<void>;
}

const pemToDer = (pem: string) => new X509Certificate(pem).raw;
const keyToDer = (pem: string) => createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });

export async function startFakeWorkloadApi(o: {
  socketPath: string;
  home: string;
  identities: string[];
  jwtTtlSeconds?: number;
}): Promise<FakeWorkloadApi> {
  const Service = loadPackageDefinition(
    loadFileDescriptorSetFromBuffer(WORKLOAD_API_DESCRIPTOR_SET, { keepCase: true, defaults: true }),
  ).SpiffeWorkloadAPI as ServiceClientConstructor;
  const streams = new Set<ServerWritableStream<unknown, unknown>>();
  let certs = new Map<string, { certPem: string; keyPem: string; bundlePem: string }>();
  const issue = async () => {
    const next = new Map<string, { certPem: string; keyPem: string; bundlePem: string }>();
    for (const id of o.identities) next.set(id, await issueDevX509Svid({ home: o.home, spiffeId: id }));
    certs = next;
  };
  const x509Message = () => ({
    svids: [...certs].map(([spiffeId, c]) => ({
      spiffe_id: spiffeId,
      x509_svid: pemToDer(c.certPem),
      x509_svid_key: keyToDer(c.keyPem),
      bundle: pemToDer(c.bundlePem),
      hint: '',
    })),
  });
  const fake: FakeWorkloadApi = {
    address: `unix://${o.socketPath}`,
    jwtFetches: 0,
    current: (id) => new X509Certificate(certs.get(id)!.certPem),
    async rotate() {
      await issue();
      for (const s of streams) s.write(x509Message());
    },
    async close() {
      for (const s of streams) s.end();
      server.forceShutdown();
    },
  };
  const secured = (md: { get(k: string): unknown[] }) => md.get('workload.spiffe.io')[0] === 'true';

  const server = new Server();
  server.addService(Service.service, {
    async FetchJWTSVID(
      call: ServerUnaryCall<{ audience: string[]; spiffe_id: string }, unknown>,
      cb: (err: { code: number; details: string } | null, res?: unknown) => void,
    ) {
      if (!secured(call.metadata))
        return cb({ code: status.INVALID_ARGUMENT, details: 'security header missing from request' });
      if (!call.request.audience.length)
        return cb({ code: status.INVALID_ARGUMENT, details: 'audience must be specified' });
      const id = call.request.spiffe_id || o.identities[0]!;
      if (!o.identities.includes(id))
        return cb({ code: status.PERMISSION_DENIED, details: 'no identity issued' });
      fake.jwtFetches++;
      const svid = await mintDevJwtSvid({
        home: o.home,
        spiffeId: id,
        audience: call.request.audience[0]!,
        ttlSeconds: o.jwtTtlSeconds ?? 300,
      });
      cb(null, { svids: [{ spiffe_id: id, svid, hint: '' }] });
    },
    FetchX509SVID(call: ServerWritableStream<unknown, unknown>) {
      if (!secured(call.metadata)) {
        call.emit('error', {
          code: status.INVALID_ARGUMENT,
          details: 'security header missing from request',
        });
        return;
      }
      streams.add(call);
      call.on('cancelled', () => streams.delete(call));
      call.write(x509Message());
    },
  });
  await issue();
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${o.socketPath}`, ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  return fake;
}
