// Finding 1 of issue 13: revocation that revokes. Every live socket closes on the event that
// revokes it (no poll): password-authenticated shells when the user is deleted or the password
// changes, bearer and cookie sockets on logout, sockets opened under a permission the role lost,
// the container console on logout, and every socket on a deleted device. A revoked shell's PTY is
// killed on the device, not left detached. The bound on each wait (5 s) is half the old poll.
import { suite } from 'uvu';
import { request } from 'node:http';
import * as assert from 'uvu/assert';
import { adminApi, apiClient, cleanup, killAllAgents, login, startTestControlPlane, waitFor, type AgentProcess, type Api, type TestControlPlane } from '../helpers/harness.js';
import { execAgent, openSocket, upgradeStatus, wsUrl, type Recorded } from '../remote-exec/fixtures.js';
import { wingsConsole } from '../containers/fixtures.js';

interface Ctx {
  cp: TestControlPlane;
  api: Api;
  agent: AgentProcess & { deviceId: string };
}
const t = suite<Ctx>('revocation closes live sockets');
const REVOKE_WAIT_MS = 5000;

t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane({ args: ['--max-sockets-per-user', '3'] });
  ctx.api = await adminApi(ctx.cp);
  ctx.agent = await execAgent(ctx.cp, ctx.api, { extraArgs: ['--container-engine', 'simulated'] });
  const role = await ctx.api.request('POST', '/api/roles', { name: 'shellers', permissions: ['devices.read', 'devices.shell', 'devices.exec', 'containers.read', 'containers.console'] });
  assert.is(role.status, 201, JSON.stringify(role.body));
  const put = await ctx.api.request('PUT', `/api/devices/${ctx.agent.deviceId}/servers`, { servers: [{ name: 'rev1', image: 'sim/echo' }] });
  assert.is(put.status, 200, JSON.stringify(put.body));
});
t.after(async (ctx) => {
  await killAllAgents();
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir);
});

let n = 0;
async function newUser(ctx: Ctx, role = 'shellers'): Promise<{ id: string; username: string; password: string }> {
  const username = `u${++n}-${Math.random().toString(36).slice(2, 6)}`;
  const password = `pw-${username}-long`;
  const res = await ctx.api.request('POST', '/api/users', { username, password, roleName: role });
  assert.is(res.status, 201, JSON.stringify(res.body));
  return { id: res.body.id, username, password };
}

const basic = (u: { username: string; password: string }) => ({ authorization: 'Basic ' + Buffer.from(`${u.username}:${u.password}`).toString('base64') });
const terminal = (rec: Recorded) => Buffer.concat(rec.frames.filter((f) => f.binary).map((f) => f.data)).toString();
const controls = (rec: Recorded) => rec.frames.filter((f) => !f.binary).map((f) => JSON.parse(f.data.toString()));

