/**
 * The floor under an RPC round trip (issue 20): what one request and answer between two Node
 * processes on this machine costs with no Edgehook code at all, measured in one run and interleaved
 * (one probe per tick, rotating, EDGEHOOK_BENCH_FLOOR_RATE ticks/s, EDGEHOOK_BENCH_FLOOR_SECONDS):
 *   - tcp:  a 60-byte line echoed over one loopback TCP connection (TCP_NODELAY both ends);
 *   - mqtt: a bare aedes in this process publishes the request in-process at QoS 0 (as the control
 *           plane's RPC client does) to a bare mqtt.js client in the peer, which answers at QoS 0;
 *   - http: a keep-alive POST to a bare node:http server in the peer (the fleet bench's floor).
 * Compare `mqtt` with the fleet bench's `rttMs` (the same hop with Edgehook's RPC layers on it).
 *   npm run bench -- rpc-floor
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { Aedes } from 'aedes';
import { z } from 'zod';
import { envNumber, fmt, machine, printTable, revision, summarize, writeResults, type Row } from './lib/report.js';

const RATE = envNumber('EDGEHOOK_BENCH_FLOOR_RATE', 100);
const SECONDS = envNumber('EDGEHOOK_BENCH_FLOOR_SECONDS', 20);
const PeerReady = z.object({ httpPort: z.number().int().positive() });
const Answer = z.object({ id: z.string() });
const log = (msg: string): void => console.log(`[rpc-floor ${new Date().toISOString().slice(11, 19)}] ${msg}`);

async function main(): Promise<void> {
  const pending = new Map<string, bigint>();
  const samples: Record<'tcp' | 'mqtt' | 'http', number[]> = { tcp: [], mqtt: [], http: [] };
  const done = (kind: keyof typeof samples, id: string): void => {
    const t0 = pending.get(id);
    if (t0 === undefined) return;
    pending.delete(id);
    samples[kind].push(Number(process.hrtime.bigint() - t0) / 1e6);
  };

  let peerSock: Socket | undefined;
  const tcp = createNetServer({ noDelay: true }, (s) => {
    peerSock = s;
    let buf = '';
    s.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        done('tcp', buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
  }).listen(0, '127.0.0.1');
  const broker = await Aedes.createBroker();
  const mqttServer = createNetServer((s) => {
    s.setNoDelay(true);
    broker.handle(s);
  }).listen(0, '127.0.0.1');
  await Promise.all([once(tcp, 'listening'), once(mqttServer, 'listening')]);
  const port = (srv: typeof tcp): number => {
    const a = srv.address();
    return typeof a === 'object' && a ? a.port : 0;
  };
  await new Promise<void>((resolve) => broker.subscribe('floor/res', (packet, cb) => {
    done('mqtt', Answer.parse(JSON.parse(packet.payload.toString())).id);
    cb();
  }, resolve));

  const peer = fork(new URL('./lib/rpc-floor-peer.ts', import.meta.url), [String(port(tcp)), String(port(mqttServer))], { execArgv: ['--import', 'tsx'] });
  const [ready] = await once(peer, 'message');
  const { httpPort } = PeerReady.parse(ready);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  log(`peer ready; ${RATE} probes/s for ${SECONDS} s, rotating tcp, mqtt, http`);

  const body = (id: string): string => JSON.stringify({ id, method: 'device.ping', params: {} });
  const probes = {
    tcp: (id: string) => peerSock?.write(`${id}\n`),
    mqtt: (id: string) => broker.publish({ cmd: 'publish', topic: 'floor/req', payload: Buffer.from(body(id)), qos: 0, retain: false, dup: false }, () => {}),
    http: (id: string) => {
      const req = request({ host: '127.0.0.1', port: httpPort, method: 'POST', path: '/ping', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume().on('end', () => done('http', id));
      });
      req.end(body(id));
    },
  };
  const kinds = ['tcp', 'mqtt', 'http'] as const;
  const total = RATE * SECONDS;
  const start = performance.now();
  for (let n = 0; n < total; n++) {
    const wait = start + (n * 1000) / RATE - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const kind = kinds[n % kinds.length] ?? 'tcp';
    const id = `${kind}-${n}`;
    pending.set(id, process.hrtime.bigint());
    probes[kind](id);
  }
  await new Promise((r) => setTimeout(r, 500));

  const rows: Row[] = [];
  const summaries = Object.fromEntries(kinds.map((k) => [k, summarize(samples[k])]));
  for (const k of kinds) {
    const s = summaries[k];
    if (!s || s.n < (total / kinds.length) * 0.99) throw new Error(`${k}: only ${s?.n ?? 0} of ${total / kinds.length} answers came back`);
    rows.push({ metric: `${k} round trip p50 / p90 / p99`, value: `${fmt(s.p50, 3)} / ${fmt(s.p90, 3)} / ${fmt(s.p99, 3)} ms (n ${s.n})` });
  }
  printTable(`round trip between two processes, no Edgehook code, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`, rows);
  log(`results: ${writeResults('rpc-floor', { bench: 'rpc-floor', startedAt: new Date().toISOString(), machine: machine(), revision: revision(), rate: RATE, seconds: SECONDS, summaries, rows })}`);
  peer.disconnect();
  agent.destroy();
  tcp.close();
  mqttServer.close();
  await new Promise<void>((r) => broker.close(() => r()));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
