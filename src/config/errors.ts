/**
 * ConfigError: every configuration problem found, one per line, each naming its field (or the
 * XG2G_* variable it came from). Messages never contain secret values.
 */
export class ConfigError extends Error {
  /** Each problem, e.g. `receivers[0].host: is required`. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    const head = problems.length === 1 ? 'The configuration has a problem:' : `The configuration has ${problems.length} problems:`;
    super([head, ...problems.map((p) => `  ${p}`)].join('\n'));
    this.name = 'ConfigError';
    this.problems = [...problems];
  }
}
