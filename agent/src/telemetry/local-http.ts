import type { IncomingMessage, ServerResponse } from 'node:http';
import { EdgehookError, ErrorCodes } from '@edgehook/shared';

/** Helpers of the local endpoint (127.0.0.1): JSON answers, bounded bodies, errors as {error:{code,message}}. */
export function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function replyError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) return void res.destroy();
  if (err instanceof EdgehookError) return reply(res, ErrorCodes[err.code].httpStatus, { error: { code: err.code, message: err.message } });
  reply(res, 500, { error: { code: 'INTERNAL', message: 'internal error' } });
}

/** The whole body, refused with 413 past `max` bytes (the rest is drained, not buffered). */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) tooBig = true;
      else chunks.push(c);
    });
    req.on('end', () => (tooBig ? reject(new EdgehookError('PAYLOAD_TOO_LARGE', `body larger than ${max} bytes`)) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

export async function readJson(req: IncomingMessage, max: number): Promise<unknown> {
  const raw = await readBody(req, max);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new EdgehookError('BAD_REQUEST', 'the body is not valid JSON');
  }
}

/** Extra routes on the same endpoint (perfkit sessions): true when the request was theirs. */
export type LocalRoutes = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;
