import { readdirSync, readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminApi, cleanup, killAllAgents, login, startTestControlPlane, waitFor, type AgentProcess, type Api, type TestControlPlane } from '../helpers/harness.js';
import { execAgent, openSocket, upgradeStatus, wsUrl, type Recorded } from './fixtures.js';

interface Ctx {
  cp: TestControlPlane;
  api: Api;
  agent: AgentProcess & { deviceId: string };
  headers: Record<string, string>;
}
const t = suite<Ctx>('shell websocket');

t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane();
  ctx.api = await adminApi(ctx.cp);
  ctx.agent = await execAgent(ctx.cp, ctx.api);
  ctx.headers = { authorization: `Bearer ${ctx.api.token}` };
});
t.after(async (ctx) => {
  await killAllAgents();
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir);
});

const terminal = (rec: Recorded) => Buffer.concat(rec.frames.filter((f) => f.binary).map((f) => f.data)).toString();
const controls = (rec: Recorded) => rec.frames.filter((f) => !f.binary).map((f) => JSON.parse(f.data.toString()));
const type = (rec: Recorded, s: string) => rec.ws.send(Buffer.from(s));

async function openShell(ctx: Ctx, extra: Record<string, unknown> = {}, deviceId = ctx.agent.deviceId): Promise<{ rec: Recorded; sessionId: string }> {
  const rec = await openSocket(wsUrl(ctx.cp, `/api/devices/${deviceId}/shell`), ctx.headers);
  rec.ws.send(JSON.stringify({ type: 'open', cols: 80, rows: 24, shell: '/bin/sh', ...extra }));
  const opened = await waitFor('opened', () => controls(rec).find((m) => m.type === 'opened' || m.type === 'error'));
  assert.is(opened.type, 'opened', JSON.stringify(opened));
  return { rec, sessionId: opened.info.sessionId };
}

t('open, type, resize, close: the shell runs commands and ends with its result', async (ctx) => {
  const { rec } = await openShell(ctx);
  type(rec, 'echo relay-$((6*7))\r');
  await waitFor('command output', () => terminal(rec).includes('relay-42'));
  rec.ws.send(JSON.stringify({ type: 'resize', cols: 100, rows: 40 }));
  type(rec, 'stty size\r');
  await waitFor('new size', () => terminal(rec).includes('40 100'));
  rec.ws.send(JSON.stringify({ type: 'close' }));
  const { code } = await rec.closed;
  assert.is(code, 1000);
  assert.ok(controls(rec).some((m) => m.type === 'end'));
});

t('several shells at once; a dropped socket leaves the shell detached and a reattach replays recent output', async (ctx) => {
  const a = await openShell(ctx);
  const b = await openShell(ctx);
  assert.is.not(a.sessionId, b.sessionId);
  type(a.rec, 'echo marker-$((1+1))\r');
  type(b.rec, 'echo other-$((2+2))\r');
  await waitFor('a output', () => terminal(a.rec).includes('marker-2'));
  await waitFor('b output', () => terminal(b.rec).includes('other-4'));
  a.rec.ws.terminate();
  await new Promise((r) => setTimeout(r, 100));
  const again = await openShell(ctx, { session: a.sessionId });
  const opened = controls(again.rec).find((m) => m.type === 'opened');
  assert.is(opened.info.reattached, true);
  await waitFor('scrollback replayed', () => terminal(again.rec).includes('marker-2'));
  type(again.rec, 'echo still-$((3+3))\r');
  await waitFor('same shell works', () => terminal(again.rec).includes('still-6'));
  type(again.rec, 'exit\r');
  await again.rec.closed;
  b.rec.ws.send(JSON.stringify({ type: 'close' }));
  await b.rec.closed;
  // The ended session cannot be reattached.
  const gone = await openSocket(wsUrl(ctx.cp, `/api/devices/${ctx.agent.deviceId}/shell`), ctx.headers);
  gone.ws.send(JSON.stringify({ type: 'open', cols: 80, rows: 24, session: a.sessionId }));
  await gone.closed;
  assert.is(controls(gone).find((m) => m.type === 'error')?.code, 'NOT_FOUND');
});

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
function zombieChildren(pid: number): number {
  let n = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (f[0] === 'Z' && Number(f[1]) === pid) n++;
    } catch {
      // gone
    }
  }
  return n;
}

