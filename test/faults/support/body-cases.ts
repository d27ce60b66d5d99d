import fc from 'fast-check';
import type { z } from 'zod';
import type { BodyTemplate, Fixture } from './route-templates';

/**
 * Generated request bodies that the route's own schema refuses: a field of the wrong type (or an
 * oversize, NUL-laden, unpaired-surrogate or token-shaped value), a required field dropped, an unknown
 * field added, the whole body replaced; sent as JSON or (on the OAuth endpoints) form-encoded. A
 * generated body the schema would accept is discarded: it is not bad input.
 */

export interface WireBody {
  contentType: string;
  /** Text is sent as UTF-8; bytes as they are (to send what is not UTF-8). */
  payload: string | Uint8Array;
}

type Path = string[];

/** Every path into the template: each leaf, and each object or array as a whole. */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (Array.isArray(value))
    return [prefix, ...value.flatMap((v, i) => pathsOf(v, [...prefix, String(i)]))].filter((p) => p.length);
  if (value && typeof value === 'object')
    return [
      ...(prefix.length ? [prefix] : []),
      ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...prefix, k])),
    ];
  return [prefix];
}

function setAt(body: Record<string, unknown>, path: Path, value: unknown): Record<string, unknown> {
  const copy = structuredClone(body);
  let node = copy as Record<string, unknown>;
  for (const step of path.slice(0, -1)) node = node[step] as Record<string, unknown>;
  const last = path.at(-1)!;
  if (value === DELETE) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = value;
  return copy;
}

const DELETE = Symbol('delete');

const nasty = fc.constantFrom<unknown>(
  '',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  `hvs.${'a'.repeat(30)}`,
  `eyJhbGciOiJFUzI1NiJ9.${'e'.repeat(40)}.${'s'.repeat(40)}`,
  "'; drop table grants; --",
  '../../../etc/passwd',
  '\u202e',
  'x'.repeat(5000),
  -1,
  0,
  1e308,
  -0,
  Number.MAX_SAFE_INTEGER + 2,
  1.5,
  '12',
  [],
  {},
  [null],
  { $gt: '' },
  JSON.parse('{"__proto__": {"polluted": true}}'),
);

/** Values of every JSON type, and some that no field should take. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  nasty,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.jsonValue({ maxDepth: 2 }),
  fc.integer({ min: 1, max: 300 }).map((depth) => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`)),
);

type Mutation = { kind: string; apply(body: Record<string, unknown>): unknown };

const unknownField: fc.Arbitrary<Mutation> = fc
  .tuple(fc.string({ minLength: 1, maxLength: 12 }), wrongValue)
  .map(([k, v]) => ({ kind: 'unknown field', apply: (b: Record<string, unknown>) => ({ ...b, [k]: v }) }));
const wholeBodyReplaced: fc.Arbitrary<Mutation> = wrongValue.map((v) => ({
  kind: 'whole body replaced',
  apply: () => v,
}));

function mutations(template: Record<string, unknown>): fc.Arbitrary<Mutation> {
  const paths = pathsOf(template);
  // A route that takes no fields (an empty template) can still get unknown fields and a wrong body.
  if (paths.length === 0) return fc.oneof(unknownField, wholeBodyReplaced);
  const path = fc.constantFrom(...paths);
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc.tuple(path, wrongValue).map(([p, v]) => ({
        kind: `wrong type at ${p.join('.')}`,
        apply: (b: Record<string, unknown>) => setAt(b, p, v),
      })),
    },
    {
      weight: 1,
      arbitrary: path.map((p) => ({
        kind: `missing ${p.join('.')}`,
        apply: (b: Record<string, unknown>) => setAt(b, p, DELETE),
      })),
    },
    { weight: 1, arbitrary: unknownField },
    { weight: 1, arbitrary: wholeBodyReplaced },
  );
}

/** What a form-encoded body looks like to the server: strings, and arrays for repeated names. */
function asForm(value: unknown): { wire: string; parsed: Record<string, unknown> } | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v])
      params.append(k, typeof item === 'string' ? item : JSON.stringify(item));
  }
  const parsed: Record<string, unknown> = {};
  for (const k of new Set(params.keys())) {
    const all = params.getAll(k);
    parsed[k] = all.length > 1 ? all : all[0];
  }
  return { wire: params.toString(), parsed };
}

