import { createHash } from 'node:crypto';
import { type Dirent, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PolicyLoadError } from './policy.errors';

export const SCHEMA_FILES = ['grantline.cedarschema', 'grantline.cedarschema.json'] as const;
export const SHADOW_DIR = 'shadow';

export interface PolicyFile {
  /** Path relative to the policy directory, e.g. `shadow/max-ttl-600.cedar`. */
  name: string;
  text: string;
}

export interface PolicySources {
  schema: PolicyFile;
  enforced: PolicyFile[];
  shadow: PolicyFile[];
  /** `sha256:` + 16 hex digits, over every file's name and content. */
  version: string;
  /** The full digest, for cache keys. */
  digest: string;
}

/** Reads the schema, the enforced policies (`*.cedar`) and the shadow policies (`shadow/*.cedar`). */
export function readPolicySources(dir: string): PolicySources {
  const schema = readSchemaFile(dir);
  const enforced = readCedarFiles(listDir(dir, false), dir, '');
  const shadowDir = path.join(dir, SHADOW_DIR);
  // A missing shadow directory simply means no shadow policies.
  const shadow = readCedarFiles(listDir(shadowDir, true), shadowDir, `${SHADOW_DIR}/`);
  if (enforced.length === 0) {
    throw new PolicyLoadError(
      `no *.cedar policy files in ${dir}: refusing to start with an empty policy set`,
    );
  }
  const digest = digestFiles([schema, ...enforced, ...shadow]);
  return { schema, enforced, shadow, digest, version: `sha256:${digest.slice(0, 16)}` };
}

function readSchemaFile(dir: string): PolicyFile {
  const entries = listDir(dir, false);
  const present = SCHEMA_FILES.filter((name) => entries.some((e) => e.isFile() && e.name === name));
  const name = present[0];
  if (name === undefined || present.length > 1) {
    throw new PolicyLoadError(`expected exactly one of ${SCHEMA_FILES.join(', ')} in ${dir}`);
  }
  return { name, text: readText(path.join(dir, name)) };
}

function readCedarFiles(entries: Dirent[], dir: string, prefix: string): PolicyFile[] {
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.cedar'))
    .map((e) => e.name)
    .sort()
    .map((name) => ({ name: `${prefix}${name}`, text: readText(path.join(dir, name)) }));
}

function listDir(dir: string, optional: boolean): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new PolicyLoadError(`cannot read policy directory ${dir}: ${(err as Error).message}`);
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new PolicyLoadError(`cannot read ${file}: ${(err as Error).message}`, { file });
  }
}

function digestFiles(files: PolicyFile[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    // NUL separators: no name/content split can collide with another.
    hash.update(file.name).update('\0').update(file.text).update('\0');
  }
  return hash.digest('hex');
}
