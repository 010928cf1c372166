import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { adminApi, ADMIN_PASSWORD, apiClient, cleanup, killAllAgents, login, runCli, startTestControlPlane, tempDir, waitFor, type Api, type TestControlPlane } from '../helpers/harness.js';
import { finished, jobAgent, marks, restartAgent, statuses, type JobAgent } from './fixtures.js';

// Jobs over real agents: three devices tagged `lab` (job-c also `edge`), one control plane.
const s = suite<{ cp: TestControlPlane; api: Api; agents: JobAgent[]; config: string }>('jobs');

s.before(async (ctx) => {
  ctx.cp = await startTestControlPlane();
  ctx.api = await adminApi(ctx.cp);
  ctx.agents = [];
  for (const [name, tags] of [['job-a', ['lab']], ['job-b', ['lab']], ['job-c', ['lab', 'edge']]] as const) ctx.agents.push(await jobAgent(ctx.cp, ctx.api, name, [...tags]));
  ctx.config = await tempDir('edgehook-job-cli-');
  const res = await runCli(ctx.config, ['login', '--server', ctx.cp.url, '--username', 'admin'], { EDGEHOOK_PASSWORD: ADMIN_PASSWORD });
  assert.is(res.code, 0, res.stderr);
});

s.after(async (ctx) => {
  await killAllAgents();
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir, ctx.config, ...ctx.agents.map((a) => a.stateDir));
});

const actionJob = (call: string, params: string[], rollout: Record<string, unknown> = {}, select: Record<string, unknown> = { tags: ['lab'] }) => ({ operation: { kind: 'action', spec: { call, params } }, select, rollout });

s('an action job runs once on every selected device, batch by batch, with progress on /api/events', async ({ cp, api, agents }) => {
  const ws = new WebSocket(cp.url.replace('http', 'ws') + '/api/events', { headers: { authorization: `Bearer ${api.token}` } });
  const events: any[] = [];
  ws.on('message', (d) => events.push(JSON.parse(String(d))));
  await new Promise((resolve) => ws.once('open', resolve));
  const created = await api.request('POST', '/api/jobs', actionJob('mark', ['one'], { batch: '33%' }));
  assert.is(created.status, 201, JSON.stringify(created.body));
  assert.is(created.body.batches, 3, '33% of 3 devices is one per batch');
  assert.equal(created.body.devices.map((d: any) => d.batch), [0, 1, 2]);
  const job = await finished(api, created.body.id);
  assert.is(job.state, 'succeeded');
  assert.equal(statuses(job), { 'job-a': 'succeeded', 'job-b': 'succeeded', 'job-c': 'succeeded' });
  for (const d of job.devices) {
    assert.is(d.exitCode, 0);
    assert.match(d.output, 'marked one');
  }
  // Batches in order: each device started after the one before it had finished.
  const [a, b, c] = job.devices;
  assert.ok(a.finishedAt <= b.startedAt && b.finishedAt <= c.startedAt, JSON.stringify(job.devices));
  for (const agent of agents) assert.is(await marks(agent, 'one'), 1, `${agent.name} ran it once`);
  await waitFor('the final job event', () => events.find((e) => e.type === 'job.updated' && e.jobId === job.id && e.state === 'succeeded'));
  ws.close();
  const listed = await api.request('GET', '/api/jobs');
  assert.ok(listed.body.some((j: any) => j.id === job.id && j.counts.succeeded === 3));
});

s('a device that goes offline mid-job runs it once when it returns', async (ctx) => {
  const { cp, api } = ctx;
  const created = await api.request('POST', '/api/jobs', actionJob('mark', ['two'], { batch: 1, pauseMs: 2000 }));
  assert.is(created.status, 201, JSON.stringify(created.body));
  const c = ctx.agents[2]!;
  await c.stop();
  await waitFor('job-c waiting', async () => statuses((await api.request('GET', `/api/jobs/${created.body.id}`)).body)['job-c'] === 'waiting', 20_000, 100);
  const meanwhile = (await api.request('GET', `/api/jobs/${created.body.id}`)).body;
  assert.is(meanwhile.finishedAt, null, 'the job waits for the offline device');
  assert.is(statuses(meanwhile)['job-a'], 'succeeded');
  ctx.agents[2] = await restartAgent(cp, api, c);
  const job = await finished(api, created.body.id);
  assert.is(job.state, 'succeeded');
  for (const agent of ctx.agents) assert.is(await marks(agent, 'two'), 1, `${agent.name} ran it once`);
});

