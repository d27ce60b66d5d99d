import { CanonicalJsonError, canonicalJson } from '../../../server/audit/canonical-json';

describe('canonicalJson (RFC 8785)', () => {
  it('when given the RFC 8785 §3.2.2 example, then the output is byte for byte the RFC one', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    );
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('when member names mix scripts, then they sort by UTF-16 code units as in RFC 8785 §3.2.3', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const order = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'] as const;
    const expected = `{${order.map((k) => `${JSON.stringify(k)}:${JSON.stringify(input[k])}`).join(',')}}`;
    expect(canonicalJson(input)).toBe(expected);
  });

  it('when numbers are edge values of IEEE 754, then they print as ECMAScript shortest form (RFC 8785 App. B)', () => {
    const cases: Array<[number, string]> = [
      [0, '0'],
      [-0, '0'],
      [5e-324, '5e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
      [9007199254740992, '9007199254740992'],
      [1e21, '1e+21'],
      [1e20, '100000000000000000000'],
      [0.000001, '0.000001'],
      [1e-7, '1e-7'],
      [-1.5, '-1.5'],
    ];
    for (const [n, text] of cases) expect(canonicalJson(n)).toBe(text);
  });

  it('when objects nest, then every level is sorted and no whitespace is written', () => {
    expect(canonicalJson({ b: [3, { z: 1, a: 'x' }], a: { d: null, c: true } })).toBe(
      '{"a":{"c":true,"d":null},"b":[3,{"a":"x","z":1}]}',
    );
  });

  it('when a value is a Date, then it becomes its ISO string with milliseconds in UTC', () => {
    expect(canonicalJson({ at: new Date(Date.UTC(2026, 10, 24, 8, 30, 0, 7)) })).toBe(
      '{"at":"2026-11-24T08:30:00.007Z"}',
    );
  });

  it('when an object has a null prototype, then it is a plain object', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.k = 1;
    expect(canonicalJson(o)).toBe('{"k":1}');
  });

  it('when the same object appears twice without a cycle, then both are written', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: [shared] })).toBe('{"a":{"x":1},"b":[{"x":1}]}');
  });

  it.each([
    ['undefined member', { a: undefined }, '$.a'],
    ['undefined in array', { a: [1, undefined] }, '$.a[1]'],
    ['array hole', { a: new Array(3).fill(1, 0, 1) }, '$.a[1]'],
    ['function', { f: () => 1 }, '$.f'],
    ['symbol value', { s: Symbol('x') }, '$.s'],
    ['bigint', { n: 10n }, '$.n'],
    ['NaN', { n: Number.NaN }, '$.n'],
    ['Infinity', { deep: { n: Number.POSITIVE_INFINITY } }, '$.deep.n'],
    ['invalid Date', { d: new Date('nope') }, '$.d'],
    ['Map', { m: new Map() }, '$.m'],
    ['class instance', { c: new (class Thing {})() }, '$.c'],
    ['boxed string', { s: new String('x') }, '$.s'],
    ['lone high surrogate', { s: 'a\ud800b' }, '$.s'],
    ['lone low surrogate in a key', { 'k\udc00': 1 }, '$.k\udc00'],
    ['top-level undefined', undefined, '$'],
  ])('when the input has %s, then it is refused with its path', (_name, value, path) => {
    let caught: unknown;
    try {
      canonicalJson(value);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CanonicalJsonError);
    expect((caught as CanonicalJsonError).path).toBe(path);
  });

  it('when an object has a symbol key, then it is refused rather than silently dropped', () => {
    expect(() => canonicalJson({ [Symbol('k')]: 1, a: 1 })).toThrow(CanonicalJsonError);
  });

  it('when the input is circular, then it is refused', () => {
    const a: Record<string, unknown> = {};
    a.self = { back: a };
    expect(() => canonicalJson(a)).toThrow(/circular reference at \$\.self\.back/);
  });

  it('when a well-formed surrogate pair is present, then it is written as the character', () => {
    expect(canonicalJson('\ud83d\ude00')).toBe('"😀"');
  });

  it('when text is parsed back and canonicalised again, then it is unchanged', () => {
    const text = canonicalJson({ z: [1.25, 'é', { y: false }], a: -0, m: 1e21 });
    expect(canonicalJson(JSON.parse(text))).toBe(text);
  });
});
