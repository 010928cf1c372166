import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { ContainerStreamKinds, EdgehookError, type Clock, type Logger } from '@edgehook/shared';
import { ContainerRoutes as R } from '@edgehook/shared/rest';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { routeMounter } from '../http/rest-route.js';
import type { RpcClient } from '../devices/rpc.client.js';
import { issueConsoleToken, CONSOLE_TOKEN_TTL_MS } from './console-tokens.js';
import type { StreamRelay } from '../streams/stream-relay.js';
import { relayResponseBody } from '../streams/http-body.js';
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

/**
 * `/api/devices/:id/containers...` and `/api/devices/:id/engine`: the device's containers through
 * the agent's runtime. Nothing is cached here: every answer comes from the device, so any
 * replica can serve any request. Paths and schemas: shared/src/rest/containers.rest.ts.
 */
export function containersRoutes(deps: ContainersRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db, rpc } = deps;
  const mount = routeMounter(app, '/api/devices', db);

  mount(R.engine, ({ device }) => rpc.call(device.id, 'containers.engine', {}, QUICK));
  mount(R.containerList, ({ device, query }) => rpc.call(device.id, 'containers.list', { all: query.all }, QUICK));
  mount(R.containerCreate, ({ device, body }) => rpc.call(device.id, 'containers.create', body, SLOW));
  mount(R.containerInspect, ({ device, params }) => rpc.call(device.id, 'containers.inspect', { ref: params.ref }, QUICK));
  mount(R.containerRemove, async ({ device, params, query }) => {
    await rpc.call(device.id, 'containers.remove', { ref: params.ref, force: query.force }, SLOW);
    return null;
  });
  mount(R.containerPower, ({ device, params, body }) => {
    // A stop waits up to its timeout before the engine kills: give the call room beyond it.
    const timeoutMs = Math.max(SLOW.timeoutMs, ((body.timeoutSec ?? 10) + 30) * 1000);
    return rpc.call(device.id, 'containers.power', { ref: params.ref, ...body }, { timeoutMs });
  });
  mount(R.containerLogs, async ({ c, device, params, query }) => {
    const { tail, follow } = query;
    if (follow) {
      // Raw output as it comes (stdout and stderr interleaved), until the container stops or the client leaves.
      if (!deps.relay) throw new EdgehookError('UNKNOWN_METHOD', 'following logs needs the stream relay');
      const body = await relayResponseBody(deps.relay, device.id, ContainerStreamKinds.logs, { ref: params.ref, tail, follow: true });
      return c.body(revocableBody(deps.sockets, { principal: c.get('principal'), permission: 'containers.read', deviceId: device.id }, body), 200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    }
    return rpc.call(device.id, 'containers.logs', { ref: params.ref, tail }, QUICK);
  });
  mount(R.containerStats, ({ device, params }) => rpc.call(device.id, 'containers.stats', { ref: params.ref }, QUICK));
  // Pterodactyl's panel shape: a short-lived token scoped to this console, sent in-band with `auth`.
  mount(R.consoleToken, async ({ c, device, params }) => {
    const principal = c.get('principal');
    if (!principal.sessionId) throw new EdgehookError('BAD_REQUEST', 'console tokens need a session: log in for a token instead of sending a password per request');
    const token = await issueConsoleToken(db, principal.sessionId, { deviceId: device.id, ref: params.ref }, deps.clock.now());
    const socket = `/api/devices/${encodeURIComponent(device.id)}/containers/${encodeURIComponent(params.ref)}/ws`;
    return { data: { token, socket, expiresInMs: CONSOLE_TOKEN_TTL_MS } };
  });
  return app;
}