s('a run past its timeout is cancelled and timed out; an offline device past the expiry is timed out', async (ctx) => {
  const { api, cp } = ctx;
  const slow = await api.request('POST', '/api/jobs', actionJob('hold', [], { timeoutMs: 500 }, { names: ['job-a'] }));
  const timed = await finished(api, slow.body.id);
  assert.is(timed.state, 'failed');
  assert.is(timed.devices[0].status, 'timed-out');
  assert.match(timed.devices[0].message, 'still running after 500 ms');
  const c = ctx.agents[2]!;
  await c.stop();
  await waitFor('job-c offline', async () => (await api.request('GET', `/api/devices/${c.deviceId}`)).body.online === false, 10_000);
  const expiring = await api.request('POST', '/api/jobs', actionJob('mark', ['late'], { expiresInMs: 1500 }, { names: ['job-c'] }));
  const expired = await finished(api, expiring.body.id);
  assert.equal([expired.state, expired.devices[0].status], ['failed', 'timed-out']);
  assert.match(expired.devices[0].message, 'expired before the device ran it');
  ctx.agents[2] = await restartAgent(cp, api, c);
  assert.is(await marks(c, 'late'), 0, 'an expired job never runs');
});

s('cancel: devices that have not started never do', async ({ api }) => {
  const created = await api.request('POST', '/api/jobs', actionJob('hold', [], { batch: 1 }));
  await waitFor('the first device running', async () => (await api.request('GET', `/api/jobs/${created.body.id}`)).body.counts.running === 1, 10_000, 50);
  const cancelled = await api.request('POST', `/api/jobs/${created.body.id}/cancel`);
  assert.is(cancelled.status, 200, JSON.stringify(cancelled.body));
  assert.is(cancelled.body.state, 'cancelled');
  const job = await finished(api, created.body.id);
  assert.is(job.state, 'cancelled');
  assert.equal(statuses(job), { 'job-a': 'succeeded', 'job-b': 'cancelled', 'job-c': 'cancelled' });
  assert.is((await api.request('POST', `/api/jobs/${created.body.id}/cancel`)).status, 409, 'a finished job cannot be cancelled');
  const audit = await api.request('GET', '/api/audit?action=jobs.*');
  assert.ok(audit.body.entries.some((e: any) => e.action === 'jobs.cancel' && e.target === created.body.id), 'the cancel is audited');
  assert.ok(audit.body.entries.some((e: any) => e.action === 'jobs.start'), 'starts are audited');
});

s('threshold abort (CLI): one failure stops the rollout; the CLI exits non-zero', async ({ config, api }) => {
  const res = await runCli(config, ['job', 'run', '--tag', 'lab', '--batch', '1', '--abort-after', '1', '--', 'fail']);
  assert.is(res.code, 1, res.stdout + res.stderr);
  assert.match(res.stdout, /job-a\s+1\s+failed\s+3\s+exited with code 3/);
  assert.match(res.stdout, 'aborted');
  const [latest] = (await api.request('GET', '/api/jobs?limit=1')).body;
  const job = (await api.request('GET', `/api/jobs/${latest.id}`)).body;
  assert.is(job.state, 'aborted');
  assert.equal(statuses(job), { 'job-a': 'failed', 'job-b': 'cancelled', 'job-c': 'cancelled' });
  assert.match(job.devices[0].output, 'oops');
  const shown = await runCli(config, ['job', 'show', latest.id, '--json']);
  assert.is(shown.code, 0, shown.stderr);
  assert.is(JSON.parse(shown.stdout).state, 'aborted');
  const ls = await runCli(config, ['job', 'ls']);
  assert.match(ls.stdout, latest.id);
});

