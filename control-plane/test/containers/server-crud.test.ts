// Declared servers one at a time: REST (POST /servers, GET|PUT|DELETE /servers/:name, ?dryRun)
// and `edgehook server create|edit|rm|ls` (the built CLI), against a real agent on the simulated engine.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN_PASSWORD, adminApi, cleanup, killAllAgents, runCli, startTestControlPlane, tempDir, type AgentProcess, type Api, type TestControlPlane } from '../helpers/harness.js';
import { containerAgent } from './fixtures.js';

interface Ctx { cp: TestControlPlane; api: Api; sim: AgentProcess & { deviceId: string }; config: string }
const t = suite<Ctx>('declared servers: create, edit, remove (REST and CLI)');

t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane();
  ctx.api = await adminApi(ctx.cp);
  ctx.sim = await containerAgent(ctx.cp, ctx.api, 'simulated', 'crud-sim');
  ctx.config = await tempDir('edgehook-cli-');
  const login = await runCli(ctx.config, ['login', '--server', ctx.cp.url, '--username', 'admin'], { EDGEHOOK_PASSWORD: ADMIN_PASSWORD });
  if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
});
t.after(async (ctx) => {
  await killAllAgents();
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir, ctx.config);
});

t('REST: dry run plans without storing; create applies; a second create of the name is 409; edit recreates; delete removes', async ({ api, sim }) => {
  const base = `/api/devices/${sim.deviceId}/servers`;
  const dry = await api.request('POST', `${base}?dryRun=true`, { name: 'web', image: 'sim/echo', ports: [{ host: 18080, container: 80 }] });
  assert.is(dry.status, 200, JSON.stringify(dry.body));
  assert.equal(dry.body.plan, [{ action: 'create', server: 'web' }, { action: 'start', server: 'web' }]);
  assert.is((await api.request('GET', base)).body.revision, 0, 'a dry run stores nothing');

  const created = await api.request('POST', base, { name: 'web', image: 'sim/echo', env: { A: '1' } });
  assert.is(created.status, 201, JSON.stringify(created.body));
  assert.ok(created.body.apply.ok);
  assert.is((await api.request('GET', `${base}/web`)).body.env.A, '1');
  assert.is((await api.request('GET', `/api/devices/${sim.deviceId}/containers/web`)).body.power, 'running');
  assert.is((await api.request('POST', base, { name: 'web', image: 'sim/echo' })).status, 409);

  const planEdit = await api.request('PUT', `${base}/web?dryRun=1`, { name: 'web', image: 'sim/echo', env: { A: '2' } });
  assert.is(planEdit.body.plan[0].action, 'recreate');
  const edited = await api.request('PUT', `${base}/web`, { name: 'web', image: 'sim/echo', env: { A: '2' }, desired: 'stopped' });
  assert.is(edited.status, 200, JSON.stringify(edited.body));
  assert.is((await api.request('GET', `/api/devices/${sim.deviceId}/containers/web`)).body.power, 'offline');
  assert.is((await api.request('PUT', `${base}/web`, { name: 'other', image: 'sim/echo' })).status, 400, 'no renames');
  assert.is((await api.request('PUT', `${base}/nope`, { name: 'nope', image: 'sim/echo' })).status, 404);
  const bad = await api.request('POST', base, { name: 'Bad Name', image: 'x' });
  assert.is(bad.status, 400);
  assert.match(bad.body.error.message, /name/);

  const removed = await api.request('DELETE', `${base}/web`);
  assert.is(removed.status, 200);
  assert.equal(removed.body.servers, []);
  assert.is((await api.request('GET', `/api/devices/${sim.deviceId}/containers/web`)).status, 404);
  assert.is((await api.request('GET', `${base}/web`)).status, 404);
});

