/**
 * The far end of bench/rpc-floor.bench.ts, in its own process as an agent is: echoes TCP lines,
 * answers MQTT requests on the reply topic with bare mqtt.js (no Edgehook code), and serves a
 * bare node:http answer. Ports come as argv: tcp mqtt; it reports its HTTP port over IPC.
 */
import { createServer } from 'node:http';
import { createConnection, Socket } from 'node:net';
import mqtt from 'mqtt';

const [tcpPort, mqttPort] = process.argv.slice(2).map(Number);
if (!tcpPort || !mqttPort) throw new Error('usage: rpc-floor-peer <tcp-port> <mqtt-port>');

const sock = createConnection({ port: tcpPort, host: '127.0.0.1', noDelay: true });
sock.on('data', (d) => sock.write(d));

const http = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
});
http.listen(0, '127.0.0.1');

const client = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, { protocolVersion: 4, clean: true, queueQoSZero: false, reconnectPeriod: 0 });
client.on('connect', () => {
  if (client.stream instanceof Socket) client.stream.setNoDelay(true);
  client.subscribe('floor/req', { qos: 0 }, () => {
    const addr = http.address();
    process.send?.({ httpPort: typeof addr === 'object' && addr ? addr.port : 0 });
  });
});
client.on('message', (_topic, payload) => client.publish('floor/res', payload, { qos: 0 }));
process.on('disconnect', () => process.exit(0));
