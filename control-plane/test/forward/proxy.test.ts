// The HTTP proxy to device web UIs (/api/devices/:id/proxy/<port>/...) end to end: a real node:http
// server and a ws echo server on the device side, a real agent and control plane. Headers in both
// directions, streamed bodies, redirect and cookie rewriting, CSRF, a websocket through the proxy,
// permissions, and the device going offline.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket, { WebSocketServer } from 'ws';
import { adminApi, cleanup, jsonOf, enrolledAgent, killAllAgents, login, startTestControlPlane, waitFor, type AgentProcess, type Api, type TestControlPlane } from '../helpers/harness.js';
import { recordSocket, wsBase } from './forward-helpers.js';

interface Ctx { cp: TestControlPlane; api: Api; agent: AgentProcess & { deviceId: string }; web: Server; port: number; token: string; base: string }
const t = suite<Ctx>('HTTP proxy to a device web UI');

/** The device's web UI: echoes what it got, redirects, sets cookies, streams bodies back. */
function deviceWebServer(): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/headers') {
      res.setHeader('content-type', 'application/json');
      res.setHeader('connection', 'keep-alive, x-secret-hop');
      res.setHeader('x-secret-hop', 'must not pass');
      return res.end(JSON.stringify({ headers: req.headers, path: req.url }));
    }
    if (url.pathname === '/echo') {
      const hash = createHash('sha256');
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      req.on('data', (d: Buffer) => {
        hash.update(d);
        res.write(d);
      });
      req.on('end', () => res.end());
      return;
    }
    if (url.pathname === '/redirect') return res.writeHead(302, { location: '/login?next=%2F' }).end();
    if (url.pathname === '/absolute') return res.writeHead(301, { location: `http://127.0.0.1:${(req.socket.localPort ?? 0)}/abs/page` }).end();
    if (url.pathname === '/elsewhere') return res.writeHead(302, { location: 'https://example.com/x' }).end();
    if (url.pathname === '/cookie') {
      res.setHeader('set-cookie', ['sid=abc; Path=/; HttpOnly', 'pref=2; Path=/app; Domain=device.local; SameSite=Lax', 'bare=1']);
      return res.end('ok');
    }
    res.writeHead(404).end('no such page');
  });
}

t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane({ args: ['--device-proxy', 'true'] });
  ctx.api = await adminApi(ctx.cp);
  ctx.agent = await enrolledAgent(ctx.cp, ctx.api, { hostname: 'proxy-dev' });
  ctx.web = deviceWebServer();
  const wss = new WebSocketServer({ server: ctx.web, path: '/ws' });
  wss.on('connection', (ws, req) => {
    ws.send(`hello ${req.headers['cookie'] ?? 'no-cookie'} ${req.headers['authorization'] ?? 'no-auth'}`);
    ws.on('message', (d, isBinary) => ws.send(isBinary ? d : `echo:${d.toString()}`, { binary: isBinary }));
  });
  await new Promise<void>((r) => ctx.web.listen(0, '127.0.0.1', () => r()));
  const a = ctx.web.address();
  ctx.port = typeof a === 'object' && a ? a.port : 0;
  ctx.token = (await login(ctx.cp.url)).accessToken;
  ctx.base = `/api/devices/proxy-dev/proxy/${ctx.port}`;
});
t.after(async (ctx) => {
  await killAllAgents();
  ctx.web?.close();
  await ctx.cp?.close();
  await cleanup(ctx.cp.dataDir);
});

