/**
 * Error codes shared by the control plane, the agent and every client.
 * One code per failure a caller can act on; `httpStatus` is how the REST API reports it.
 */
export const ErrorCodes = {
  BAD_REQUEST: { httpStatus: 400, message: 'The request is malformed or has invalid values' },
  UNAUTHENTICATED: { httpStatus: 401, message: 'No credentials were given' },
  INVALID_CREDENTIALS: { httpStatus: 403, message: 'The credentials are wrong, expired or revoked' },
  FORBIDDEN: { httpStatus: 403, message: 'Your role does not allow this' },
  NOT_FOUND: { httpStatus: 404, message: 'No such resource' },
  CONFLICT: { httpStatus: 409, message: 'The resource is busy or already exists' },
  /** A second factor is needed: send the TOTP code (or a recovery code) with the password. */
  TOTP_REQUIRED: { httpStatus: 401, message: 'A one-time code from your authenticator app is required' },
  PAYLOAD_TOO_LARGE: { httpStatus: 413, message: 'The request body is larger than this route accepts' },
  UNSUPPORTED_MEDIA_TYPE: { httpStatus: 415, message: 'Send the body as application/json' },
  /** Too many failed logins: wait `Retry-After` seconds. */
  TOO_MANY_REQUESTS: { httpStatus: 429, message: 'Too many attempts; try again later' },
  ENROLLMENT_TOKEN_INVALID: { httpStatus: 403, message: 'The enrollment token is unknown, expired, revoked or used up' },
  DEVICE_OFFLINE: { httpStatus: 503, message: 'The device is not connected' },
  DEVICE_TIMEOUT: { httpStatus: 504, message: 'The device did not answer in time' },
  ENGINE_UNAVAILABLE: { httpStatus: 503, message: 'The device has no reachable container engine' },
  BROKER_UNAVAILABLE: { httpStatus: 503, message: 'The message broker refused the change or did not answer' },
  /** A forward's destination refused the connection, reset it or could not be reached. */
  DESTINATION_UNREACHABLE: { httpStatus: 502, message: 'The device could not connect to the destination' },
  UNKNOWN_METHOD: { httpStatus: 501, message: 'The device does not support this operation' },
  INTERNAL: { httpStatus: 500, message: 'Internal error' },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ErrorCodes, value);
}

/** An error that carries a protocol error code across process and wire boundaries. */
export class EdgehookError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? ErrorCodes[code].message);
    this.name = 'EdgehookError';
    this.code = code;
    this.details = details;
  }

  get httpStatus(): number {
    return ErrorCodes[this.code].httpStatus;
  }

  toJSON(): { code: ErrorCode; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}
