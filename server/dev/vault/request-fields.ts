import type { IncomingMessage } from 'node:http';
import { parseDurationSeconds } from '../../shared/duration';
import { invalidRequest, VaultApiError } from './vault-error';

/** Vault's request body limit (spec §1, `internals/limits`). */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new VaultApiError(413, 'http: request body too large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** An empty body is `{}`; anything that is not a JSON object is a 400 as in Vault's `parseJSONRequest`. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw invalidRequest(`failed to parse JSON input: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalidRequest('failed to parse JSON input: body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

const conversionError = (name: string, value: unknown): VaultApiError =>
  invalidRequest(`error converting input ${JSON.stringify(value)} for field "${name}"`);

/** Typed access to request parameters with Vault's lenient coercions (strings for bools and ints, etc.). */
export class Fields {
  constructor(readonly raw: Record<string, unknown>) {}

  has(name: string): boolean {
    return this.raw[name] !== undefined && this.raw[name] !== null;
  }

  string(name: string): string | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw conversionError(name, v);
  }

  bool(name: string): boolean | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === '1' || v === 1) return true;
    if (v === 'false' || v === '0' || v === 0) return false;
    throw conversionError(name, v);
  }

  int(name: string): number | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null || v === '') return undefined;
    const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n === 'number' && Number.isInteger(n)) return n;
    throw conversionError(name, v);
  }

  /** A duration (`"1h"`, `"90s"`, `"3600"` or a number of seconds) in whole seconds. */
  duration(name: string): number | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string' && typeof v !== 'number') throw conversionError(name, v);
    const seconds = parseDurationSeconds(v);
    // OpenBao reports Go's duration parser error (time.ParseDuration).
    if (seconds === undefined) throw invalidRequest(`time: invalid duration ${JSON.stringify(String(v))}`);
    return seconds;
  }

  /** A list given as a JSON array or a comma-separated string (Vault's `TypeCommaStringSlice`). */
  stringList(name: string): string[] | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    const items = typeof v === 'string' ? v.split(',') : Array.isArray(v) ? v : undefined;
    if (!items || items.some((i) => typeof i !== 'string')) throw conversionError(name, v);
    return (items as string[]).map((i) => i.trim()).filter((i) => i !== '');
  }

  /** Statement lists: an array keeps each element whole; a single string is one element. */
  statements(name: string): string[] | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v.trim() === '' ? [] : [v];
    if (Array.isArray(v) && v.every((i) => typeof i === 'string')) return v.filter((i) => i.trim() !== '');
    throw conversionError(name, v);
  }

  stringMap(name: string): Record<string, string> | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw conversionError(name, v);
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v)) {
      if (typeof val !== 'string') throw conversionError(name, v);
      out[k] = val;
    }
    return out;
  }

  /** Keys not in `known`, for the `Endpoint ignored these unrecognized parameters` warning. */
  unknownKeys(known: readonly string[]): string[] {
    return Object.keys(this.raw)
      .filter((k) => !known.includes(k))
      .sort();
  }
}
