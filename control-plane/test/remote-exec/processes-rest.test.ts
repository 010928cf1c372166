import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminApi, apiClient, cleanup, killAllAgents, login, startTestControlPlane, waitFor, type Api, type TestControlPlane } from '../helpers/harness.js';
import { execAgent, openSocket, TEST_ACTIONS, wsUrl } from './fixtures.js';
import { userWith } from '../hardware/kvm-helpers.js';

const t = suite<{ cp: TestControlPlane; api: Api; deviceId: string }>('processes: pow-1 REST mirror, Quix execute/view_running/proc_signal, exec socket');

t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane();
  ctx.api = await adminApi(ctx.cp);
  ctx.deviceId = (await execAgent(ctx.cp, ctx.api)).deviceId;
});
t.after(async (ctx) => {
  await killAllAgents();
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir);
});

t('pow REST: new returns an id string; input, closeInput, status with buffer and result', async ({ api, deviceId }) => {
  const base = `/api/devices/${deviceId}/pow`;
  const created = await api.request('POST', `${base}/new`, { call: 'echo', params: ['x', 'y'] });
  assert.is(created.status, 200);
  assert.type(created.body, 'string');
  const id = created.body as string;
  const pending = await api.request('GET', `${base}/status/${id}`);
  assert.equal(pending.body.result, { status: 'pending' });
  const input = await api.request('POST', `${base}/input/${id}`, 'line one\n', { 'content-type': 'text/plain' });
  assert.is(input.status, 200);
  await waitFor('buffered', async () => (await api.request('GET', `${base}/status/${id}`)).body.buffer === 'line one\n');
  assert.is((await api.request('POST', `${base}/closeInput/${id}`)).status, 200);
  const done = await waitFor('fulfilled', async () => {
    const s = await api.request('GET', `${base}/status/${id}`);
    return s.body.result.status !== 'pending' ? s.body : undefined;
  });
  assert.equal(done, { result: { status: 'fulfilled', value: ['x', 'y'] }, buffer: 'line one\n' });
});

t('pow REST: cancel, unknown ids and unknown calls', async ({ api, deviceId }) => {
  const base = `/api/devices/${deviceId}/pow`;
  const id = (await api.request('POST', `${base}/new`, { call: 'tree' })).body as string;
  assert.is((await api.request('POST', `${base}/cancel/${id}`)).status, 200);
  const done = await waitFor('rejected', async () => {
    const s = await api.request('GET', `${base}/status/${id}`);
    return s.body.result.status === 'rejected' ? s.body : undefined;
  });
  // The Go server's words: proto.ErrCancelClientRequest.
  assert.is(done.result.reason, 'client requested cancellation');
  const missing = await api.request('GET', `${base}/status/nope`);
  assert.is(missing.status, 404);
  assert.match(missing.headers.get('content-type') ?? '', /^text\/plain/, 'errors are text/plain, as its openapi.json says');
  assert.match(missing.body, /not found\n$/);
  // An unknown process (or invalid params) still gets an id; its status is rejected.
  for (const [call, params, why] of [['no-such', [], /^failed to get process: unknown process/], ['big', ['not-a-number'], /^failed to get process: .*does not match/]] as const) {
    const created = await api.request('POST', `${base}/new`, { call, params });
    assert.is(created.status, 200);
    assert.type(created.body, 'string');
    const status = await api.request('GET', `${base}/status/${created.body}`);
    assert.is(status.status, 200);
    assert.is(status.body.result.status, 'rejected');
    assert.match(status.body.result.reason, why);
    assert.is(status.body.buffer, undefined, 'an empty buffer is left out (omitempty)');
    assert.is((await api.request('POST', `${base}/cancel/${created.body}`)).status, 200);
    assert.is((await api.request('POST', `${base}/input/${created.body}`, 'x', { 'content-type': 'text/plain' })).status, 500);
  }
  const undecodable = await api.request('POST', `${base}/new`, '{not json', { 'content-type': 'application/json' });
  assert.is(undecodable.status, 400);
  assert.match(undecodable.headers.get('content-type') ?? '', /^text\/plain/);
  assert.match(undecodable.body, /^failed to decode call message/);
  assert.is((await api.request('POST', `${base}/new`, { params: [] })).status, 400);
});

t('pow REST: actions lists the declared actions with their params, never their command; needs devices.exec', async ({ cp, api, deviceId }) => {
  const res = await api.request('GET', `/api/devices/${deviceId}/pow/actions`);
  assert.is(res.status, 200);
  const list = res.body as Array<Record<string, unknown>>;
  assert.equal(list.map((a) => a.name), TEST_ACTIONS.actions.map((a) => a.name));
  assert.equal(list.find((a) => a.name === 'big'), { name: 'big', params: { min: 1, max: 1, pattern: '[0-9]{1,9}' } });
  assert.equal(list.find((a) => a.name === 'slow'), { name: 'slow', params: { min: 0, max: 16 }, timeoutMs: 500 });
  assert.not.match(JSON.stringify(list), /command|sleep 300|yes 0123/);
  const viewer = await userWith(api, 'actions-viewer', ['devices.read']);
  const token = (await login(cp.url, viewer.user, viewer.pass)).accessToken;
  assert.is((await apiClient(cp.url, token).request('GET', `/api/devices/${deviceId}/pow/actions`)).status, 403);
  assert.is((await api.request('GET', '/api/devices/00000000-0000-4000-8000-000000000000/pow/actions')).status, 404);
});

