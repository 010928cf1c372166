import { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

/**
 * A request body as chunks read one at a time. On Node we read the IncomingMessage itself:
 * Node 20's Readable.toWeb (behind `c.req.raw.body` in @hono/node-server) queues up to 16384
 * chunks regardless of our pace, which for an image upload means tens of MB held here. The
 * async iterator reads the next chunk only when asked, so TCP pushes back on the sender.
 */
export async function* requestChunks(c: Context): AsyncGenerator<Buffer> {
  const incoming = incomingOf(c);
  if (incoming) {
    for await (const chunk of incoming) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    return;
  }
  const reader = c.req.raw.body?.getReader();
  if (!reader) return;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
}

function incomingOf(c: Context): IncomingMessage | undefined {
  const env: unknown = c.env;
  const incoming = env !== null && typeof env === 'object' && 'incoming' in env ? env.incoming : undefined;
  return incoming instanceof IncomingMessage ? incoming : undefined;
}

/** Stops reading a request mid-body (a revoked upload): a pending `requestChunks` read ends with an error. */
export function abortRequest(c: Context, reason: string): void {
  incomingOf(c)?.destroy(new Error(reason));
  c.req.raw.body?.cancel(reason).catch(() => undefined);
}