/** A shell that printed its PID, so the test can see the PTY's process die. */
async function shellWithPid(ctx: Ctx, headers: Record<string, string>, deviceId = ctx.agent.deviceId): Promise<{ rec: Recorded; pid: number }> {
  const rec = await openSocket(wsUrl(ctx.cp, `/api/devices/${deviceId}/shell`), headers);
  rec.ws.send(JSON.stringify({ type: 'open', cols: 80, rows: 24, shell: '/bin/sh' }));
  const opened = await waitFor('opened', () => controls(rec).find((m) => m.type === 'opened' || m.type === 'error'));
  assert.is(opened.type, 'opened', JSON.stringify(opened));
  rec.ws.send(Buffer.from('echo PID=$$\r'));
  const pid = await waitFor('shell pid', () => Number(/PID=(\d+)/.exec(terminal(rec))?.[1] ?? 0));
  return { rec, pid };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Revocation-to-close times seen, printed at the end (a figure for the report, not an assertion). */
const latencies: number[] = [];
async function closedWith(rec: Recorded): Promise<{ code: number; reason: string }> {
  const start = performance.now();
  let result: { code: number; reason: string } | undefined;
  void rec.closed.then((r) => {
    result = r;
    latencies.push(performance.now() - start);
  });
  return waitFor('socket closed by the revocation', () => result, REVOKE_WAIT_MS, 20);
}
t.after(() => {
  if (latencies.length) console.log(`revocation -> close after the revoking request answered: max ${Math.max(...latencies).toFixed(0)} ms over ${latencies.length} sockets`);
});

t('HTTP Basic shell: deleting the user closes it and kills its PTY', async (ctx) => {
  const u = await newUser(ctx);
  const { rec, pid } = await shellWithPid(ctx, basic(u));
  assert.ok(alive(pid));
  assert.is((await ctx.api.request('DELETE', `/api/users/${u.id}`)).status, 204);
  const { code, reason } = await closedWith(rec);
  assert.is(code, 4001);
  assert.match(reason, /user deleted/);
  await waitFor('the PTY process is gone', () => !alive(pid), REVOKE_WAIT_MS);
});

t('X-KVMD-User/Passwd shell: a password change (by an admin) closes it', async (ctx) => {
  const u = await newUser(ctx);
  const { rec, pid } = await shellWithPid(ctx, { 'x-kvmd-user': u.username, 'x-kvmd-passwd': u.password });
  assert.is((await ctx.api.request('PATCH', `/api/users/${u.id}`, { password: 'a-brand-new-password' })).status, 200);
  assert.is((await closedWith(rec)).code, 4001);
  await waitFor('the PTY process is gone', () => !alive(pid), REVOKE_WAIT_MS);
});

t('Bearer exec socket and cookie events socket: logout closes both at once', async (ctx) => {
  const u = await newUser(ctx);
  const tokens = await login(ctx.cp.url, u.username, u.password);
  const exec = await openSocket(wsUrl(ctx.cp, `/api/devices/${ctx.agent.deviceId}/exec`), { authorization: `Bearer ${tokens.accessToken}` });
  const events = await openSocket(wsUrl(ctx.cp, '/api/events'), { cookie: `auth_token=${tokens.accessToken}` });
  const out = await fetch(ctx.cp.url + '/api/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${tokens.accessToken}` } });
  assert.is(out.status, 200);
  assert.is((await closedWith(exec)).code, 4001);
  assert.is((await closedWith(events)).code, 4001);
});

t('removing a permission from a role closes the sockets opened under it, and only those', async (ctx) => {
  const role = await ctx.api.request('POST', '/api/roles', { name: `trim-${n}`, permissions: ['devices.read', 'devices.shell'] });
  const u = await newUser(ctx, role.body.name);
  const { rec: shell, pid } = await shellWithPid(ctx, basic(u));
  const events = await openSocket(wsUrl(ctx.cp, '/api/events'), basic(u));
  assert.is((await ctx.api.request('PATCH', `/api/roles/${role.body.id}`, { permissions: ['devices.read'] })).status, 200);
  const { code, reason } = await closedWith(shell);
  assert.is(code, 4003);
  assert.match(reason, /devices\.shell/);
  await waitFor('the PTY process is gone', () => !alive(pid), REVOKE_WAIT_MS);
  assert.is(events.ws.readyState, events.ws.OPEN, 'the events socket needs only devices.read: it stays');
  events.ws.close();
  // The next upgrade is refused by the new grants.
  assert.is(await upgradeStatus(wsUrl(ctx.cp, `/api/devices/${ctx.agent.deviceId}/shell`), basic(u)), 403);
});

t('the container console socket honours logout', async (ctx) => {
  const u = await newUser(ctx);
  const tokens = await login(ctx.cp.url, u.username, u.password);
  const userApi = apiClient(ctx.cp.url, tokens.accessToken);
  const c = await wingsConsole(ctx.cp, userApi, ctx.agent.deviceId, 'rev1');
  assert.is((await userApi.request('POST', '/api/auth/logout')).status, 200);
  const closed = await waitFor('console closed', async () => {
    let r: { code: number } | undefined;
    void c.closed.then((x) => (r = x));
    await new Promise((res) => setTimeout(res, 20));
    return r;
  }, REVOKE_WAIT_MS);
  assert.is(closed.code, 4001);
});

t('one user holds at most --max-sockets-per-user sockets (429 beyond)', async (ctx) => {
  const u = await newUser(ctx);
  const open = [];
  for (let i = 0; i < 3; i++) open.push(await openSocket(wsUrl(ctx.cp, '/api/events'), basic(u)));
  assert.is(await upgradeStatus(wsUrl(ctx.cp, '/api/events'), basic(u)), 429);
  open[0]!.ws.close();
  await open[0]!.closed;
  await waitFor('a slot frees up', async () => (await upgradeStatus(wsUrl(ctx.cp, '/api/events'), basic(u))) === 101);
  for (const r of open) r.ws.close();
});

t('deleting a device closes every socket on it and kills its shells', async (ctx) => {
  const agent = await execAgent(ctx.cp, ctx.api);
  const { rec, pid } = await shellWithPid(ctx, { authorization: `Bearer ${ctx.api.token}` }, agent.deviceId);
  assert.is((await ctx.api.request('DELETE', `/api/devices/${agent.deviceId}`)).status, 204);
  assert.is((await closedWith(rec)).code, 4004);
  await waitFor('the PTY process is gone', () => !alive(pid), REVOKE_WAIT_MS);
});

/** Reads a streamed body to its end; says how it ended and how long after `from` it did. */
async function drain(res: Response, from: () => number): Promise<{ bytes: number; error?: string; afterMs: number }> {
  const reader = res.body?.getReader();
  if (!reader) throw new Error('no body');
  let bytes = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { bytes, afterMs: performance.now() - from() };
      bytes += value.length;
    }
  } catch (err) {
    return { bytes, error: String(err), afterMs: performance.now() - from() };
  }
}

