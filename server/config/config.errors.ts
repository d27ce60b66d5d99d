/** Start-up stops with this: it names every bad key and why, never the value that was given. */
export class ConfigError extends Error {
  readonly problems: Array<{ key: string; problem: string }>;
  constructor(problems: Array<{ key: string; problem: string }>) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p.key}: ${p.problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