s('CLI: a job on a tag streams its devices and exits 0 when all succeed', async ({ config, agents }) => {
  const res = await runCli(config, ['job', 'run', '--tag', 'edge', '--', 'mark', 'three']);
  assert.is(res.code, 0, res.stdout + res.stderr);
  assert.match(res.stdout, /job-c\s+1\s+succeeded\s+0/);
  assert.is(await marks(agents[2]!, 'three'), 1);
  assert.is(await marks(agents[0]!, 'three'), 0, 'only the selected device');
  const raw = await runCli(config, ['job', 'run', '--name', 'job-a', '--raw', '--', 'echo', 'raw-ok']);
  assert.is(raw.code, 0, raw.stdout + raw.stderr);
  assert.match(raw.stdout, /job-a\s+1\s+succeeded\s+0\s+raw-ok/);
});

s('permissions: the command kind needs devices.exec.arbitrary; agent-update runs through the agent updater', async ({ cp, api }) => {
  const role = await api.request('POST', '/api/roles', { name: 'jobber', permissions: ['devices.read', 'devices.exec', 'jobs.run', 'jobs.read'] });
  assert.is(role.status, 201, JSON.stringify(role.body));
  const user = await api.request('POST', '/api/users', { username: 'jobber', password: 'jobber-password-1', roleId: role.body.id });
  assert.is(user.status, 201, JSON.stringify(user.body));
  const jobber = apiClient(cp.url, (await login(cp.url, 'jobber', 'jobber-password-1')).accessToken);
  const command = await jobber.request('POST', '/api/jobs', { operation: { kind: 'command', spec: { argv: ['id'] } }, select: { tags: ['lab'] } });
  assert.is(command.status, 403, JSON.stringify(command.body));
  assert.match(command.body.error.message, 'devices.exec.arbitrary');
  const action = await jobber.request('POST', '/api/jobs', actionJob('mark', ['four'], {}, { names: ['job-a'] }));
  assert.is(action.status, 201, JSON.stringify(action.body));
  assert.is((await finished(api, action.body.id)).state, 'succeeded');
  const raw = await api.request('POST', '/api/jobs', { operation: { kind: 'command', spec: { argv: ['sh', '-c', 'echo raw output; exit 4'] } }, select: { names: ['job-a'] } });
  assert.is(raw.status, 201, 'admin may run raw commands');
  const rawDone = await finished(api, raw.body.id);
  assert.equal([rawDone.devices[0].status, rawDone.devices[0].exitCode, rawDone.devices[0].output], ['failed', 4, 'raw output\n']);
  // The control plane's own updater: these agents already run the newest package, so each is done.
  const update = await api.request('POST', '/api/jobs', { operation: { kind: 'agent-update', spec: {} }, select: { tags: ['lab'] } });
  assert.is(update.status, 201, JSON.stringify(update.body));
  assert.is((await finished(api, update.body.id)).state, 'succeeded');
  const viewer = await api.request('POST', '/api/roles', { name: 'nojobs', permissions: ['devices.read'] });
  await api.request('POST', '/api/users', { username: 'nojobs', password: 'nojobs-password-1', roleId: viewer.body.id });
  const nojobs = apiClient(cp.url, (await login(cp.url, 'nojobs', 'nojobs-password-1')).accessToken);
  assert.is((await nojobs.request('GET', '/api/jobs')).status, 403);
  // Its event socket (devices.read) carries no job progress.
  const ws = new WebSocket(cp.url.replace('http', 'ws') + '/api/events', { headers: { authorization: `Bearer ${nojobs.token}` } });
  const seen: any[] = [];
  ws.on('message', (d) => seen.push(JSON.parse(String(d))));
  await waitFor('hello', () => seen.find((e) => e.type === 'hello'));
  const quick = await api.request('POST', '/api/jobs', { operation: { kind: 'config', spec: { addTags: ['seen'] } }, select: { names: ['job-b'] } });
  await finished(api, quick.body.id);
  await new Promise((r) => setTimeout(r, 600));
  ws.close();
  assert.is(seen.filter((e) => e.type === 'job.updated').length, 0, 'no job events without jobs.read');
});