t('streamed responses end with their credentials: a followed log on logout, the MJPEG screen and a followed kvmd log when the user is deleted', async (ctx) => {
  const role = await ctx.api.request('POST', '/api/roles', { name: 'watchers', permissions: ['devices.read', 'devices.hardware.read', 'containers.read', 'containers.control'] });
  assert.is(role.status, 201, JSON.stringify(role.body));
  const u = await newUser(ctx, 'watchers');
  const tokens = await login(ctx.cp.url, u.username, u.password);
  const dev = ctx.agent.deviceId;
  const power = await ctx.api.request('POST', `/api/devices/${dev}/containers/rev1/power`, { action: 'start' });
  assert.is(power.status, 200, JSON.stringify(power.body));

  // A followed container log, bearer token: logout cuts it off (an error, never a clean end).
  const logs = await fetch(`${ctx.cp.url}/api/devices/${dev}/containers/rev1/logs?follow=1`, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
  assert.is(logs.status, 200);
  let revokedAt = 0;
  const logsEnd = drain(logs, () => revokedAt);
  await new Promise((r) => setTimeout(r, 200));
  // Timed from the revoking request's start: the cut may come before its answer does.
  revokedAt = performance.now();
  const out = await fetch(ctx.cp.url + '/api/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${tokens.accessToken}` } });
  assert.is(out.status, 200);
  const logsResult = await logsEnd;
  assert.ok(logsResult.error, 'the followed log was cut off, not ended cleanly');
  assert.ok(logsResult.afterMs < 1000, `ended ${logsResult.afterMs.toFixed(0)} ms after the logout was sent`);

  // Password-authenticated (Basic) MJPEG screen and kvmd log follow: deleting the user ends both.
  const screen = await fetch(`${ctx.cp.url}/kvm/${dev}/streamer/stream`, { headers: basic(u) });
  assert.is(screen.status, 200);
  const kvmLog = await fetch(`${ctx.cp.url}/kvm/${dev}/api/log?follow=1`, { headers: basic(u) });
  assert.is(kvmLog.status, 200);
  const screenEnd = drain(screen, () => revokedAt);
  const kvmLogEnd = drain(kvmLog, () => revokedAt);
  await new Promise((r) => setTimeout(r, 300));
  revokedAt = performance.now();
  assert.is((await ctx.api.request('DELETE', `/api/users/${u.id}`)).status, 204);
  const [screenResult, kvmLogResult] = await Promise.all([screenEnd, kvmLogEnd]);
  assert.ok(screenResult.bytes > 0, 'frames arrived before the revocation');
  assert.ok(screenResult.error, 'the MJPEG stream was cut off');
  assert.ok(screenResult.afterMs < 1000, `screen ended ${screenResult.afterMs.toFixed(0)} ms after the delete`);
  assert.ok(kvmLogResult.afterMs < 1000, `kvmd log ended ${kvmLogResult.afterMs.toFixed(0)} ms after the delete`);
});

t("a device's live telemetry socket closes with the device; the container console is in the audit log", async (ctx) => {
  const agent = await execAgent(ctx.cp, ctx.api, { extraArgs: ['--container-engine', 'simulated'] });
  const put = await ctx.api.request('PUT', `/api/devices/${agent.deviceId}/servers`, { servers: [{ name: 'aud1', image: 'sim/echo' }] });
  assert.is(put.status, 200, JSON.stringify(put.body));
  const c = await wingsConsole(ctx.cp, ctx.api, agent.deviceId, 'aud1');
  const live = await openSocket(wsUrl(ctx.cp, `/api/telemetry/live?device=${agent.deviceId}`), { authorization: `Bearer ${ctx.api.token}` });
  await waitFor('the console open in the audit log', async () => {
    const res = await ctx.api.request('GET', `/api/audit?action=containers.console.open&device=${agent.deviceId}`);
    return res.status === 200 && res.body.entries.some((e: { action: string }) => e.action === 'containers.console.open');
  });
  assert.is((await ctx.api.request('DELETE', `/api/devices/${agent.deviceId}`)).status, 204);
  assert.is((await closedWith(live)).code, 4004);
  await c.closed;
});

t('an upload in progress stops when its user is deleted, and leaves no partial file', async (ctx) => {
  const role = await ctx.api.request('POST', '/api/roles', { name: 'uploaders', permissions: ['devices.read', 'containers.read', 'containers.files'] });
  assert.is(role.status, 201, JSON.stringify(role.body));
  const u = await newUser(ctx, 'uploaders');
  const dev = ctx.agent.deviceId;
  const url = new URL(ctx.cp.url);
  let sent = 0;
  let revokedAt = 0;
  const ended = new Promise<{ status: number | 'cut'; afterMs: number }>((resolve) => {
    const req = request({ host: url.hostname, port: url.port, method: 'PUT', path: `/api/devices/${dev}/servers/rev1/files/content?path=/slow.bin`, headers: basic(u) }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, afterMs: performance.now() - revokedAt });
    });
    req.on('error', () => resolve({ status: 'cut', afterMs: performance.now() - revokedAt }));
    // A slow client: 16 KiB every 50 ms, never finishing on its own.
    const timer = setInterval(() => {
      if (req.destroyed) return clearInterval(timer);
      req.write(Buffer.alloc(16 * 1024, 7));
      sent += 16 * 1024;
    }, 50);
    req.on('close', () => clearInterval(timer));
  });
  await waitFor('the upload is flowing', () => sent >= 128 * 1024);
  revokedAt = performance.now();
  assert.is((await ctx.api.request('DELETE', `/api/users/${u.id}`)).status, 204);
  const result = await ended;
  assert.ok(result.afterMs < 1000, `the upload stopped ${result.afterMs.toFixed(0)} ms after the delete was sent (${String(result.status)})`);
  assert.ok(result.status === 'cut' || result.status === 401, `answered ${String(result.status)}`);
  const listing = await ctx.api.request('GET', `/api/devices/${dev}/servers/rev1/files?path=/`);
  assert.is(listing.status, 200, JSON.stringify(listing.body));
  assert.not.ok((listing.body as Array<{ name: string }>).some((e) => e.name === 'slow.bin'), 'no partial file');
});

t.run();
