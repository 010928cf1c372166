import { createServer, type Server, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Aedes } from 'aedes';
import { createLogger } from '../src/runtime.js';
import { connectMqtt, MemoryBroker, type MemoryTransport, type MqttTransport, type Transport } from '../src/transport/index.js';
import { transportContract } from './transport.contract.js';

const log = createLogger({ level: 'error', format: 'json', write: () => undefined });

// In memory.
const broker = new MemoryBroker();
const memoryClients = new Set<MemoryTransport>();
transportContract('memory', test, () => ({
  async connect(opts = {}) {
    const t = broker.connect(opts);
    memoryClients.add(t);
    return t;
  },
  async kill(t: Transport) {
    for (const c of memoryClients) if (c === t) broker.kill(c);
  },
}));

// Over a real aedes broker on a free port.
let aedes: Aedes;
let server: Server;
let port = 0;
const sockets = new Set<Socket>();
let n = 0;
const live = new Map<Transport, string>();

test.before(async () => {
  aedes = await Aedes.createBroker();
  server = createServer({ noDelay: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    aedes.handle(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : 0;
});

transportContract('mqtt', test, () => ({
  async connect(opts = {}) {
    const clientId = `c${++n}`;
    const t: MqttTransport = await connectMqtt({ url: `mqtt://127.0.0.1:${port}`, clientId, username: 'u', password: 'p', log, ...(opts.will ? { will: opts.will } : {}) });
    await new Promise<void>((resolve) => {
      if (t.connected) return resolve();
      const off = t.onState((s) => {
        if (s.state === 'connected') {
          off();
          resolve();
        }
      });
    });
    live.set(t, clientId);
    return t;
  },
  async kill(t: Transport) {
    // Destroy the broker-side socket: to the broker this is a dead client, so the will fires.
    const clientId = live.get(t);
    const clients: unknown = Reflect.get(aedes, 'clients');
    const client: unknown = clientId && typeof clients === 'object' && clients ? Reflect.get(clients, clientId) : undefined;
    const conn: unknown = client && typeof client === 'object' ? Reflect.get(client, 'conn') : undefined;
    if (conn && typeof conn === 'object' && 'destroy' in conn && typeof conn.destroy === 'function') conn.destroy();
    await t.close();
  },
}));

test('mqtt: a function will is evaluated again for every connection attempt', async () => {
  let n = 0;
  const got: string[] = [];
  const watcher = await connectMqtt({ url: `mqtt://127.0.0.1:${port}`, clientId: 'watcher-w', username: 'u', password: 'p', log });
  await new Promise<void>((r) => watcher.onState((st) => st.state === 'connected' && r()));
  await watcher.subscribe('wills/+', (_t, p) => got.push(p.toString()));
  const t = await connectMqtt({
    url: `mqtt://127.0.0.1:${port}`,
    clientId: 'will-fn',
    username: 'u',
    password: 'p',
    log,
    backoff: { baseMs: 20, maxMs: 40 },
    will: { topic: 'wills/x', payload: () => `attempt-${++n}` },
  });
  const destroyConn = () => {
    const clients: unknown = Reflect.get(aedes, 'clients');
    const client: unknown = typeof clients === 'object' && clients ? Reflect.get(clients, 'will-fn') : undefined;
    const conn: unknown = client && typeof client === 'object' ? Reflect.get(client, 'conn') : undefined;
    if (conn && typeof conn === 'object' && 'destroy' in conn && typeof conn.destroy === 'function') conn.destroy();
  };
  let connects = 0;
  const twice = new Promise<void>((r) => t.onState((st) => st.state === 'connected' && ++connects === 2 && r()));
  await new Promise<void>((r) => (t.connected ? r() : t.onState((st) => st.state === 'connected' && r())));
  destroyConn();
  await twice;
  destroyConn();
  const end = Date.now() + 3000;
  while (got.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  assert.equal(got.slice(0, 2), ['attempt-1', 'attempt-2']);
  await t.close();
  await watcher.close();
});

test.after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  await new Promise<void>((r) => aedes.close(() => r()));
});

test.run();
