// `edgehook forward` end to end: the built CLI, a real control plane and a real agent process,
// TCP servers on the device side. 100 MB both ways intact, several connections at once, refused
// and unreachable destinations, bad specs, and a logout closing a live forward.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server, type Socket } from 'node:net';
import { ADMIN_PASSWORD, adminApi, cleanup, enrolledAgent, killAllAgents, login, runCli, startTestControlPlane, tempDir, waitFor, type AgentProcess, type Api, type TestControlPlane } from '../helpers/harness.js';
import { echoServer, recordSocket, roundTrip, startForward, wsBase } from './forward-helpers.js';

interface Ctx { cp: TestControlPlane; api: Api; agent: AgentProcess & { deviceId: string }; config: string; echo: { server: Server; port: number; open: Set<Socket> }; token: string }
const t = suite<Ctx>('edgehook forward');

t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane();
  ctx.api = await adminApi(ctx.cp);
  ctx.agent = await enrolledAgent(ctx.cp, ctx.api, { hostname: 'fwd-dev' });
  ctx.config = await tempDir('edgehook-cli-');
  const l = await runCli(ctx.config, ['login', '--server', ctx.cp.url, '--username', 'admin'], { EDGEHOOK_PASSWORD: ADMIN_PASSWORD });
  if (l.code !== 0) throw new Error(`login failed: ${l.stderr}`);
  ctx.echo = await echoServer();
  ctx.token = (await login(ctx.cp.url)).accessToken;
});
t.after(async (ctx) => {
  await killAllAgents();
  ctx.echo?.server.close();
  await ctx.cp?.close();
  await cleanup(ctx.cp.dataDir, ctx.config);
});

t('100 MB through a forward arrive intact both ways (sha256), then Ctrl-C exits 0', async (ctx) => {
  const fwd = await startForward(ctx.config, ['fwd-dev', `0:127.0.0.1:${ctx.echo.port}`]);
  const total = Number(process.env.FWD_MB ?? 100) * 1024 * 1024;
  const r = await roundTrip(fwd.port, total, 'big');
  assert.is(r.bytes, total);
  assert.is(r.received, r.sent);
  assert.is(await fwd.stop(), 0, fwd.output());
});

t('several connections through one forward at once, each with its own stream', async (ctx) => {
  const fwd = await startForward(ctx.config, ['fwd-dev', `127.0.0.1:${ctx.echo.port}`]);
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => roundTrip(fwd.port, (i + 1) * 512 * 1024, `c${i}`)));
  results.forEach((r, i) => {
    assert.is(r.bytes, (i + 1) * 512 * 1024);
    assert.is(r.received, r.sent, `connection ${i}`);
  });
  assert.is(await fwd.stop(), 0);
});

t('a destination outside the device allow list is refused with FORBIDDEN (socket and CLI)', async (ctx) => {
  const rec = recordSocket(`${wsBase(ctx.cp)}/api/devices/fwd-dev/forward?host=192.0.2.10&port=80`, { authorization: `Bearer ${ctx.token}` });
  const { code } = await rec.closed;
  assert.is(code, 4403);
  const err = rec.frames.find((f) => f.type === 'error');
  assert.is(err?.code, 'FORBIDDEN');
  assert.match(err?.message, /does not forward to 192\.0\.2\.10 port 80.*--forward-allow/);
  // The CLI listens (it cannot know before a connection), then exits 1 at the first refusal.
  const fwd = await startForward(ctx.config, ['fwd-dev', '192.0.2.10:80']);
  await roundTrip(fwd.port, 10, 'refused').catch(() => undefined);
  assert.is(await fwd.exited, 1);
  assert.match(fwd.output(), /refuses to forward to 192\.0\.2\.10:80/);
});

t('an unreachable destination and a bad query answer clear errors', async (ctx) => {
  const closedPort = await new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
  const rec = recordSocket(`${wsBase(ctx.cp)}/api/devices/fwd-dev/forward?host=127.0.0.1&port=${closedPort}`, { authorization: `Bearer ${ctx.token}` });
  await rec.closed;
  assert.is(rec.frames.find((f) => f.type === 'error')?.code, 'DESTINATION_UNREACHABLE');
  assert.match(rec.frames.find((f) => f.type === 'error')?.message, /ECONNREFUSED/);
  const bad = recordSocket(`${wsBase(ctx.cp)}/api/devices/fwd-dev/forward?host=127.0.0.1&port=0`, { authorization: `Bearer ${ctx.token}` });
  await bad.closed;
  assert.is(bad.frames.find((f) => f.type === 'error')?.code, 'BAD_REQUEST');
  const spec = await runCli(ctx.config, ['forward', 'fwd-dev', 'nonsense']);
  assert.is(spec.code, 2);
  assert.match(spec.stderr, /not \[LOCAL:\]HOST:PORT/);
  const port = await runCli(ctx.config, ['forward', 'fwd-dev', '8080:127.0.0.1:99999']);
  assert.is(port.code, 2);
  assert.match(port.stderr, /port 99999/);
});

t('logging out closes a live forward and the device-side connection with it', async (ctx) => {
  const { accessToken } = await login(ctx.cp.url);
  const before = ctx.echo.open.size;
  const rec = recordSocket(`${wsBase(ctx.cp)}/api/devices/fwd-dev/forward?port=${ctx.echo.port}`, { authorization: `Bearer ${accessToken}` });
  await waitFor('opened', () => rec.frames.find((f) => f.type === 'opened'));
  rec.ws.send(Buffer.from('ping'));
  await waitFor('echo', () => Buffer.concat(rec.binary).toString() === 'ping');
  assert.is(ctx.echo.open.size, before + 1);
  const out = await fetch(`${ctx.cp.url}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } });
  assert.ok(out.status < 300);
  assert.is((await rec.closed).code, 4001);
  await waitFor('device-side connection closed', () => ctx.echo.open.size === before);
  // The socket session is in the audit log, opened and closed, with the device.
  const audited = await waitFor('forward audited', async () => {
    const list: Array<{ action: string; deviceId: string | null; status: number }> = (await ctx.api.request('GET', '/api/audit?action=forward.close')).body?.entries ?? [];
    return list.find((e) => e.deviceId === ctx.agent.deviceId && e.status === 4001);
  });
  assert.is(audited.action, 'forward.close');
  const opened: Array<{ deviceId: string | null }> = (await ctx.api.request('GET', '/api/audit?action=forward.open')).body?.entries ?? [];
  assert.ok(opened.some((e) => e.deviceId === ctx.agent.deviceId));
});

t('the device web UI proxy is off unless serve --device-proxy: HTTP 403 and a 4403 socket, both saying why', async (ctx) => {
  const r = await fetch(`${ctx.cp.url}/api/devices/fwd-dev/proxy/${ctx.echo.port}/`, { headers: { authorization: `Bearer ${ctx.token}` } });
  assert.is(r.status, 403);
  const body: unknown = await r.json();
  assert.match(JSON.stringify(body), /proxy is off.*--device-proxy/);
  const { WebSocket } = await import('ws');
  const ws = new WebSocket(`${wsBase(ctx.cp)}/api/devices/fwd-dev/proxy/${ctx.echo.port}/ws`, { headers: { authorization: `Bearer ${ctx.token}` } });
  const closed = await new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  assert.is(closed.code, 4403);
  assert.match(closed.reason, /--device-proxy/);
});

t.run();
