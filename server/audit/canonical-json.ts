/**
 * Deterministic JSON after RFC 8785 (JSON Canonicalization Scheme): object members sorted by the
 * UTF-16 code units of their names (§3.2.3), no whitespace, numbers in ECMAScript's shortest form
 * (§3.2.2.3, which is what `String(n)` gives, `-0` becoming `0`) and strings escaped as
 * `JSON.stringify` does (§3.2.2.2). Input outside I-JSON (RFC 7493) is refused rather than dropped or
 * coerced, so two parties can never hash different text for what they believe is the same value:
 * `undefined`, functions, symbols, bigints, non-finite numbers, lone surrogates, cycles and objects
 * other than plain objects, arrays and valid Dates. Dates become their ISO 8601 string (ms, UTC).
 */

type PathSegment = string | number;

/** Thrown when a value has no canonical JSON form; `path` names where (`$.a[2].b`), never the value. */
export class CanonicalJsonError extends Error {
  readonly path: string;
  constructor(reason: string, path: readonly PathSegment[]) {
    const where = formatPath(path);
    super(`${reason} at ${where}`);
    this.name = 'CanonicalJsonError';
    this.path = where;
  }
}

function formatPath(path: readonly PathSegment[]): string {
  return path.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : `${acc}.${s}`), '$');
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The canonical JSON text of `value`; throws CanonicalJsonError for anything RFC 8785 cannot carry. */
export function canonicalJson(value: unknown): string {
  return serialise(value, [], new Set());
}

function serialise(value: unknown, path: PathSegment[], ancestors: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return serialiseString(value, path);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`non-finite number ${value}`, path);
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      return serialiseObject(value, path, ancestors);
    default:
      throw new CanonicalJsonError(`${typeof value} has no JSON form`, path);
  }
}

function serialiseString(value: string, path: readonly PathSegment[]): string {
  if (LONE_SURROGATE.test(value)) throw new CanonicalJsonError('lone surrogate in string', path);
  return JSON.stringify(value);
}

function serialiseObject(value: object, path: PathSegment[], ancestors: Set<object>): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new CanonicalJsonError('invalid Date', path);
    return JSON.stringify(value.toISOString());
  }
  if (ancestors.has(value)) throw new CanonicalJsonError('circular reference', path);
  ancestors.add(value);
  const text = Array.isArray(value)
    ? serialiseArray(value, path, ancestors)
    : serialiseMembers(value, path, ancestors);
  ancestors.delete(value);
  return text;
}

function serialiseArray(value: readonly unknown[], path: PathSegment[], ancestors: Set<object>): string {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 1) {
    path.push(i);
    if (value[i] === undefined) throw new CanonicalJsonError('undefined (or a hole) in array', path);
    parts.push(serialise(value[i], path, ancestors));
    path.pop();
  }
  return `[${parts.join(',')}]`;
}

function serialiseMembers(value: object, path: PathSegment[], ancestors: Set<object>): string {
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const kind = (proto as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    throw new CanonicalJsonError(`${kind} is not a plain object`, path);
  }
  if (Object.getOwnPropertySymbols(value).length > 0) throw new CanonicalJsonError('symbol key', path);
  const record = value as Record<string, unknown>;
  // Default sort compares UTF-16 code units, exactly the order RFC 8785 §3.2.3 prescribes.
  const keys = Object.keys(record).sort();
  const parts: string[] = [];
  for (const key of keys) {
    path.push(key);
    const member = record[key];
    if (member === undefined) throw new CanonicalJsonError('undefined member', path);
    parts.push(`${serialiseString(key, path)}:${serialise(member, path, ancestors)}`);
    path.pop();
  }
  return `{${parts.join(',')}}`;
}
