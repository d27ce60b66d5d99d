/**
 * All CLI output goes through process.stdout/stderr.write (not console), so tests running commands
 * in-process can capture it by spying on the streams.
 */
export function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function outLines(lines: string[]): void {
  if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
}

export function errLines(lines: string[]): void {
  if (lines.length) process.stderr.write(`${lines.join('\n')}\n`);
}

export function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

export type Field = [label: string, value: string | number | boolean | null | undefined];

/** `label  value` lines with the values aligned; undefined values are skipped, null prints as `-`. */
export function formatFields(fields: Field[], indent = ''): string[] {
  const shown = fields.filter(([, v]) => v !== undefined);
  const width = Math.max(0, ...shown.map(([label]) => label.length));
  return shown.map(
    ([label, value]) => `${indent}${label.padEnd(width)}  ${value === null ? '-' : String(value)}`,
  );
}

/** Rows of cells as columns padded to the widest cell (the last column is not padded). */
export function formatTable(rows: string[][], indent = ''): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
  );
}

export type Colour = 'green' | 'red' | 'yellow' | 'dim';
const CODES: Record<Colour, [number, number]> = {
  green: [32, 39],
  red: [31, 39],
  yellow: [33, 39],
  dim: [2, 22],
};

export function paint(text: string, colour: Colour | undefined, enabled: boolean): string {
  if (!enabled || !colour) return text;
  const [open, close] = CODES[colour];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}

/** Colour only on a terminal, and never when NO_COLOR is set to anything (https://no-color.org). */
export function colourEnabled(
  stream: { isTTY?: boolean } = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  return Boolean(stream.isTTY) && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}
