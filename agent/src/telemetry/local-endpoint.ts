import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TracePush, validate, type Logger, type Sample } from '@edgehook/shared';

const MAX_BODY = 256 * 1024;

function reply(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * HTTP on 127.0.0.1 for applications on the device: `POST /v1/traces` with
 * `{group, samples: [{name, value, ts?, labels?}]}` adds custom series `trace.<group>.<name>`
 * to the next batch (so they get the same buffering and replay as everything else).
 */
export async function startLocalEndpoint(opts: { port: number; host?: string; log: Logger; now: () => number; push: (samples: Sample[]) => boolean }): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method === 'GET' && path === '/v1/health') return reply(res, 200, { ok: true });
    if (path !== '/v1/traces') return reply(res, 404, { error: { code: 'NOT_FOUND', message: `no route for ${req.method} ${path}; POST /v1/traces` } });
    if (req.method !== 'POST') return reply(res, 405, { error: { code: 'BAD_REQUEST', message: 'use POST' } });
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooBig = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (tooBig) return reply(res, 413, { error: { code: 'BAD_REQUEST', message: `body larger than ${MAX_BODY} bytes` } });
      let raw: unknown;
      try {
        raw = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reply(res, 400, { error: { code: 'BAD_REQUEST', message: 'the body is not valid JSON' } });
      }
      const parsed = validate(TracePush, raw);
      if (!parsed.ok) return reply(res, 400, { error: { code: 'BAD_REQUEST', message: `invalid trace push: ${parsed.error}` } });
      const now = opts.now();
      const samples: Sample[] = parsed.value.samples.map((s) => ({ m: `trace.${parsed.value.group}.${s.name}`, v: s.value, t: s.ts ?? now, ...(s.labels ? { l: s.labels } : {}) }));
      if (!opts.push(samples)) return reply(res, 429, { error: { code: 'CONFLICT', message: 'too many samples waiting; slow down' } });
      reply(res, 202, { accepted: samples.length });
    });
    req.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  opts.log.info('local telemetry endpoint listening', { url: `http://${opts.host ?? '127.0.0.1'}:${port}/v1/traces` });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
