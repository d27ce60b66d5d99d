import { InvalidSpiffeId, type SpiffeIdProblem } from './identity.errors';

/**
 * A parsed SPIFFE ID. `id` is the input, unchanged: IDs are compared as exact strings, never
 * normalised (SPIFFE-ID.md; identity-standards §1).
 */
export interface SpiffeId {
  id: string;
  trustDomain: string;
  /** `''` for a trust-domain ID, else starts with `/`. */
  path: string;
}

const SCHEME = 'spiffe://';
const MAX_ID_BYTES = 2048;
const MAX_TRUST_DOMAIN_BYTES = 255;

// Character classes of go-spiffe's isValidTrustDomainChar / isValidPathSegmentChar, over bytes.
const isLower = (c: number) => c >= 0x61 && c <= 0x7a;
const isUpper = (c: number) => c >= 0x41 && c <= 0x5a;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isPunct = (c: number) => c === 0x2d || c === 0x2e || c === 0x5f; // - . _
const isTrustDomainChar = (c: number) => isLower(c) || isDigit(c) || isPunct(c);
const isPathChar = (c: number) => isLower(c) || isUpper(c) || isDigit(c) || isPunct(c);

/** Names the URI feature a forbidden byte starts, so the error says what was wrong, not just "bad char". */
function forbiddenChar(c: number, inTrustDomain: boolean): SpiffeIdProblem {
  switch (c) {
    case 0x3f: // ?
      return 'query';
    case 0x23: // #
      return 'fragment';
    case 0x25: // %
      return 'percent_encoding';
    case 0x40: // @
      return inTrustDomain ? 'userinfo' : 'bad_path_char';
    case 0x3a: // :
      return inTrustDomain ? 'port' : 'bad_path_char';
    default:
      if (inTrustDomain && isUpper(c)) return 'trust_domain_uppercase';
      return inTrustDomain ? 'bad_trust_domain_char' : 'bad_path_char';
  }
}

/** Validates a trust domain name byte by byte; returns it unchanged. */
function checkTrustDomain(name: string): string {
  if (name.length === 0) throw new InvalidSpiffeId('missing_trust_domain');
  if (name.length > MAX_TRUST_DOMAIN_BYTES) throw new InvalidSpiffeId('trust_domain_too_long');
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!isTrustDomainChar(c)) throw new InvalidSpiffeId(forbiddenChar(c, true));
  }
  return name;
}

/** Closes the segment `path[start, end)` (which includes its leading `/`), go-spiffe ValidatePath style. */
function checkSegment(path: string, start: number, end: number, last: boolean): void {
  const length = end - start;
  if (length === 1) throw new InvalidSpiffeId(last ? 'trailing_slash' : 'empty_segment');
  if (length === 2 && path.charCodeAt(start + 1) === 0x2e) throw new InvalidSpiffeId('dot_segment');
  if (length === 3 && path.charCodeAt(start + 1) === 0x2e && path.charCodeAt(start + 2) === 0x2e) {
    throw new InvalidSpiffeId('dot_segment');
  }
}

/** Validates a SPIFFE ID path (`''` or `/seg(/seg)*`), a port of go-spiffe `ValidatePath`. */
export function validateSpiffePath(path: string): void {
  if (path.length === 0) return;
  let segmentStart = 0;
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x2f) {
      checkSegment(path, segmentStart, i, false);
      segmentStart = i;
    } else if (!isPathChar(c)) {
      throw new InvalidSpiffeId(forbiddenChar(c, false));
    }
  }
  checkSegment(path, segmentStart, path.length, true);
}

/**
 * Parses a SPIFFE ID strictly (a port of go-spiffe `FromString`, plus the 2048/255-byte limits of
 * SPIFFE-ID.md §2.3). Never uses `new URL()`, which silently rewrites invalid IDs (identity-standards §1).
 * Throws {@link InvalidSpiffeId} with the precise problem.
 */
export function parseSpiffeId(input: string, opts: { requirePath?: boolean } = {}): SpiffeId {
  if (typeof input !== 'string' || input.length === 0) throw new InvalidSpiffeId('empty');
  // Every accepted character is ASCII, so a string longer than the byte limit is too long in bytes too;
  // checking first bounds the work done on hostile input.
  if (input.length > MAX_ID_BYTES) throw new InvalidSpiffeId('too_long');
  if (!input.startsWith(SCHEME)) throw new InvalidSpiffeId('wrong_scheme');
  const rest = input.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  const trustDomain = checkTrustDomain(slash === -1 ? rest : rest.slice(0, slash));
  const path = slash === -1 ? '' : rest.slice(slash);
  validateSpiffePath(path);
  if (opts.requirePath && path.length === 0) throw new InvalidSpiffeId('missing_path');
  return { id: input, trustDomain, path };
}

/**
 * Parses a trust domain given as a bare name (`example.org`) or as a trust-domain SPIFFE ID
 * (`spiffe://example.org`, without a path). Returns the bare name.
 */
export function parseTrustDomain(input: string): string {
  if (typeof input !== 'string' || input.length === 0) throw new InvalidSpiffeId('missing_trust_domain');
  if (input.startsWith(SCHEME)) {
    const { trustDomain, path } = parseSpiffeId(input);
    if (path.length > 0) throw new InvalidSpiffeId('unexpected_path');
    return trustDomain;
  }
  if (input.includes('/')) throw new InvalidSpiffeId('unexpected_path');
  return checkTrustDomain(input);
}

/** True when `input` is a valid SPIFFE ID (optionally: one with a path). */
export function isSpiffeId(input: string, opts: { requirePath?: boolean } = {}): boolean {
  try {
    parseSpiffeId(input, opts);
    return true;
  } catch (err) {
    if (err instanceof InvalidSpiffeId) return false;
    throw err;
  }
}

/** The SPIFFE ID naming a trust domain itself: `spiffe://<name>`. */
export const trustDomainId = (trustDomain: string): string => `${SCHEME}${trustDomain}`;
