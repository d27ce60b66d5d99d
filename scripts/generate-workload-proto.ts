/**
 * Rewrites sdk/typescript/src/workload-api/workload-proto.generated.ts from workload.proto. The runtime
 * loads the generated descriptor (compiled code needs no .proto file beside it, e.g. in the Docker
 * image); a unit test fails while the two disagree. Run: npm run build && node dist/scripts/generate-workload-proto.js
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadSync } from '@grpc/proto-loader';

const SOURCE_DIR = path.join('sdk', 'typescript', 'src', 'workload-api');
export const PROTO_FILE = path.join(SOURCE_DIR, 'workload.proto');
export const GENERATED_FILE = path.join(SOURCE_DIR, 'workload-proto.generated.ts');

/** A FileDescriptorSet (`repeated FileDescriptorProto file = 1`) holding every file the proto needs. */
function descriptorSet(protoFile: string): Buffer {
  const definition = loadSync(protoFile, { keepCase: true });
  const files = (
    definition.SpiffeWorkloadAPI as unknown as Record<
      string,
      { requestType: { fileDescriptorProtos: Buffer[] } }
    >
  ).FetchJWTSVID!.requestType.fileDescriptorProtos;
  const parts: Buffer[] = [];
  for (const file of files) {
    const length: number[] = [];
    let n = file.length;
    do {
      length.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      n >>>= 7;
    } while (n > 0);
    parts.push(Buffer.from([0x0a, ...length]), file);
  }
  return Buffer.concat(parts);
}

/** The descriptor set of `protoFile`, base64: what the generated module must hold. */
export function descriptorSetBase64(root: string): string {
  return descriptorSet(path.join(root, PROTO_FILE)).toString('base64');
}

/** The generated module's text, already in Biome's format. */
export function renderGeneratedModule(root: string): string {
  const lines = descriptorSetBase64(root).match(/.{1,100}/g) ?? [];
  return [
    '// GENERATED from workload.proto by scripts/generate-workload-proto.ts. Do not edit by hand.',
    '// A serialized google.protobuf.FileDescriptorSet (workload.proto and google/protobuf/struct.proto).',
    'export const WORKLOAD_API_DESCRIPTOR_SET = Buffer.from(',
    ...lines.map((l, i) => `${i === 0 ? '  ' : '    '}'${l}'${i === lines.length - 1 ? ',' : ' +'}`),
    "  'base64',",
    ');',
    '',
  ].join('\n');
}

if (require.main === module) {
  const root = process.cwd();
  fs.writeFileSync(path.join(root, GENERATED_FILE), renderGeneratedModule(root));
  console.log(`wrote ${GENERATED_FILE}`);
}