t('CLI: create from flags and from a YAML file, edit flags over the current spec, dry run, ls, rm; bad flags are usage errors', async ({ config, sim, api }) => {
  const cli = (...args: string[]) => runCli(config, args);
  const created = await cli('server', 'create', 'crud-sim', 'app', '--image', 'sim/echo', '--port', '18081:80/udp', '--env', 'MODE=prod', '--memory', '64m', '--restart', 'unless-stopped', '--', 'serve', '--fast');
  assert.is(created.code, 0, created.stderr);
  assert.match(created.stdout, /server app created \(revision \d+\)\n {2}ok {3}create app\n {2}ok {3}start app/);
  const spec = (await api.request('GET', `/api/devices/${sim.deviceId}/servers/app`)).body;
  assert.equal(spec.ports, [{ host: 18081, container: 80, protocol: 'udp' }]);
  assert.equal(spec.cmd, ['serve', '--fast']);
  assert.is(spec.memoryBytes, 64 * 1024 * 1024);

  const file = join(config, 'db.yaml');
  await writeFile(file, 'image: sim/echo\nenv:\n  ROLE: db\nrestartPolicy: always\ndesired: stopped\n');
  const fromFile = await cli('server', 'create', 'crud-sim', 'db', '--file', file);
  assert.is(fromFile.code, 0, fromFile.stderr);
  assert.is((await api.request('GET', `/api/devices/${sim.deviceId}/servers/db`)).body.restartPolicy, 'always');

  const dry = await cli('server', 'edit', 'crud-sim', 'app', '--env', 'MODE=dev', '--dry-run');
  assert.is(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /dry run, the device would:\n {2}recreate app/);
  assert.is((await api.request('GET', `/api/devices/${sim.deviceId}/servers/app`)).body.env.MODE, 'prod');
  const edit = await cli('server', 'edit', 'crud-sim', 'app', '--env', 'MODE=dev', '--unset-env', 'NOPE');
  assert.is(edit.code, 0, edit.stderr);
  const after = (await api.request('GET', `/api/devices/${sim.deviceId}/servers/app`)).body;
  assert.is(after.env.MODE, 'dev');
  assert.equal(after.cmd, ['serve', '--fast'], 'what the flags do not name stays');

  const ls = await cli('server', 'ls', 'crud-sim');
  assert.match(ls.stdout, /NAME +IMAGE +DESIRED +PORTS +RESTART/);
  assert.match(ls.stdout, /app +sim\/echo +running +18081->80\/udp +unless-stopped/);
  assert.match(ls.stdout, /db +sim\/echo +stopped/);

  for (const [args, why] of [
    [['server', 'create', 'crud-sim', 'x', '--port', '80'], /--port takes HOST:CONTAINER/],
    [['server', 'create', 'crud-sim', 'x'], /invalid server spec: .*image/],
    [['server', 'create', 'crud-sim', 'x', '--image', 'i', '--memory', 'lots'], /--memory takes a size/],
    [['server', 'create', 'crud-sim', 'x', '--file', join(config, 'missing.yaml')], /cannot read/],
    [['server', 'fly', 'crud-sim', 'x'], /unknown action "fly"/],
  ] as const) {
    const r = await cli(...args);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, why);
  }
  const taken = await cli('server', 'create', 'crud-sim', 'app', '--image', 'sim/echo');
  assert.is(taken.code, 1);
  assert.match(taken.stderr, /already declared/);

  assert.is((await cli('server', 'rm', 'crud-sim', 'db')).code, 0);
  assert.is((await cli('server', 'rm', 'crud-sim', 'app')).code, 0);
  assert.match((await cli('server', 'ls', 'crud-sim')).stdout, /no declared servers on crud-sim/);
});

t('CLI: an image the device pulls prints its progress (layers, bytes) while the apply runs, then the outcome; a failed pull says why', async ({ config, sim, api }) => {
  const cli = (...args: string[]) => runCli(config, args);
  // The simulated engine pulls registry.simulated/* from its simulated registry, in three layers over ~1 s.
  const image = 'registry.simulated/demo/web:1';
  const created = await cli('server', 'create', 'crud-sim', 'pulled', '--image', image);
  assert.is(created.code, 0, created.stderr);
  const lines = created.stdout.split('\n');
  const pulling = lines.findIndex((l) => /^pulling registry\.simulated\/demo\/web:1: [0-3]\/3 layers, \d+\.\d\/\d+\.\d MB$/.test(l));
  const pulled = lines.findIndex((l) => /^pulled registry\.simulated\/demo\/web:1: 3\/3 layers, (\d+\.\d)\/\1 MB$/.test(l));
  const outcome = lines.findIndex((l) => /^server pulled created/.test(l));
  assert.ok(pulling >= 0 && pulled > pulling && outcome > pulled, created.stdout);
  assert.match(created.stdout, /ok {3}create pulled/);
  // --json is unaffected: the answer only.
  const json = await cli('server', 'edit', 'crud-sim', 'pulled', '--env', 'A=1', '--json');
  assert.is(json.code, 0, json.stderr);
  assert.ok(JSON.parse(json.stdout).apply.ok);

  const failed = await cli('server', 'create', 'crud-sim', 'nopull', '--image', 'registry.simulated/demo/missing:1');
  assert.is(failed.code, 1);
  assert.match(failed.stdout, /pull failed registry\.simulated\/demo\/missing:1: .*manifest unknown/);
  assert.match(failed.stdout, /FAIL create nopull/);
  assert.is((await cli('server', 'rm', 'crud-sim', 'nopull')).code, 0);
  assert.is((await cli('server', 'rm', 'crud-sim', 'pulled')).code, 0);
  assert.is((await api.request('GET', `/api/devices/${sim.deviceId}/servers`)).body.servers.length, 0);
});

t.run();