t('GET: our cookies and Authorization never reach the device, its own cookies do; hop-by-hop headers dropped both ways', async (ctx) => {
  const res = await fetch(`${ctx.cp.url}${ctx.base}/headers?q=1`, { headers: { cookie: `auth_token=${ctx.token}; dev=1; refresh_token=zzz`, 'x-custom': 'yes', te: 'trailers' } });
  assert.is(res.status, 200);
  const body = await jsonOf(res);
  assert.is(body.path, '/headers?q=1');
  assert.is(body.headers.cookie, 'dev=1');
  assert.is(body.headers['x-custom'], 'yes');
  assert.is(body.headers.te, undefined);
  assert.is(body.headers.authorization, undefined);
  assert.is(body.headers['x-forwarded-prefix'], ctx.base);
  assert.is(res.headers.get('x-secret-hop'), null, 'a header named in Connection is hop-by-hop');
  const bearer = await jsonOf(await fetch(`${ctx.cp.url}${ctx.base}/headers`, { headers: { authorization: `Bearer ${ctx.token}` } }));
  assert.is(bearer.headers.authorization, undefined);
  assert.is(bearer.headers.cookie, undefined);
  const head = await fetch(`${ctx.cp.url}${ctx.base}/headers`, { method: 'HEAD', headers: { authorization: `Bearer ${ctx.token}` } });
  assert.is(head.status, 200);
  assert.is(head.headers.get('content-type'), 'application/json');
  assert.is(await head.text(), '');
  // A device 404 is the device's answer, passed through.
  const missing = await fetch(`${ctx.cp.url}${ctx.base}/nothing`, { headers: { authorization: `Bearer ${ctx.token}` } });
  assert.is(missing.status, 404);
  assert.is(await missing.text(), 'no such page');
});

t('POST: a 6 MB body streams to the device and back intact', async (ctx) => {
  const data = randomBytes(6 * 1024 * 1024);
  const res = await fetch(`${ctx.cp.url}${ctx.base}/echo`, { method: 'POST', headers: { authorization: `Bearer ${ctx.token}`, 'content-type': 'application/octet-stream' }, body: data });
  assert.is(res.status, 200);
  const back = Buffer.from(await res.arrayBuffer());
  assert.is(back.length, data.length);
  assert.is(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(data).digest('hex'));
});

t('CSRF: a cookie-authenticated write from a foreign origin is refused; from our origin it passes', async (ctx) => {
  const cookie = `auth_token=${ctx.token}`;
  const foreign = await fetch(`${ctx.cp.url}${ctx.base}/echo`, { method: 'POST', headers: { cookie, origin: 'http://evil.example' }, body: 'x' });
  assert.is(foreign.status, 403);
  const own = await fetch(`${ctx.cp.url}${ctx.base}/echo`, { method: 'POST', headers: { cookie, origin: ctx.cp.url }, body: 'same-origin' });
  assert.is(own.status, 200);
  assert.is(await own.text(), 'same-origin');
  // Writes through the proxy are audited (target: the port): the 6 MB POST and this one.
  const audit = await waitFor('proxy writes audited', async () => {
    const list: Array<{ action: string; target: string | null; result: string }> = (await ctx.api.request('GET', '/api/audit?action=forward.proxy')).body?.entries ?? [];
    return list.length >= 2 ? list : undefined;
  });
  assert.ok(audit.every((e) => e.target === String(ctx.port)));
  assert.ok(audit.every((e) => e.result === 'ok'));
});

t('redirects stay under the prefix; the bare prefix redirects to its trailing slash', async (ctx) => {
  const h = { authorization: `Bearer ${ctx.token}` };
  const rel = await fetch(`${ctx.cp.url}${ctx.base}/redirect`, { headers: h, redirect: 'manual' });
  assert.is(rel.status, 302);
  assert.is(rel.headers.get('location'), `${ctx.base}/login?next=%2F`);
  const abs = await fetch(`${ctx.cp.url}${ctx.base}/absolute`, { headers: h, redirect: 'manual' });
  assert.is(abs.headers.get('location'), `${ctx.base}/abs/page`);
  const away = await fetch(`${ctx.cp.url}${ctx.base}/elsewhere`, { headers: h, redirect: 'manual' });
  assert.is(away.headers.get('location'), 'https://example.com/x');
  const bare = await fetch(`${ctx.cp.url}${ctx.base}?a=1`, { headers: h, redirect: 'manual' });
  assert.is(bare.status, 308);
  assert.is(bare.headers.get('location'), `${ctx.base}/?a=1`);
});