s('a config job retags devices without running anything on them', async ({ api }) => {
  const created = await api.request('POST', '/api/jobs', { operation: { kind: 'config', spec: { addTags: ['retagged'] } }, select: { names: ['job-a', 'job-b'] } });
  assert.is(created.status, 201, JSON.stringify(created.body));
  assert.is((await finished(api, created.body.id)).state, 'succeeded');
  const tagged = await api.request('GET', '/api/devices?tag=retagged');
  assert.equal(tagged.body.map((d: any) => d.name).sort(), ['job-a', 'job-b']);
});

s('a servers job declares a server on each device and applies it; another removes it', async ({ api }) => {
  const put = await api.request('POST', '/api/jobs', { operation: { kind: 'servers', spec: { put: { name: 'web', image: 'sim/echo' } } }, select: { names: ['job-a', 'job-b'] } });
  assert.is(put.status, 201, JSON.stringify(put.body));
  const done = await finished(api, put.body.id);
  assert.is(done.state, 'succeeded', JSON.stringify(done.devices));
  assert.match(done.devices[0].message, /revision \d+ applied/);
  for (const name of ['job-a', 'job-b']) {
    const set = (await api.request('GET', `/api/devices/${name}/servers`)).body;
    assert.equal(set.servers.map((x: any) => x.name), ['web']);
    assert.equal([set.lastApply.revision, set.lastApply.result.ok, set.updatedBy], [set.revision, true, 'admin'], 'applied and recorded against its revision');
  }
  const rm = await api.request('POST', '/api/jobs', { operation: { kind: 'servers', spec: { remove: 'web' } }, select: { names: ['job-a'] } });
  assert.is((await finished(api, rm.body.id)).state, 'succeeded');
  assert.equal((await api.request('GET', '/api/devices/job-a/servers')).body.servers, []);
});

s('bad input: clear 400s from the API, exit 2 from the CLI', async ({ api, config }) => {
  const cases: Array<[unknown, RegExp]> = [
    [actionJob('mark', ['x'], {}, {}), /choose the devices/],
    [actionJob('mark', ['x'], { batch: '150%' }), /150% is not a percent between 1% and 100%/],
    [actionJob('mark', ['x'], {}, { tags: ['nosuch'] }), /no device has the tag "nosuch"/],
    [actionJob('mark', ['x'], {}, { names: ['ghost'] }), /unknown device "ghost"/],
    [{ operation: { kind: 'teleport', spec: {} }, select: { tags: ['lab'] } }, /kind/],
  ];
  for (const [body, message] of cases) {
    const res = await api.request('POST', '/api/jobs', body);
    assert.is(res.status, 400, JSON.stringify(res.body));
    assert.is(res.body.error.code, 'BAD_REQUEST');
    assert.match(res.body.error.message, message);
  }
  assert.is((await api.request('GET', '/api/jobs/nope')).status, 404);
  const cli: Array<[string[], RegExp]> = [
    [['job', 'run', '--', 'mark', 'x'], /choose the devices/],
    [['job', 'run', '--tag', 'lab', '--batch', '150%', '--', 'mark', 'x'], /--batch must be a count/],
    [['job', 'run', '--tag', 'nosuch', '--', 'mark', 'x'], /no device has the tag "nosuch"/],
    [['job', 'run', '--tag', 'lab'], /missing <action>/],
    [['job', 'frobnicate'], /unknown subcommand/],
    [['job', 'run', '--tag', 'lab', '--agent-update', '--', 'mark', 'x'], /--agent-update takes no command/],
  ];
  for (const [args, message] of cli) {
    const res = await runCli(config, args);
    assert.is(res.code, 2, `${args.join(' ')}: ${res.stdout}${res.stderr}`);
    assert.match(res.stderr, message);
  }
});

s.run();
