/**
 * The shell bench's floors (issue 20): the relay's process layout with no Edgehook code in it.
 *   front: a bare `ws` server (the operator's side, as the control plane is) that hands each binary
 *          frame to the pty host and each chunk back to the operator as a frame;
 *   pty:   dials out to the front (as the agent does) and joins that link to a node-pty shell.
 * So a keystroke crosses operator -> front -> pty host -> pty and back: the same processes and
 * sockets as operator -> control plane -> agent -> pty, without our protocol, schemas or credit.
 * The link between them is either
 *   tcp:  raw loopback TCP (TCP_NODELAY both ends): the floor of two Node processes;
 *   mqtt: a bare aedes in the front, published to in-process at QoS 0 as the control plane's relay
 *         does, and a bare mqtt.js client in the pty host: the floor with the same MQTT libraries.
 *   front: argv `front tcp|mqtt`; reports { linkPort } then { wsPort } once the pty host is joined (IPC).
 *   pty:   argv `pty tcp|mqtt <link-port>`.
 */
import { createServer, createConnection, Socket } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { WebSocketServer, type WebSocket } from 'ws';

const [role, link, portArg] = process.argv.slice(2);
const IN = 'bare/in';
const OUT = 'bare/out';
process.on('disconnect', () => process.exit(0));
const portOf = (a: ReturnType<typeof Socket.prototype.address> | string | null): number => (typeof a === 'object' && a && 'port' in a ? a.port : 0);

async function front(mode: 'tcp' | 'mqtt'): Promise<void> {
  let toHost: (d: Buffer) => void = () => undefined;
  let operator: WebSocket | undefined;
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  wss.on('connection', (ws) => {
    operator = ws;
    ws.on('message', (data: Buffer) => toHost(data));
  });
  const joined = (): void => void process.send?.({ wsPort: portOf(wss.address()) });
  let server;
  if (mode === 'tcp') {
    server = createServer({ noDelay: true }, (s) => {
      toHost = (d) => s.write(d);
      s.on('data', (d) => operator?.send(d, { binary: true }));
      joined();
    });
  } else {
    const broker = await Aedes.createBroker();
    toHost = (payload) => broker.publish({ cmd: 'publish', topic: IN, payload, qos: 0, retain: false, dup: false }, () => undefined);
    broker.subscribe(OUT, (packet, cb) => {
      operator?.send(packet.payload, { binary: true });
      cb();
    }, () => undefined);
    broker.on('subscribe', () => joined());
    server = createServer((s) => {
      s.setNoDelay(true);
      broker.handle(s);
    });
  }
  server.listen(0, '127.0.0.1', () => void process.send?.({ linkPort: portOf(server.address()) }));
}

async function ptyHost(mode: 'tcp' | 'mqtt', port: number): Promise<void> {
  const pty = await import('node-pty');
  const shell = pty.spawn('/bin/sh', [], { cols: 120, rows: 40 });
  process.on('exit', () => shell.kill());
  if (mode === 'tcp') {
    const sock = createConnection({ port, host: '127.0.0.1', noDelay: true });
    sock.on('data', (d) => shell.write(d.toString('utf8')));
    shell.onData((s) => sock.write(s));
    return;
  }
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, clean: true, queueQoSZero: false, reconnectPeriod: 0 });
  client.on('connect', () => {
    if (client.stream instanceof Socket) client.stream.setNoDelay(true);
    client.subscribe(IN, { qos: 0 });
  });
  client.on('message', (_topic, payload) => shell.write(payload.toString('utf8')));
  shell.onData((s) => client.publish(OUT, s, { qos: 0 }));
}

const mode = link === 'tcp' || link === 'mqtt' ? link : undefined;
if (role === 'front' && mode) await front(mode);
else if (role === 'pty' && mode && Number(portArg) > 0) await ptyHost(mode, Number(portArg));
else throw new Error('usage: bare-relay-peer front tcp|mqtt | pty tcp|mqtt <link-port>');
