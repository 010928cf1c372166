import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { EdgehookError, type Logger } from '@edgehook/shared';
import { retryAfterOf } from './client-address.js';

function isContentful(status: number): status is ContentfulStatusCode {
  return status >= 200 && status <= 599 && status !== 204 && status !== 205 && status !== 304;
}

/** One JSON shape for every error: `{error: {code, message, details?}}`. */
export function errorHandler(log: Logger) {
  return function onError(err: Error, c: Context): Response {
    if (err instanceof EdgehookError) {
      const status = err.httpStatus;
      const retryAfter = retryAfterOf(err);
      if (retryAfter !== undefined) c.header('Retry-After', String(retryAfter));
      return c.json({ error: err.toJSON() }, isContentful(status) ? status : 500);
    }
    if (err instanceof HTTPException) {
      const status = err.status;
      const code = status === 401 ? 'UNAUTHENTICATED' : status === 403 ? 'FORBIDDEN' : status === 404 ? 'NOT_FOUND' : status < 500 ? 'BAD_REQUEST' : 'INTERNAL';
      return c.json({ error: { code, message: err.message || 'request failed' } }, isContentful(status) ? status : 500);
    }
    log.error('unhandled error in request', { method: c.req.method, path: c.req.path, err: err.stack ?? err.message });
    return c.json({ error: { code: 'INTERNAL', message: 'Internal error' } }, 500);
  };
}

export function notFound(c: Context): Response {
  return c.json({ error: { code: 'NOT_FOUND', message: `no route for ${c.req.method} ${c.req.path}` } }, 404);
}
