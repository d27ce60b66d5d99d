import { InvalidArgumentError } from 'commander';
import {
  collect,
  formatDuration,
  formatExpiresIn,
  parseArgsDigest,
  parseCount,
  parseDuration,
  parseRisk,
} from '../../../server/cli/cli-args';
import { colourEnabled, formatFields, formatTable, paint } from '../../../server/cli/cli-output';

describe('CLI argument parsing', () => {
  test('when a duration has units, then it is whole seconds', () => {
    expect(parseDuration('90s')).toBe(90);
    expect(parseDuration('5m')).toBe(300);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('45')).toBe(45);
  });

  test.each(['0', '0s', '', 'five', '5x', '-5m', '5m junk'])(
    'when the duration is %p, then it is refused',
    (input) => {
      expect(() => parseDuration(input)).toThrow(InvalidArgumentError);
    },
  );

  test('when a count is a whole number, then it parses; otherwise it is refused', () => {
    expect(parseCount('0')).toBe(0);
    expect(parseCount('10')).toBe(10);
    for (const bad of ['-1', '1.5', 'ten', '', '99999999999999999999']) {
      expect(() => parseCount(bad)).toThrow(InvalidArgumentError);
    }
  });

  test('when a risk score is above 100, then it is refused', () => {
    expect(parseRisk('100')).toBe(100);
    expect(() => parseRisk('101')).toThrow('between 0 and 100');
  });

  test('when an args digest is not sha256:<64 hex>, then it is refused', () => {
    const good = `sha256:${'a'.repeat(64)}`;
    expect(parseArgsDigest(good)).toBe(good);
    expect(() => parseArgsDigest('sha256:abc')).toThrow(InvalidArgumentError);
    expect(() => parseArgsDigest(`md5:${'a'.repeat(64)}`)).toThrow(InvalidArgumentError);
  });

  test('when an option repeats, then collect keeps every value in order', () => {
    expect(collect('b', collect('a', undefined))).toEqual(['a', 'b']);
  });
});

describe('CLI output formatting', () => {
  test('when seconds are formatted, then they read like the durations the CLI accepts', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(45)).toBe('45s');
    expect(formatDuration(300)).toBe('5m');
    expect(formatDuration(5400)).toBe('1h30m');
    expect(formatDuration(90061)).toBe('1d1h1m1s');
    expect(parseDuration(formatDuration(5400))).toBe(5400);
  });

  test('when an expiry is formatted, then it gives the span and the instant without milliseconds', () => {
    expect(formatExpiresIn(300, new Date('2026-01-01T10:00:00.123Z'))).toBe('in 5m (2026-01-01T10:05:00Z)');
  });

  test('when fields are formatted, then values align, undefined is skipped and null is a dash', () => {
    expect(
      formatFields([
        ['id', 'x'],
        ['status', 'open'],
        ['skip', undefined],
        ['closed', null],
      ]),
    ).toEqual(['id      x', 'status  open', 'closed  -']);
  });

  test('when rows are tabulated, then columns align and lines carry no trailing spaces', () => {
    expect(
      formatTable([
        ['A', 'BB', 'C'],
        ['aaa', 'b', ''],
      ]),
    ).toEqual(['A    BB  C', 'aaa  b']);
  });

  test('when colour is off, then text is unchanged; when on, then it is wrapped in ANSI codes', () => {
    expect(paint('active', 'green', false)).toBe('active');
    expect(paint('active', 'green', true)).toBe('\u001b[32mactive\u001b[39m');
  });

  test('when stdout is not a TTY or NO_COLOR is set, then colour is off', () => {
    expect(colourEnabled({ isTTY: false }, {})).toBe(false);
    expect(colourEnabled({}, {})).toBe(false);
    expect(colourEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colourEnabled({ isTTY: true }, {})).toBe(true);
  });
});
