import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { EdgehookError } from '@edgehook/shared';
import type { AppEnv } from './context.js';

/** Routes whose body is a stream (file uploads): capped as they stream, never buffered whole. */
export type StreamedBodyRoute = (method: string, path: string) => boolean;

export const isFileUpload: StreamedBodyRoute = (method, path) =>
  (method === 'PUT' && /^\/api\/devices\/[^/]+\/servers\/[^/]+\/files\/content$/.test(path)) ||
  // Agent packages: the route caps them at AGENT_PACKAGE_MAX_BYTES.
  (method === 'PUT' && /^\/api\/agent\/packages\/[^/]+$/.test(path)) ||
  // PiKVM mass-storage images: the route streams them to the device under its own size cap.
  (method === 'POST' && /^\/kvm\/[^/]+\/api\/msd\/write$/.test(path)) ||
  // The HTTP proxy to device web UIs streams bodies and counts them against the upload cap.
  /^\/api\/devices\/[^/]+\/proxy\/\d+(\/|$)/.test(path);

const tooLarge = (maxBytes: number, what: string): EdgehookError =>
  new EdgehookError('PAYLOAD_TOO_LARGE', `the ${what} is larger than ${maxBytes} bytes, the most this route accepts`, { maxBytes });

/**
 * Every request body is bounded before it is read: a declared Content-Length above the bound is
 * refused at once (413, nothing read), a chunked body is cut off as soon as it passes the bound.
 * Streamed routes only get the Content-Length check here and count bytes as they stream.
 */
export function bodyLimits(limits: { maxBodyBytes: number; maxUploadBytes: number }, streamed: StreamedBodyRoute = isFileUpload): MiddlewareHandler<AppEnv> {
  const refuse = (c: Context<AppEnv>): never => {
    c.header('Connection', 'close');
    throw tooLarge(limits.maxBodyBytes, 'request body');
  };
  const small = bodyLimit({ maxSize: limits.maxBodyBytes, onError: refuse });
  return async function bodyLimitsHandler(c, next) {
    if (streamed(c.req.method, c.req.path)) {
      const length = Number(c.req.header('content-length') ?? '0');
      if (Number.isFinite(length) && length > limits.maxUploadBytes) {
        c.header('Connection', 'close');
        throw tooLarge(limits.maxUploadBytes, 'upload');
      }
      return next();
    }
    // Decided from the headers when they settle it, as hono's check would: reading `c.req.raw.body`
    // builds node-server's full Request (an AbortController, a web stream) for every request,
    // ~7% of the control plane's CPU under a ping load. GET and HEAD never carry a body.
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (parseInt(declared, 10) > limits.maxBodyBytes) refuse(c);
      return next();
    }
    return small(c, next);
  };
}

export function uploadTooLarge(maxBytes: number): EdgehookError {
  return tooLarge(maxBytes, 'upload');
}
