import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const TOOL_DIR = path.resolve(__dirname, '../tools/rfc9162-check');

export interface IndependentCheckInput {
  jwks: unknown;
  checkpoints: unknown[];
  inclusions: Array<{ event: unknown; proof: unknown; checkpoint: number }>;
  consistencies: Array<{ older: number; newer: number; proof: unknown }>;
}

interface Outcome {
  ok: boolean;
  error?: string;
}

export interface IndependentCheckOutput {
  checkpoints: Outcome[];
  inclusions: Outcome[];
  consistencies: Outcome[];
}

let built: Promise<string> | undefined;

/**
 * Builds test/tools/rfc9162-check once per process (Go, with transparency-dev/merkle and gowebpki/jcs
 * from the Go module proxy, pinned by go.sum): an RFC 9162 / RFC 8785 / ES256 verifier that shares no
 * code with Grantline. The Go toolchain is required; there is no silent fallback.
 */
function buildChecker(): Promise<string> {
  built ??= (async () => {
    const digest = createHash('sha256');
    for (const f of ['main.go', 'go.mod', 'go.sum']) digest.update(fs.readFileSync(path.join(TOOL_DIR, f)));
    const out = path.join(os.tmpdir(), `grantline-rfc9162-check-${digest.digest('hex').slice(0, 16)}`);
    if (fs.existsSync(out)) return out;
    try {
      await run('go', ['build', '-o', `${out}.tmp`, '.'], { cwd: TOOL_DIR, timeout: 300_000 });
    } catch (err) {
      throw new Error(
        `building the independent RFC 9162 checker needs the Go toolchain and the Go module proxy: ${(err as Error).message}`,
      );
    }
    fs.renameSync(`${out}.tmp`, out);
    return out;
  })();
  return built;
}

export async function independentCheck(input: IndependentCheckInput): Promise<IndependentCheckOutput> {
  const binary = await buildChecker();
  const child = execFile(binary, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  const output = new Promise<string>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr?.on('data', (d) => {
      stderr += String(d);
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`rfc9162-check exited ${code}: ${stderr}`)),
    );
  });
  child.stdin?.end(JSON.stringify(input));
  return JSON.parse(await output) as IndependentCheckOutput;
}
