import { EdgehookError } from '@edgehook/shared';

/**
 * Every problem found while loading profiles, reported together so one run shows them all.
 * An EdgehookError so the control plane can return it as a 400/404 without translation.
 */
export class ProfileError extends EdgehookError {
  /** One line per problem: `<file>: <field path>: <message>`. */
  readonly problems: string[];

  constructor(problems: string[], summary = 'Invalid board profiles', code: 'BAD_REQUEST' | 'NOT_FOUND' = 'BAD_REQUEST') {
    const message =
      problems.length === 1
        ? `${summary}: ${problems[0]}`
        : `${summary} (${problems.length} problems):\n${problems.map((p) => `  - ${p}`).join('\n')}`;
    super(code, message, { problems });
    this.name = 'ProfileError';
    this.problems = problems;
  }
}

/** Field path as people write it: `gpio.channels.power.line`, `serial[1].baud`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(top level)' : out;
}

export function problem(file: string, path: readonly PropertyKey[], message: string): string {
  return `${file}: ${formatPath(path)}: ${message}`;
}
