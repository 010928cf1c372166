import { readdirSync, readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN_PASSWORD, adminApi, cleanup, killAllAgents, startTestControlPlane, waitFor, type Api, type TestControlPlane } from '../helpers/harness.js';
import { execAgent, openSocket, upgradeStatus, wsUrl, type Recorded } from './fixtures.js';

const t = suite<{ cp: TestControlPlane; api: Api; deviceId: string; headers: Record<string, string> }>('pow-1 websocket');

t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane();
  ctx.api = await adminApi(ctx.cp);
  ctx.deviceId = (await execAgent(ctx.cp, ctx.api)).deviceId;
  ctx.headers = { authorization: `Bearer ${ctx.api.token}` };
});
t.after(async (ctx) => {
  await killAllAgents();
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir);
});

const call = (rec: Recorded, name: string, params: string[] = []) => rec.ws.send(Buffer.from(JSON.stringify({ call: name, params })));
const signal = (rec: Recorded, s: 'close' | 'cancel') => rec.ws.send(Buffer.from(JSON.stringify({ signal: s })));

/** The frames after the close: text output, then exactly one binary result, last. */
async function finished(rec: Recorded): Promise<{ output: string; result: any; code: number; reason: string }> {
  const { code, reason } = await rec.closed;
  const binaries = rec.frames.filter((f) => f.binary);
  assert.is(binaries.length, 1, 'exactly one binary frame (the result)');
  assert.ok(rec.frames[rec.frames.length - 1]?.binary, 'the result is the last frame');
  return { output: rec.text(), result: JSON.parse(binaries[0]!.data.toString()), code, reason };
}

function powSocket(ctx: { cp: TestControlPlane; deviceId: string; headers: Record<string, string> }): Promise<Recorded> {
  return openSocket(wsUrl(ctx.cp, `/api/devices/${ctx.deviceId}/pow`), ctx.headers, 'pow-1');
}

t('echo: text in, text out, close input -> fulfilled with the params, close 1000 with empty reason', async (ctx) => {
  const rec = await powSocket(ctx);
  call(rec, 'echo', ['a', 'b']);
  rec.ws.send('hello ');
  rec.ws.send('wörld\n');
  await waitFor('echoed', () => rec.text() === 'hello wörld\n');
  assert.ok(rec.frames.every((f) => !f.binary), 'output arrives as text frames');
  signal(rec, 'close');
  const end = await finished(rec);
  assert.equal(end.result, { status: 'fulfilled', value: ['a', 'b'] });
  assert.is(end.code, 1000);
  assert.is(end.reason, '');
  assert.is(end.output, 'hello wörld\n');
});

t('headers auth (X-Edgehook-User/Passwd) works; no subprotocol, no credentials, no permission are refused before the handshake', async (ctx) => {
  const url = wsUrl(ctx.cp, `/api/devices/${ctx.deviceId}/pow`);
  assert.is(await upgradeStatus(url, { 'x-edgehook-user': 'admin', 'x-edgehook-passwd': ADMIN_PASSWORD }, 'pow-1'), 101);
  assert.is(await upgradeStatus(url, ctx.headers), 400);
  assert.is(await upgradeStatus(url, ctx.headers, 'not-pow'), 400);
  assert.is(await upgradeStatus(url, {}, 'pow-1'), 401);
  await ctx.api.request('POST', '/api/roles', { name: 'watchers', permissions: ['devices.read'] });
  await ctx.api.request('POST', '/api/users', { username: 'wanda', password: 'wanda-password', roleName: 'watchers' });
  assert.is(await upgradeStatus(url, { 'x-edgehook-user': 'wanda', 'x-edgehook-passwd': 'wanda-password' }, 'pow-1'), 403);
});

t('no call frame within the timeout -> rejected result, close 1000, empty reason', async (ctx) => {
  const rec = await powSocket(ctx);
  const end = await finished(rec);
  assert.is(end.result.status, 'rejected');
  assert.match(end.result.reason, /call/);
  assert.is(end.code, 1000);
  assert.is(end.reason, '');
});