t('Quix execute (argv, no shell), view_running with listening ports, proc_signal; foreign pids refused', async ({ api, deviceId }) => {
  const base = `/api/devices/${deviceId}/processes`;
  const started = await api.request('POST', base, { cmd: ['sh', '-c', 'echo "$0 $1"; sleep 30', 'a;b', '$(x)'] });
  assert.is(started.status, 201);
  assert.is(started.body.result, 'success');
  const pid = started.body.proc_id as number;
  await waitFor('output', async () => (await api.request('GET', `${base}/${started.body.id}`)).body.buffer === 'a;b $(x)\n');

  const listener = await api.request('POST', `/api/devices/${deviceId}/pow/new`, { call: 'listen' });
  const port = Number(
    /port (\d+)/.exec((await waitFor('port printed', async () => (await api.request('GET', `/api/devices/${deviceId}/pow/status/${listener.body}`)).body.buffer.match(/port \d+/)?.[0])))?.[1],
  );
  const list = await api.request('GET', base);
  assert.is(list.status, 200);
  const sleeper = list.body.find((p: { pid: number }) => p.pid === pid);
  assert.ok(sleeper);
  assert.is(sleeper.reqc, 'sh -c echo "$0 $1"; sleep 30 a;b $(x)');
  assert.type(sleeper.cpu_util, 'number');
  assert.ok(sleeper.mem_util > 0);
  const server = list.body.find((p: { title: string }) => p.title === 'listen');
  assert.equal(server.port_util, [port]);

  // Only what the agent started: our own test process and pid 1 are refused.
  for (const foreign of [process.pid, 1]) {
    const refused = await api.request('POST', `${base}/signal`, { pid: foreign, mode: 'SIGKILL' });
    assert.is(refused.status, 403);
  }
  assert.is((await api.request('POST', `${base}/signal`, { pid, mode: 'SIGSTOP' })).status, 400);
  assert.equal((await api.request('POST', `${base}/signal`, { pid, mode: 'SIGTERM' })).body, { result: 'success' });
  const status = await waitFor('terminated', async () => {
    const s = await api.request('GET', `${base}/${started.body.id}`);
    return s.body.result.status === 'rejected' ? s.body : undefined;
  });
  assert.is(status.result.signal, 'SIGTERM');
  assert.is((await api.request('POST', `${base}/signal`, { pid: server.pid, mode: 'SIGINT' })).status, 200);
  await waitFor('listener gone', async () => !(await api.request('GET', base)).body.some((p: { pid: number }) => p.pid === server.pid));
});

t('exec socket: byte-exact stdin/stdout, stderr apart, exit code in the result', async ({ cp, api, deviceId }) => {
  const rec = await openSocket(wsUrl(cp, `/api/devices/${deviceId}/exec`), { authorization: `Bearer ${api.token}` });
  rec.ws.send(JSON.stringify({ type: 'open', argv: ['sh', '-c', 'cat; echo err >&2; exit 7'] }));
  const bytes = Buffer.from([0, 1, 2, 255, 254, 0xc3, 10]);
  rec.ws.send(bytes);
  rec.ws.send(JSON.stringify({ type: 'close-input' }));
  await rec.closed;
  const stdout = Buffer.concat(rec.frames.filter((f) => f.binary && f.data[0] === 1).map((f) => f.data.subarray(1)));
  const stderr = Buffer.concat(rec.frames.filter((f) => f.binary && f.data[0] === 2).map((f) => f.data.subarray(1)));
  assert.ok(stdout.equals(bytes));
  assert.is(stderr.toString(), 'err\n');
  const end = rec.frames.filter((f) => !f.binary).map((f) => JSON.parse(f.data.toString())).find((m) => m.type === 'end');
  assert.is(end.result.exitCode, 7);
});

t('exec socket: 20 MB through stdin and back intact', async ({ cp, api, deviceId }) => {
  const rec = await openSocket(wsUrl(cp, `/api/devices/${deviceId}/exec`), { authorization: `Bearer ${api.token}` });
  rec.ws.send(JSON.stringify({ type: 'open', argv: ['cat'] }));
  const input = Buffer.alloc(20 * 1024 * 1024);
  for (let i = 0; i < input.length; i += 4) input.writeUInt32LE(i, i);
  for (let off = 0; off < input.length; off += 256 * 1024) rec.ws.send(input.subarray(off, off + 256 * 1024));
  rec.ws.send(JSON.stringify({ type: 'close-input' }));
  await rec.closed;
  const out = Buffer.concat(rec.frames.filter((f) => f.binary).map((f) => f.data.subarray(1)));
  assert.is(out.length, input.length);
  assert.ok(out.equals(input));
});

t.run();
