// Finding 2 of issue 13: request size limits. A huge body to the unauthenticated login route is
// refused (413) without being buffered, declared or chunked; headers, websocket frames and JSON
// bodies on other routes are bounded too.
import { request } from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminApi, cleanup, startTestControlPlane, type Api, type TestControlPlane } from '../helpers/harness.js';
import { openSocket, wsUrl } from '../remote-exec/fixtures.js';
import { containerAgent } from '../containers/fixtures.js';
import { killAllAgents } from '../helpers/harness.js';

const t = suite<{ cp: TestControlPlane; api: Api }>('request size limits');

t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane({ args: ['--max-body', '65536', '--max-ws-frame', '65536', '--max-upload', '1048576'] });
  ctx.api = await adminApi(ctx.cp);
});
t.after(async (ctx) => {
  await killAllAgents();
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir);
});

/** Streams `total` bytes of JSON-ish filler in 1 MB chunks (chunked encoding unless a length is declared); resolves with the status. */
function streamBody(url: string, total: number, opts: { declareLength: boolean }): Promise<{ status: number; body: string; sent: number }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const headers: Record<string, string | number> = { 'content-type': 'application/json' };
    if (opts.declareLength) headers['content-length'] = total;
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers });
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, sent }));
    });
    req.on('error', (err) => (answered ? undefined : reject(err)));
    const pump = (): void => {
      while (!answered && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

t('a 300 MB body to the login route gets 413 before it is buffered, and RSS does not balloon', async ({ cp }) => {
  global.gc?.();
  const before = process.memoryUsage().rss;
  const declared = await streamBody(cp.url + '/api/auth/login', 300 * 1024 * 1024, { declareLength: true });
  assert.is(declared.status, 413);
  assert.is(JSON.parse(declared.body).error.code, 'PAYLOAD_TOO_LARGE');
  const chunked = await streamBody(cp.url + '/api/auth/login', 300 * 1024 * 1024, { declareLength: false });
  assert.is(chunked.status, 413);
  assert.ok(chunked.sent < 300 * 1024 * 1024, `the server answered before the whole body was sent (${chunked.sent} bytes sent)`);
  const grown = process.memoryUsage().rss - before;
  // Before the limit the control plane held the whole body (300 MB and more); now it holds at most 64 KB of it.
  assert.ok(grown < 100 * 1024 * 1024, `RSS grew by ${Math.round(grown / 1e6)} MB`);
});

t('authenticated JSON routes are bounded as well; a body under the limit still works', async ({ cp, api }) => {
  const big = await api.request('POST', '/api/roles', JSON.stringify({ name: 'x', permissions: [], pad: 'y'.repeat(70_000) }));
  assert.is(big.status, 413);
  const ok = await api.request('POST', '/api/roles', { name: 'small-role', permissions: ['devices.read'] });
  assert.is(ok.status, 201);
});

t('an upload that declares more than --max-upload is refused before anything streams', async ({ cp, api }) => {
  const u = new URL(cp.url);
  const status = await new Promise<number>((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method: 'PUT', path: '/api/devices/any/servers/any/files/content?path=/a', headers: { authorization: `Bearer ${api.token}`, 'content-length': 2 * 1024 * 1024 } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.write(Buffer.alloc(1024));
  });
  assert.is(status, 413);
});

t('a chunked upload is cut off at --max-upload as it streams (413), and no partial file is left', async ({ cp, api }) => {
  const agent = await containerAgent(cp, api, 'simulated');
  const put = await api.request('PUT', `/api/devices/${agent.deviceId}/servers`, { servers: [{ name: 'up1', image: 'sim/echo' }] });
  assert.is(put.status, 200, JSON.stringify(put.body));
  const u = new URL(cp.url);
  const upload = (bytes: number) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, method: 'PUT', path: `/api/devices/${agent.deviceId}/servers/up1/files/content?path=/big.bin`, headers: { authorization: `Bearer ${api.token}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(64 * 1024, 1);
      let sent = 0;
      const pump = (): void => {
        while (sent < bytes) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
  assert.is(await upload(512 * 1024), 201, 'under the cap');
  assert.is(await upload(3 * 1024 * 1024), 413);
  const listing = await api.request('GET', `/api/devices/${agent.deviceId}/servers/up1/files?path=/`);
  const big = (listing.body as Array<{ name: string; size: number }>).find((e) => e.name === 'big.bin');
  assert.is(big?.size, 512 * 1024, 'the refused upload did not replace the file');
});

t('request heads above --max-header are refused (431)', async ({ cp }) => {
  const u = new URL(cp.url);
  const status = await new Promise<number>((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: '/api/health', headers: { 'x-filler': 'z'.repeat(40_000) } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  assert.is(status, 431);
  assert.is((await fetch(cp.url + '/api/health')).status, 200);
});

t('a websocket frame above --max-ws-frame closes the socket with 1009', async ({ cp, api }) => {
  const rec = await openSocket(wsUrl(cp, '/api/events'), { authorization: `Bearer ${api.token}` });
  rec.ws.send(Buffer.alloc(70_000));
  const { code } = await rec.closed;
  assert.is(code, 1009);
});

t.run();