t('200 open/resize/reattach/close cycles leak no fds and leave no zombies', async (ctx) => {
  const pid = ctx.agent.child.pid!;
  // Warm up (lazy module loads, first sockets) before the baseline.
  for (let i = 0; i < 3; i++) {
    const { rec } = await openShell(ctx);
    rec.ws.send(JSON.stringify({ type: 'close' }));
    await rec.closed;
  }
  await new Promise((r) => setTimeout(r, 300));
  const fdsBefore = fdCount(pid);
  for (let i = 0; i < 200; i++) {
    const { rec, sessionId } = await openShell(ctx);
    rec.ws.send(JSON.stringify({ type: 'resize', cols: 90 + (i % 10), rows: 30 }));
    if (i % 10 === 0) {
      rec.ws.terminate();
      const again = await openShell(ctx, { session: sessionId });
      again.rec.ws.send(JSON.stringify({ type: 'close' }));
      await again.rec.closed;
    } else {
      rec.ws.send(JSON.stringify({ type: 'close' }));
      await rec.closed;
    }
  }
  await waitFor('fds back to the baseline', () => fdCount(pid) <= fdsBefore, 10_000).catch(() => undefined);
  assert.ok(fdCount(pid) <= fdsBefore, `fds: ${fdsBefore} before, ${fdCount(pid)} after`);
  assert.is(zombieChildren(pid), 0);
});

t('a stalled operator pauses the shell instead of growing server memory, and Ctrl-C still works', async (ctx) => {
  const { rec } = await openShell(ctx);
  type(rec, 'yes flood-flood-flood-flood\r');
  await waitFor('flood started', () => terminal(rec).includes('flood-flood\r\nflood'));
  const tcp = (rec.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  tcp.pause();
  await new Promise((r) => setTimeout(r, 500));
  const before = process.memoryUsage().arrayBuffers;
  await new Promise((r) => setTimeout(r, 2500));
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 16 * 1024 * 1024, `server buffers grew by ${(grown / 1048576).toFixed(1)} MB while the operator stalled`);
  tcp.resume();
  type(rec, '\x03');
  type(rec, 'echo after-$((5+5))\r');
  await waitFor('shell answers after Ctrl-C', () => terminal(rec).slice(-2000).includes('after-10'), 15_000);
  rec.ws.send(JSON.stringify({ type: 'close' }));
  await rec.closed;
});

t('a device going offline mid-session gives the operator a clear error and closes the socket', async (ctx) => {
  const other = await execAgent(ctx.cp, ctx.api);
  const { rec } = await openShell(ctx, {}, other.deviceId);
  type(rec, 'echo up\r');
  await waitFor('running', () => terminal(rec).includes('up'));
  other.child.kill('SIGKILL');
  const { code } = await rec.closed;
  assert.is(code, 1011);
  assert.is(controls(rec).find((m) => m.type === 'error')?.code, 'DEVICE_OFFLINE');
  // Opening on an offline device fails at once.
  const late = await openSocket(wsUrl(ctx.cp, `/api/devices/${other.deviceId}/shell`), ctx.headers);
  late.ws.send(JSON.stringify({ type: 'open', cols: 80, rows: 24 }));
  await late.closed;
  assert.is(controls(late).find((m) => m.type === 'error')?.code, 'DEVICE_OFFLINE');
});

t('roles without devices.shell / devices.exec.arbitrary are refused', async (ctx) => {
  await ctx.api.request('POST', '/api/roles', { name: 'runners', permissions: ['devices.read', 'devices.exec'] });
  await ctx.api.request('POST', '/api/users', { username: 'rudi', password: 'rudi-password', roleName: 'runners' });
  const rudi = { 'x-edgehook-user': 'rudi', 'x-edgehook-passwd': 'rudi-password' };
  assert.is(await upgradeStatus(wsUrl(ctx.cp, `/api/devices/${ctx.agent.deviceId}/shell`), rudi), 403);
  const exec = await openSocket(wsUrl(ctx.cp, `/api/devices/${ctx.agent.deviceId}/exec`), rudi);
  exec.ws.send(JSON.stringify({ type: 'open', argv: ['id'] }));
  await exec.closed;
  assert.is(controls(exec).find((m) => m.type === 'error')?.code, 'FORBIDDEN');
  const rest = await fetch(`${ctx.cp.url}/api/devices/${ctx.agent.deviceId}/processes`, { method: 'POST', headers: { ...rudi, 'content-type': 'application/json' }, body: JSON.stringify({ cmd: ['id'] }) });
  assert.is(rest.status, 403);
  // A server-defined action is fine for this role.
  const ok = await openSocket(wsUrl(ctx.cp, `/api/devices/${ctx.agent.deviceId}/exec`), rudi);
  ok.ws.send(JSON.stringify({ type: 'open', call: 'fail' }));
  await ok.closed;
  assert.is(controls(ok).find((m) => m.type === 'end')?.result.reason, 'exited with code 3');
});

t('logging out (session revoked) closes the live shell socket', async (ctx) => {
  const { accessToken } = await login(ctx.cp.url);
  const rec = await openSocket(wsUrl(ctx.cp, `/api/devices/${ctx.agent.deviceId}/shell`), { authorization: `Bearer ${accessToken}` });
  rec.ws.send(JSON.stringify({ type: 'open', cols: 80, rows: 24, shell: '/bin/sh' }));
  await waitFor('opened', () => controls(rec).find((m) => m.type === 'opened'));
  const out = await fetch(`${ctx.cp.url}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } });
  assert.ok(out.status < 300);
  const { code } = await rec.closed; // the logout's revocation closes it at once (no poll)
  assert.is(code, 4001);
});

t.run();