t('Set-Cookie paths are kept under the prefix, Domain dropped', async (ctx) => {
  const res = await fetch(`${ctx.cp.url}${ctx.base}/cookie`, { headers: { authorization: `Bearer ${ctx.token}` } });
  assert.equal(res.headers.getSetCookie(), [`sid=abc; Path=${ctx.base}/; HttpOnly`, `pref=2; Path=${ctx.base}/app; SameSite=Lax`, `bare=1; Path=${ctx.base}/`]);
});

t('a websocket through the proxy: text and binary echo, our credentials stripped', async (ctx) => {
  const rec = new WebSocket(`${wsBase(ctx.cp)}${ctx.base}/ws`, { headers: { cookie: `auth_token=${ctx.token}; theme=dark` }, origin: ctx.cp.url });
  const got: Array<string | Buffer> = [];
  rec.on('message', (d: Buffer, isBinary) => got.push(isBinary ? d : d.toString()));
  await new Promise<void>((resolve, reject) => {
    rec.once('open', () => resolve());
    rec.once('error', reject);
  });
  await waitFor('greeting', () => got.length >= 1);
  assert.is(got[0], 'hello theme=dark no-auth');
  rec.send('hi');
  const bin = randomBytes(200_000);
  rec.send(bin, { binary: true });
  await waitFor('echoes', () => got.length >= 3);
  assert.is(got[1], 'echo:hi');
  assert.ok(Buffer.isBuffer(got[2]) && got[2].equals(bin));
  const closed = new Promise<number>((r) => rec.once('close', (code) => r(code)));
  rec.close(1000);
  assert.is(await closed, 1000);
});

t('a closed port answers 502 DESTINATION_UNREACHABLE; a role without devices.forward gets 403', async (ctx) => {
  const h = { authorization: `Bearer ${ctx.token}` };
  const closed = await fetch(`${ctx.cp.url}/api/devices/proxy-dev/proxy/1/`, { headers: h });
  assert.is(closed.status, 502);
  assert.is((await jsonOf(closed)).error.code, 'DESTINATION_UNREACHABLE');
  await ctx.api.request('POST', '/api/roles', { name: 'viewers-fwd', permissions: ['devices.read'] });
  await ctx.api.request('POST', '/api/users', { username: 'vic', password: 'vic-password', roleName: 'viewers-fwd' });
  const vic = { 'x-edgehook-user': 'vic', 'x-edgehook-passwd': 'vic-password' };
  assert.is((await fetch(`${ctx.cp.url}${ctx.base}/headers`, { headers: vic })).status, 403);
  const sock = recordSocket(`${wsBase(ctx.cp)}/api/devices/proxy-dev/forward?port=${ctx.port}`, vic);
  await sock.opened.then(() => assert.unreachable('opened'), (err: Error) => assert.match(err.message, /403/));
});

t('the device offline: the proxy answers 503 DEVICE_OFFLINE, a forward socket an error frame', async (ctx) => {
  await ctx.agent.stop();
  await waitFor('device offline', async () => (await ctx.api.request('GET', '/api/devices/proxy-dev')).body?.online === false, 15_000);
  const res = await fetch(`${ctx.cp.url}${ctx.base}/headers`, { headers: { authorization: `Bearer ${ctx.token}` } });
  assert.is(res.status, 503);
  assert.is((await jsonOf(res)).error.code, 'DEVICE_OFFLINE');
  const rec = recordSocket(`${wsBase(ctx.cp)}/api/devices/proxy-dev/forward?port=${ctx.port}`, { authorization: `Bearer ${ctx.token}` });
  assert.is((await rec.closed).code, 4503);
  assert.is(rec.frames.find((f) => f.type === 'error')?.code, 'DEVICE_OFFLINE');
});

t.run();
