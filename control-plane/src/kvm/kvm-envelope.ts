import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { EdgehookError, PikvmErrorDetails, validate, type ErrorCode, type Logger } from '@edgehook/shared';
import type * as z from '@edgehook/shared/zod';
import { retryAfterOf } from '../http/client-address.js';

/** kvmd's exception class per Edgehook error code, when the agent did not name a more precise one. */
const CLASS_BY_CODE: Record<ErrorCode, string> = {
  BAD_REQUEST: 'ValidatorError',
  UNAUTHENTICATED: 'UnauthorizedError',
  INVALID_CREDENTIALS: 'ForbiddenError',
  FORBIDDEN: 'ForbiddenError',
  NOT_FOUND: 'NotFoundError',
  CONFLICT: 'IsBusyError',
  TOTP_REQUIRED: 'UnauthorizedError',
  PAYLOAD_TOO_LARGE: 'ValidatorError',
  UNSUPPORTED_MEDIA_TYPE: 'ValidatorError',
  TOO_MANY_REQUESTS: 'ForbiddenError',
  ENROLLMENT_TOKEN_INVALID: 'ForbiddenError',
  DEVICE_OFFLINE: 'DeviceOfflineError',
  DEVICE_TIMEOUT: 'DeviceTimeoutError',
  ENGINE_UNAVAILABLE: 'NotSupportedError',
  BROKER_UNAVAILABLE: 'InternalError',
  DESTINATION_UNREACHABLE: 'DeviceTimeoutError',
  UNKNOWN_METHOD: 'NotSupportedError',
  INTERNAL: 'InternalError',
};

function isErrorStatus(status: number): status is ContentfulStatusCode {
  return status >= 400 && status <= 599;
}

export interface KvmError {
  status: ContentfulStatusCode;
  error: string;
  message: string;
  retryAfterSec?: number | undefined;
}

/** Any failure as kvmd would report it: class name, message, status (409 busy, 400 bad values...). */
export function toKvmError(err: unknown, log: Logger): KvmError {
  if (err instanceof EdgehookError) {
    const named = validate(PikvmErrorDetails, err.details);
    const status = err.httpStatus;
    return { status: isErrorStatus(status) ? status : 500, error: named.ok ? named.value.pikvmError : CLASS_BY_CODE[err.code], message: err.message, retryAfterSec: retryAfterOf(err) };
  }
  log.error('unhandled error in the PiKVM API', { err: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  return { status: 500, error: 'InternalError', message: 'Internal error' };
}

export function kvmOk(c: Context, result: unknown): Response {
  return c.json({ ok: true, result });
}

export function kvmFail(c: Context, e: KvmError): Response {
  if (e.retryAfterSec !== undefined) c.header('Retry-After', String(e.retryAfterSec));
  return c.json({ ok: false, result: { error: e.error, error_msg: e.message } }, e.status);
}

/** Query-string parameters (kvmd takes them from the query even on POST) validated by a shared schema. */
export function kvmQuery<S extends z.ZodMiniType>(c: Context, schema: S): z.output<S> {
  const checked = validate(schema, c.req.query());
  if (!checked.ok) throw new EdgehookError('BAD_REQUEST', checked.error, { pikvmError: 'ValidatorError' });
  return checked.value;
}
