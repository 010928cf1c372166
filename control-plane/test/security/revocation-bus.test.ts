// Revocations cross replicas over the bus: two "replicas" (each its own MQTT connection, fleet
// events, socket registry and revocation bus) on one real broker. A change announced on A closes
// the socket B holds, with no store and no poll involved.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { createLogger, systemClock } from '@edgehook/shared';
import { connectMqtt, type MqttTransport } from '@edgehook/shared/transport';
import { startEmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { createBrokerPolicy } from '../../src/broker/broker-policy.js';
import { FleetEvents } from '../../src/events/fleet-events.js';
import { LiveSockets } from '../../src/auth/live-sockets.js';
import { Revocations } from '../../src/auth/revocations.js';
import type { Principal } from '../../src/auth/authenticator.js';
import { waitFor } from '../helpers/harness.js';

const log = createLogger({ level: 'error', format: 'json', write: () => undefined });
const creds = { username: 'edgehook-control-plane', password: 'bus-test-secret' };

async function replica(port: number, name: string): Promise<{ transport: MqttTransport; sockets: LiveSockets; revocations: Revocations; events: FleetEvents }> {
  const transport = await connectMqtt({ url: `mqtt://127.0.0.1:${port}`, clientId: `edgehook-${name}`, ...creds, keepalive: 30, backoff: { baseMs: 100, maxMs: 1000 }, log });
  await waitFor('replica connected', () => transport.connected);
  const events = new FleetEvents(transport, log);
  await events.start();
  const sockets = new LiveSockets(systemClock);
  const revocations = new Revocations({ transport, sockets, events, log });
  await revocations.start();
  return { transport, sockets, revocations, events };
}

const clients: WebSocket[] = [];
/** Ends both sides of every pair, so nothing keeps the process alive. */
function closeAll(wss: WebSocketServer): void {
  for (const c of clients.splice(0)) c.terminate();
  for (const c of wss.clients) c.terminate();
  wss.close();
}

/** A real websocket pair: the server side is what a replica registers. */
async function socketPair(wss: WebSocketServer): Promise<{ server: WebSocket; closed: Promise<number> }> {
  const { port } = wss.address() as AddressInfo;
  const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  clients.push(client);
  const closed = new Promise<number>((resolve) => client.once('close', (code) => resolve(code)));
  await new Promise((resolve) => client.once('open', resolve));
  return { server: await accepted, closed };
}

const principal = (over: Partial<Principal> = {}): Principal => ({ userId: 'u1', username: 'rita', roleId: 'r1', roleName: 'ops', permissions: ['devices.shell', 'devices.read'], sessionId: 's1', ...over });

test('user, session, role and device revocations announced on one replica close sockets held by another', async () => {
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    log,
    policy: (isConnected) => createBrokerPolicy({ controlPlane: creds, isConnected, log, verifyDevice: async () => false }),
  });
  const a = await replica(broker.port, 'a');
  const b = await replica(broker.port, 'b');
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  try {
    const basicAuth = await socketPair(wss); // password auth: no session
    b.sockets.register({ ws: basicAuth.server, principal: principal({ sessionId: null }), permission: 'devices.shell' });
    const session = await socketPair(wss);
    b.sockets.register({ ws: session.server, principal: principal({ userId: 'u2', sessionId: 's2' }) });
    const shell = await socketPair(wss);
    b.sockets.register({ ws: shell.server, principal: principal({ userId: 'u3', sessionId: 's3' }), permission: 'devices.shell' });
    const events = await socketPair(wss);
    const eventsPrincipal = principal({ userId: 'u3', sessionId: 's3' });
    b.sockets.register({ ws: events.server, principal: eventsPrincipal, permission: 'devices.read' });
    const device = await socketPair(wss);
    b.sockets.register({ ws: device.server, principal: principal({ userId: 'u4', sessionId: 's4' }), deviceId: 'dev-1' });
    assert.is(b.sockets.size, 5);

    await a.revocations.announce({ type: 'user', userId: 'u1', reason: 'user deleted' });
    assert.is(await basicAuth.closed, 4001);
    await a.revocations.announce({ type: 'session', sessionId: 's2', reason: 'logged out' });
    assert.is(await session.closed, 4001);
    await a.revocations.announce({ type: 'role', roleId: 'r1', permissions: ['devices.read'], reason: 'role ops changed' });
    assert.is(await shell.closed, 4003);
    assert.equal(eventsPrincipal.permissions, ['devices.read'], 'the surviving socket sees the new grants');
    await a.events.announce({ type: 'device.deleted', deviceId: 'dev-1', ts: Date.now() });
    assert.is(await device.closed, 4004);
    await waitFor('registry emptied but for the events socket', () => b.sockets.size === 1);
  } finally {
    closeAll(wss);
    await a.transport.close();
    await b.transport.close();
    await broker.close();
  }
});

test('a revocation that lands while a socket is still authenticating applies when it registers', async () => {
  const sockets = new LiveSockets(systemClock);
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  try {
    const since = sockets.now() - 1;
    sockets.apply({ type: 'user', userId: 'u9', reason: 'user deleted' });
    const late = await socketPair(wss);
    sockets.register({ ws: late.server, principal: principal({ userId: 'u9' }) }, since);
    assert.is(await late.closed, 4001);
    // Credentials checked after the revocation are fresh: the socket stays.
    const fresh = await socketPair(wss);
    sockets.register({ ws: fresh.server, principal: principal({ userId: 'u9' }) }, sockets.now() + 1);
    assert.is(sockets.size, 1);
  } finally {
    closeAll(wss);
  }
});

test.run();
