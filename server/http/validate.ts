import type { z } from 'zod';
import { InvalidRequest } from '../shared/errors';

/**
 * Parses untrusted input with a zod schema and turns failures into one 400 naming each bad field
 * (the field path and what is wrong, never the value that was sent).
 */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, what = 'body'): z.infer<T> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const fields = result.error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.join('.') : what,
    problem:
      issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
  }));
  throw new InvalidRequest(`invalid ${what}: ${fields.map((f) => `${f.field} (${f.problem})`).join('; ')}`, {
    fields,
  });
}
