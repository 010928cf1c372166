/**
 * Failures a CLI command reports to the user: a message and an exit code, never a stack trace.
 * 1 = the operation failed, 2 = the command line was wrong, 130 = cancelled at a prompt.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A bad command line: printed with the command's usage, exit code 2. */
export class UsageError extends CliError {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

/** The API answered with its `{error: {code, message}}` body. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    apiMessage: string,
  ) {
    // FORBIDDEN says what is missing, but not that it is a permission problem.
    super(code === 'FORBIDDEN' ? `permission denied: ${apiMessage}` : apiMessage);
    this.name = 'ApiError';
  }
}

export function notLoggedIn(server: string | undefined, detail = ''): CliError {
  return new CliError(`Not logged in${detail}; run: edgehook login --server ${server ?? 'URL'}`);
}

/** The refresh token was refused: only a new login helps. */
export class SessionExpiredError extends CliError {
  constructor(server: string) {
    super(`Your session expired; run: edgehook login --server ${server}`);
    this.name = 'SessionExpiredError';
  }
}

export function sessionExpired(server: string): SessionExpiredError {
  return new SessionExpiredError(server);
}
