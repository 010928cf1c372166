import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { ContainerRef, ContainerSpec, ContainerStreamKinds, EdgehookError, PowerAction, type Clock, type Logger } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { requirePermission } from '../auth/auth.middleware.js';
import { jsonBody, parseValue } from '../http/validate.js';
import type { RpcClient } from '../devices/rpc.client.js';
import { onlineDevice } from '../relay/ws-bridge.js';
import { issueConsoleToken, CONSOLE_TOKEN_TTL_MS } from './console-tokens.js';
import type { StreamRelay } from '../relay/stream-relay.js';
import { relayResponseBody } from '../relay/http-body.js';
import type { LiveSockets } from '../auth/live-sockets.js';
import { revocableBody } from '../auth/revocable-body.js';

export interface ContainersRoutesDeps {
  db: Kysely<Database>;
  rpc: RpcClient;
  /** Device byte streams: `logs?follow=1` is served only when given. */
  relay?: StreamRelay | undefined;
  clock: Clock;
  log: Logger;
  /** A followed log ends with its viewer's credentials. */
  sockets: LiveSockets;
}

const QUICK = { timeoutMs: 10_000 };
/** Pulls, stops with a timeout and removes can take a while on a Pi's SD card. */
const SLOW = { timeoutMs: 120_000 };

const CreateBody = z.object({ spec: ContainerSpec, start: z.boolean().default(false) }).strict();
const PowerBody = z
  .object({ action: PowerAction, timeoutSec: z.number().int().min(0).max(3600).optional(), signal: z.string().regex(/^SIG[A-Z0-9]{1,10}$/, 'a signal name like SIGTERM').optional(), wait: z.boolean().default(true) })
  .strict();
const LogsQuery = z.object({ tail: z.coerce.number().int().min(0).max(10_000).default(100), follow: z.enum(['0', '1', 'true', 'false']).default('0').transform((v) => v === '1' || v === 'true') });
const ForceQuery = z.object({ force: z.enum(['0', '1', 'true', 'false']).default('0').transform((v) => v === '1' || v === 'true') });

/**
 * `/api/devices/:id/containers...` and `/api/devices/:id/engine`: the device's containers through
 * the agent's runtime. Nothing is cached here: every answer comes from the device, so any
 * replica can serve any request.
 */
export function containersRoutes(deps: ContainersRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db, rpc } = deps;
  const device = async (ref: string) => (await onlineDevice(db, ref)).id;
  const ref = (value: string) => parseValue(ContainerRef, value, 'container reference');

  app.get('/:id/engine', requirePermission('containers.read'), async (c) => {
    return c.json(await rpc.call(await device(c.req.param('id')), 'containers.engine', {}, QUICK));
  });
  app.get('/:id/containers', requirePermission('containers.read'), async (c) => {
    return c.json(await rpc.call(await device(c.req.param('id')), 'containers.list', { all: c.req.query('all') !== '0' }, QUICK));
  });
  app.post('/:id/containers', requirePermission('containers.control'), async (c) => {
    const body = await jsonBody(c, CreateBody);
    return c.json(await rpc.call(await device(c.req.param('id')), 'containers.create', body, SLOW), 201);
  });
  app.get('/:id/containers/:ref', requirePermission('containers.read'), async (c) => {
    return c.json(await rpc.call(await device(c.req.param('id')), 'containers.inspect', { ref: ref(c.req.param('ref')) }, QUICK));
  });
  app.delete('/:id/containers/:ref', requirePermission('containers.control'), async (c) => {
    const { force } = parseValue(ForceQuery, c.req.query(), 'query');
    await rpc.call(await device(c.req.param('id')), 'containers.remove', { ref: ref(c.req.param('ref')), force }, SLOW);
    return c.body(null, 204);
  });
  app.post('/:id/containers/:ref/power', requirePermission('containers.control'), async (c) => {
    const body = await jsonBody(c, PowerBody);
    const params = { ref: ref(c.req.param('ref')), ...body };
    // A stop waits up to its timeout before the engine kills: give the call room beyond it.
    const timeoutMs = Math.max(SLOW.timeoutMs, ((body.timeoutSec ?? 10) + 30) * 1000);
    return c.json(await rpc.call(await device(c.req.param('id')), 'containers.power', params, { timeoutMs }));
  });
  app.get('/:id/containers/:ref/logs', requirePermission('containers.read'), async (c) => {
    const { tail, follow } = parseValue(LogsQuery, c.req.query(), 'query');
    if (follow) {
      // Raw output as it comes (stdout and stderr interleaved), until the container stops or the client leaves.
      if (!deps.relay) throw new EdgehookError('UNKNOWN_METHOD', 'following logs needs the stream relay');
      const deviceId = await device(c.req.param('id'));
      const body = await relayResponseBody(deps.relay, deviceId, ContainerStreamKinds.logs, { ref: ref(c.req.param('ref')), tail, follow: true });
      return c.body(revocableBody(deps.sockets, { principal: c.get('principal'), permission: 'containers.read', deviceId }, body), 200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    }
    return c.json(await rpc.call(await device(c.req.param('id')), 'containers.logs', { ref: ref(c.req.param('ref')), tail }, QUICK));
  });
  app.get('/:id/containers/:ref/stats', requirePermission('containers.read'), async (c) => {
    return c.json(await rpc.call(await device(c.req.param('id')), 'containers.stats', { ref: ref(c.req.param('ref')) }, QUICK));
  });
  // Pterodactyl's panel shape: a short-lived token scoped to this console, sent in-band with `auth`.
  app.get('/:id/containers/:ref/websocket', requirePermission('containers.console'), async (c) => {
    const principal = c.get('principal');
    if (!principal.sessionId) throw new EdgehookError('BAD_REQUEST', 'console tokens need a session: log in for a token instead of sending a password per request');
    const deviceId = await device(c.req.param('id'));
    const container = ref(c.req.param('ref'));
    const token = await issueConsoleToken(db, principal.sessionId, { deviceId, ref: container }, deps.clock.now());
    const socket = `/api/devices/${encodeURIComponent(deviceId)}/containers/${encodeURIComponent(container)}/ws`;
    return c.json({ data: { token, socket, expiresInMs: CONSOLE_TOKEN_TTL_MS } });
  });
  return app;
}