const refuses = (schema: z.ZodType, input: unknown) => !schema.safeParse(input ?? {}).success;

/** Bodies for one route that its schema refuses, with what was done to them. */
export function badBodies(t: BodyTemplate, f: Fixture): fc.Arbitrary<{ kind: string; body: WireBody }> {
  const template = t.body(f);
  return fc
    .tuple(mutations(template), fc.boolean())
    .map(([m, asFormBody]): { kind: string; body: WireBody } | undefined => {
      const value = m.apply(template);
      if (t.form && asFormBody) {
        const form = asForm(value);
        if (!form || !refuses(t.schema, form.parsed)) return undefined;
        return {
          kind: `form: ${m.kind}`,
          body: { contentType: 'application/x-www-form-urlencoded', payload: form.wire },
        };
      }
      if (value === undefined || !refuses(t.schema, value)) return undefined;
      return {
        kind: `json: ${m.kind}`,
        body: { contentType: 'application/json', payload: JSON.stringify(value) },
      };
    })
    .filter((c): c is { kind: string; body: WireBody } => c !== undefined);
}

/**
 * Bodies broken below the schema: not JSON, not UTF-8, the wrong media type or encoding, oversize.
 * None can reach a handler as valid input (an object with unknown keys and nothing required, at most).
 */
export const rawBodies: fc.Arbitrary<{ kind: string; body: WireBody; headers?: Record<string, string> }> =
  fc.oneof(
    fc
      // An empty body is no body: routes whose fields all have defaults rightly accept it.
      .string({ minLength: 1, maxLength: 60 })
      .filter((s) => {
        try {
          JSON.parse(s);
          return false;
        } catch {
          return true;
        }
      })
      .map((s) => ({ kind: 'not JSON', body: { contentType: 'application/json', payload: s } })),
    fc
      .constantFrom('{"a":', '{"scopes": [', '{"a":1,}', "{'a':1}", '{"a":NaN}', '\ufeff{"x":1', '[', '{}}')
      .map((s) => ({ kind: 'truncated JSON', body: { contentType: 'application/json', payload: s } })),
    fc.constantFrom('"text"', '42', 'true', 'null', '[]', '[{}]').map((s) => ({
      kind: 'JSON that is not an object',
      body: { contentType: 'application/json', payload: s },
    })),
    fc.uint8Array({ minLength: 1, maxLength: 40 }).map((bytes) => ({
      kind: 'invalid UTF-8 in a key',
      body: {
        contentType: 'application/json',
        // 0xFF never occurs in UTF-8; quotes, backslashes and control bytes are left out to keep it JSON.
        payload: Buffer.concat([
          Buffer.from('{"'),
          Buffer.from([0xff, 0xfe, ...bytes.filter((b) => b >= 0x20 && b !== 0x22 && b !== 0x5c)]),
          Buffer.from('": 1}'),
        ]),
      },
    })),
    fc
      .constantFrom(
        'text/plain',
        'application/xml',
        'multipart/form-data; boundary=x',
        'application/json; charset=utf-7',
        'application/jsonx',
        'image/png',
      )
      .map((contentType) => ({
        kind: `media type ${contentType}`,
        body: { contentType, payload: '{"a":1}' },
      })),
    fc.constantFrom('gzip', 'deflate', 'br', 'compress', 'x-unknown').map((encoding) => ({
      kind: `content-encoding ${encoding}`,
      body: { contentType: 'application/json', payload: 'not compressed at all' },
      headers: { 'content-encoding': encoding },
    })),
    fc.integer({ min: 65 * 1024, max: 200 * 1024 }).map((n) => ({
      kind: 'oversize body',
      body: { contentType: 'application/json', payload: JSON.stringify({ pad: 'x'.repeat(n) }) },
    })),
  );