t('unknown process and malformed call are rejected with a reason', async (ctx) => {
  const rec = await powSocket(ctx);
  call(rec, 'no-such-action');
  const end = await finished(rec);
  assert.equal(Object.keys(end.result).sort(), ['reason', 'status']);
  assert.is(end.result.status, 'rejected');
  assert.match(end.result.reason, /unknown process/);
  assert.is(end.code, 1000);

  const bad = await powSocket(ctx);
  bad.ws.send(Buffer.from('{not json'));
  const badEnd = await finished(bad);
  assert.match(badEnd.result.reason, /decode call/);
});

t('non-zero exit is rejected and stderr is part of the output', async (ctx) => {
  const rec = await powSocket(ctx);
  call(rec, 'fail');
  const end = await finished(rec);
  assert.equal(end.result, { status: 'rejected', reason: 'exited with code 3' });
  assert.is(end.output, 'oops\n');
});

t('an action timeout cancels the process', async (ctx) => {
  const rec = await powSocket(ctx);
  call(rec, 'slow');
  const end = await finished(rec);
  assert.is(end.result.status, 'rejected');
  assert.match(end.result.reason, /timed out after 500 ms/);
});

t('closed input: the program sees EOF after everything sent before; later input is ignored', async (ctx) => {
  const rec = await powSocket(ctx);
  call(rec, 'stdin-count');
  rec.ws.send('abc');
  rec.ws.send('de');
  signal(rec, 'close');
  rec.ws.send('ignored');
  const end = await finished(rec);
  assert.is(end.output.trim(), '5');
  assert.is(end.result.status, 'fulfilled');
});

function groupAlive(pgid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') pids.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

t('cancel mid-stream kills the whole process tree', async (ctx) => {
  const rec = await powSocket(ctx);
  call(rec, 'tree');
  await waitFor('started', () => rec.text().includes('started'));
  const running = await ctx.api.request('GET', `/api/devices/${ctx.deviceId}/processes`);
  const proc = running.body.find((p: { title: string }) => p.title === 'tree');
  assert.ok(proc, 'view_running lists the action');
  await waitFor('children forked', () => groupAlive(proc.pid).length >= 3);
  signal(rec, 'cancel');
  const end = await finished(rec);
  assert.equal(end.result, { status: 'rejected', reason: 'client requested cancellation' });
  await waitFor('group gone', () => groupAlive(proc.pid).length === 0, 5000);
});

t('20 MB of output arrives complete and in order', async (ctx) => {
  const size = 20 * 1024 * 1024;
  const rec = await powSocket(ctx);
  call(rec, 'big', [String(size)]);
  const end = await finished(rec);
  assert.is(end.result.status, 'fulfilled');
  assert.is(end.output.length, size);
  const line = '0123456789abcdef\n';
  const expected = line.repeat(Math.ceil(size / line.length)).slice(0, size);
  assert.ok(end.output === expected, 'content identical');
});

t('the client leaving cancels the process on the device', async (ctx) => {
  const rec = await powSocket(ctx);
  call(rec, 'tree');
  await waitFor('started', () => rec.text().includes('started'));
  const proc = (await ctx.api.request('GET', `/api/devices/${ctx.deviceId}/processes`)).body.find((p: { title: string }) => p.title === 'tree');
  rec.ws.terminate();
  await waitFor('group gone', () => groupAlive(proc.pid).length === 0, 8000);
});

t('a device going offline mid-call ends the call with a rejected result, not a hang', async (ctx) => {
  const other = await execAgent(ctx.cp, ctx.api);
  const rec = await openSocket(wsUrl(ctx.cp, `/api/devices/${other.deviceId}/pow`), ctx.headers, 'pow-1');
  call(rec, 'echo');
  rec.ws.send('ping\n');
  await waitFor('echoed', () => rec.text() === 'ping\n');
  other.child.kill('SIGKILL');
  const end = await finished(rec);
  assert.is(end.result.status, 'rejected');
  assert.match(end.result.reason, /offline/);
  assert.is(end.code, 1000);
});

t.run();
