import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EdgehookError } from '@edgehook/shared';
import { DockerEngineRuntime } from '../../src/containers/docker-engine.runtime.js';
import { muxFrame } from '../../src/containers/docker-mux.js';

/**
 * The Docker client against a local HTTP server on a unix socket that answers like an engine
 * (inspect, logs, stats, errors) and writes its streams in awkward pieces: what a real engine does
 * only sometimes (split frames, split lines, hung-up clients) happens here every time.
 */
const dir = mkdtempSync(join(tmpdir(), 'edgehook-docker-http-'));
const socket = join(dir, 'engine.sock');
let openStreams = 0;

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const path = url.pathname.replace(/^\/v1\.\d+/, '');
  if (path === '/containers/busy/start') return json(res, 409, { message: 'container is busy' });
  if (path.startsWith('/containers/ghost')) return json(res, 404, { message: 'No such container: ghost' });
  if (path === '/containers/c1/json') return json(res, 200, { Id: 'c1', Name: '/c1', State: { Status: 'running' }, Config: { Tty: false } });
  if (path === '/containers/c1/logs') {
    const body = Buffer.concat([muxFrame('stdout', Buffer.from('out line\n')), muxFrame('stderr', Buffer.from('err line\n'))]);
    res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
    // one byte per write, with pauses, so headers and payloads arrive split
    let i = 0;
    const next = (): void => {
      if (i >= body.length) return void res.end();
      res.write(body.subarray(i, ++i));
      setImmediate(next);
    };
    return next();
  }
  if (path === '/containers/c1/stats') {
    openStreams++;
    res.on('close', () => openStreams--);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const sample = JSON.stringify({ read: 'now', cpu_stats: { cpu_usage: { total_usage: 5 } }, precpu_stats: { cpu_usage: { total_usage: 1 } }, memory_stats: { usage: 42, limit: 100 } }) + '\n';
    const half = Math.floor(sample.length / 2);
    const timer = setInterval(() => {
      res.write(sample.slice(0, half));
      setTimeout(() => res.write(sample.slice(half)), 5);
    }, 20);
    res.on('close', () => clearInterval(timer));
    return;
  }
  json(res, 500, { message: `unexpected ${req.method} ${path}` });
});

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function codeOf(p: Promise<unknown>): Promise<[string, string]> {
  try {
    await p;
  } catch (err) {
    return err instanceof EdgehookError ? [err.code, err.message] : ['other', String(err)];
  }
  return ['none', ''];
}

test.before(() => new Promise<void>((resolve) => server.listen(socket, resolve)));
test.after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('engine errors keep their message and become NOT_FOUND / CONFLICT', async () => {
  const rt = new DockerEngineRuntime(socket);
  assert.equal(await codeOf(rt.inspect('ghost')), ['NOT_FOUND', 'No such container: ghost']);
  assert.equal(await codeOf(rt.start('busy')), ['CONFLICT', 'container is busy']);
});

test('logs arriving one byte at a time are demultiplexed', async () => {
  const rt = new DockerEngineRuntime(socket);
  const got: string[] = [];
  for await (const c of rt.logs('c1', { tail: 10, follow: false })) got.push(`${c.stream}:${c.data.toString()}`);
  assert.is(got.filter((g) => g.startsWith('stdout:')).map((g) => g.slice(7)).join(''), 'out line\n');
  assert.is(got.filter((g) => g.startsWith('stderr:')).map((g) => g.slice(7)).join(''), 'err line\n');
});

test('stats: split lines parsed; abort ends the iterable and closes the connection', async () => {
  const rt = new DockerEngineRuntime(socket);
  const ac = new AbortController();
  let n = 0;
  for await (const s of rt.stats('c1', { stream: true, signal: ac.signal })) {
    assert.is(s.memory_stats.usage, 42);
    if (++n === 3) ac.abort();
  }
  assert.is(n, 3);
  for (let i = 0; i < 100 && openStreams > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.is(openStreams, 0, 'the engine saw the stream closed');
  // breaking out early closes it too
  for await (const _ of rt.stats('c1', { stream: true })) break;
  for (let i = 0; i < 100 && openStreams > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.is(openStreams, 0);
});

test('no engine: ENGINE_UNAVAILABLE naming the socket and the fix (missing path, and nothing listening)', async () => {
  const missing = new DockerEngineRuntime(join(dir, 'missing.sock'));
  const [code, message] = await codeOf(missing.list({ all: true }));
  assert.is(code, 'ENGINE_UNAVAILABLE');
  assert.match(message, join(dir, 'missing.sock'));
  assert.match(message, 'podman system service');
  assert.match(message, '--docker-socket');
  // a socket whose server has gone (ECONNREFUSED, or ENOENT where closing unlinks the file)
  const goneSock = join(dir, 'gone.sock');
  const gone = http.createServer();
  await new Promise<void>((r) => gone.listen(goneSock, r));
  await new Promise<void>((r) => gone.close(() => r()));
  const [code2] = await codeOf(new DockerEngineRuntime(goneSock).inspect('x'));
  assert.is(code2, 'ENGINE_UNAVAILABLE');
});

test.run();
