import type { DetailedError } from '@cedar-policy/cedar-wasm/nodejs';

/** Where a piece of Cedar text sits, so Cedar's byte offsets can be shown as `file:line:col`. */
export interface TextOrigin {
  file: string;
  /** The whole file's text. */
  text: string;
  /** Offset of the evaluated snippet inside `text` (0 when Cedar parsed the whole file). */
  base: number;
}

/** Cedar's message, its label and help, prefixed with the file position when known. */
export function formatCedarError(error: DetailedError, origin?: TextOrigin): string {
  const location = error.sourceLocations?.[0];
  const label = location?.label ? ` (${location.label})` : '';
  const help = error.help ? `; help: ${error.help}` : '';
  const where = origin ? `${location ? describePosition(origin, location.start) : origin.file}: ` : '';
  const related = (error.related ?? []).map((r) => `; ${r.message}`).join('');
  return `${where}${error.message}${label}${help}${related}`;
}

/** `file:line:col` of an offset inside the snippet. */
export function describePosition(origin: TextOrigin, offset = 0): string {
  const before = origin.text.slice(0, origin.base + offset);
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${origin.file}:${line}:${column}`;
}
