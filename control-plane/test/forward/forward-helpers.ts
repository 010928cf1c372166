import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import WebSocket from 'ws';
import { CP_MAIN, waitFor } from '../helpers/harness.js';

/** A TCP echo server on the "device side" (this machine's loopback), half-close aware. */
export async function echoServer(): Promise<{ server: Server; port: number; open: Set<Socket> }> {
  const open = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
    open.add(s);
    s.once('close', () => open.delete(s));
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : 0, open };
}

/** Deterministic bytes: chunk i of a stream named `seed`. */
function chunk(seed: string, i: number, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(`${seed}:${i}`).digest();
  for (let off = 0; off < size; off += 32) {
    block.copy(out, off);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

/** Sends `total` bytes through 127.0.0.1:port (with backpressure), half-closes, hashes what comes back. */
export function roundTrip(port: number, total: number, seed = 'x'): Promise<{ sent: string; received: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port, noDelay: true, allowHalfOpen: true });
    const sentHash = createHash('sha256');
    const recvHash = createHash('sha256');
    let bytes = 0;
    const CHUNK = 256 * 1024;
    // Generating sha256-chained data costs CPU: one pattern chunk repeated with a counter is enough.
    const base = chunk(seed, 0, CHUNK);
    let i = 0;
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        const n = Math.min(CHUNK, total - sent);
        const data = Buffer.from(base.subarray(0, n));
        data.writeUInt32BE(i++, 0);
        sentHash.update(data);
        sent += n;
        if (!sock.write(data)) return void sock.once('drain', pump);
      }
      sock.end();
    };
    sock.once('connect', pump);
    sock.on('data', (d: Buffer) => {
      bytes += d.length;
      recvHash.update(d);
    });
    sock.once('end', () => {
      resolve({ sent: sentHash.digest('hex'), received: recvHash.digest('hex'), bytes });
      sock.destroy();
    });
    sock.once('error', reject);
  });
}

/** `edgehook forward` as a real process; resolves once it prints the local port. */
export async function startForward(config: string, args: string[]): Promise<{ child: ChildProcess; port: number; output: () => string; exited: Promise<number | null>; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, [CP_MAIN, 'forward', ...args], { env: { ...process.env, EDGEHOOK_CONFIG_DIR: config }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const port = Number(await waitFor('forward listening', () => /forwarding 127\.0\.0\.1:(\d+)/.exec(out)?.[1] ?? (child.exitCode !== null ? 'exited' : undefined), 15_000));
  if (!Number.isFinite(port)) throw new Error(`edgehook forward exited: ${out}`);
  return {
    child,
    port,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      return exited;
    },
  };
}

export interface RecordedSocket {
  ws: WebSocket;
  frames: Array<Record<string, any>>;
  binary: Buffer[];
  closed: Promise<{ code: number; reason: string }>;
  opened: Promise<void>;
}

/** A websocket with its text frames parsed and its close recorded. */
export function recordSocket(url: string, headers: Record<string, string>, protocols: string[] = []): RecordedSocket {
  const ws = new WebSocket(url, protocols, { headers, perMessageDeflate: false });
  const frames: Array<Record<string, any>> = [];
  const binary: Buffer[] = [];
  ws.on('message', (d: Buffer, isBinary) => (isBinary ? binary.push(d) : frames.push(JSON.parse(d.toString()))));
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
  opened.catch(() => undefined);
  return { ws, frames, binary, closed, opened };
}

export const wsBase = (cp: { url: string }): string => cp.url.replace(/^http/, 'ws');
