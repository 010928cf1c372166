import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createServer as createListener, type AddressInfo, type Socket } from 'node:net';
import { EdgehookError, TracePush, validate, type Logger, type Sample } from '@edgehook/shared';
import { nodeHttp } from '@edgehook/shared/node-builtins';
import { readJson, reply, replyError, type LocalRoutes } from './local-http.js';

const MAX_BODY = 256 * 1024;

/**
 * HTTP on 127.0.0.1 for applications on the device: `POST /v1/traces` with
 * `{group, samples: [{name, value, ts?, labels?}]}` adds custom series `trace.<group>.<name>`
 * to the next batch (so they get the same buffering and replay as everything else);
 * `?session=<id>` files the group under a Perfkit session. `routes` adds the sessions API
 * (agent/src/perfkit/perfkit-local.routes.ts) on the same port.
 *
 * The port is a plain TCP listener; node:http and its server are set up on the first connection
 * and handed each socket, so an agent no local app talks to never loads them (about 1.2 MB of RSS,
 * issue 12's lean agent).
 */
export async function startLocalEndpoint(opts: {
  port: number;
  host?: string;
  log: Logger;
  now: () => number;
  push: (samples: Sample[]) => boolean;
  routes?: LocalRoutes;
  /** A push for a session: throws when the session is unknown or ended. */
  traced?: (session: string, group: string) => void;
}): Promise<{ port: number; close(): Promise<void> }> {
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (req.method === 'GET' && path === '/v1/health') return reply(res, 200, { ok: true });
    if (opts.routes?.(req, res, url)) return;
    if (path !== '/v1/traces') return reply(res, 404, { error: { code: 'NOT_FOUND', message: `no route for ${req.method} ${path}; POST /v1/traces, /v1/sessions` } });
    if (req.method !== 'POST') return reply(res, 405, { error: { code: 'BAD_REQUEST', message: 'use POST' } });
    void (async () => {
      const parsed = validate(TracePush, await readJson(req, MAX_BODY));
      if (!parsed.ok) throw new EdgehookError('BAD_REQUEST', `invalid trace push: ${parsed.error}`);
      const session = url.searchParams.get('session');
      if (session !== null) {
        if (!opts.traced) throw new EdgehookError('BAD_REQUEST', 'sessions are not enabled on this agent');
        opts.traced(session, parsed.value.group);
      }
      const now = opts.now();
      const samples: Sample[] = parsed.value.samples.map((s) => ({ m: `trace.${parsed.value.group}.${s.name}`, v: s.value, t: s.ts ?? now, ...(s.labels ? { l: s.labels } : {}) }));
      if (!opts.push(samples)) return reply(res, 429, { error: { code: 'CONFLICT', message: 'too many samples waiting; slow down' } });
      reply(res, 202, { accepted: samples.length });
    })().catch((err: unknown) => replyError(res, err));
  };
  let http: HttpServer | undefined;
  const sockets = new Set<Socket>();
  const server = createListener((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // Synchronous, so the socket reaches the HTTP parser before any of its bytes are read.
    if (!http) {
      http = nodeHttp().createServer(handle);
      // Node arms a server's request and header timeouts on 'listening'; this one never listens.
      http.emit('listening');
    }
    http.emit('connection', socket);
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
        for (const socket of sockets) socket.destroy();
      }),
  };
}
