// What a new user tripped over (issue 11), as real child processes (the built dist) against a real
// control plane and a real agent: argument forms, --version/--help, and error wordings that name
// the right thing. Build first: npx tsc -b
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN_PASSWORD, AGENT_MAIN, adminApi, cleanup, createEnrollmentToken, killAllAgents, runCli, spawnAgent, startTestControlPlane, tempDir, waitFor, type Api, type TestControlPlane } from './helpers/harness.js';
import { execAgent } from './remote-exec/fixtures.js';
import { havePromtool, promtoolCheck } from './helpers/promtool.js';

interface Ctx {
  cp: TestControlPlane;
  api: Api;
  deviceId: string;
  config: string;
  dirs: string[];
}
const t = suite<Ctx>('cli papercuts');

function agentCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [AGENT_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

t.before(async (ctx) => {
  ctx.dirs = [];
  ctx.cp = await startTestControlPlane();
  ctx.api = await adminApi(ctx.cp);
  const noEngine = await tempDir('edgehook-no-engine-');
  ctx.dirs.push(noEngine);
  // Actions declared, and a Docker socket path where no engine listens.
  ctx.deviceId = (await execAgent(ctx.cp, ctx.api, { pty: 'simulated', extraArgs: ['--docker-socket', join(noEngine, 'docker.sock')] })).deviceId;
  ctx.config = await tempDir('edgehook-cli-');
  ctx.dirs.push(ctx.config);
  const res = await runCli(ctx.config, ['login', '--server', ctx.cp.url, '--username', 'admin'], { EDGEHOOK_PASSWORD: ADMIN_PASSWORD });
  assert.is(res.code, 0, res.stderr);
});
t.after(async (ctx) => {
  await killAllAgents();
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir, ...ctx.dirs);
});

t('--version on both programs; edgehook --help lists the commands only; edgehook-agent --help exits 0', async (ctx) => {
  const v = await runCli(ctx.config, ['--version']);
  assert.is(v.code, 0, v.stderr);
  assert.match(v.stdout, /^edgehook \d+\.\d+\.\d+\n$/);
  const av = await agentCli(['--version']);
  assert.is(av.code, 0, av.stderr);
  assert.match(av.stdout, /^edgehook-agent \d+\.\d+\.\d+\n$/);
  const help = await runCli(ctx.config, ['--help']);
  assert.is(help.code, 0);
  assert.match(help.stdout, '  telemetry');
  assert.not.match(help.stdout, 'Usage: edgehook serve', 'the serve flags are not appended');
  const serveHelp = await runCli(ctx.config, ['serve', '--help']);
  assert.is(serveHelp.code, 0, serveHelp.stderr);
  assert.match(serveHelp.stdout, 'Usage: edgehook serve');
  const ah = await agentCli(['--help']);
  assert.is(ah.code, 0, ah.stderr);
  assert.match(ah.stdout, 'Usage: edgehook-agent');
});

t('relative times and negative numbers are accepted as separate arguments', async (ctx) => {
  await waitFor('telemetry from the agent', async () => ((await ctx.api.request('GET', `/api/devices/${ctx.deviceId}/telemetry/metrics`)).body?.metrics?.length ?? 0) > 0, 20_000);
  const since = await runCli(ctx.config, ['telemetry', ctx.deviceId, 'cpu', '--since', '-1h', '--json']);
  assert.is(since.code, 0, since.stderr);
  assert.is(JSON.parse(since.stdout).metric, 'cpu.usage');
  const window = await runCli(ctx.config, ['telemetry', ctx.deviceId, 'cpu', '--since', '-2h', '--until', '-1h', '--step', '5m', '--json']);
  assert.is(window.code, 0, window.stderr);
  const res = JSON.parse(window.stdout);
  assert.is(res.step, 300_000);
  assert.ok(Array.isArray(res.series));
  // A negative count reaches the command's own check (not the parser's "ambiguous").
  const ping = await runCli(ctx.config, ['ping', ctx.deviceId, '--count', '-1']);
  assert.is(ping.code, 2);
  assert.match(ping.stderr, '--count must be a whole number from 1 to 10000, got "-1"');
  assert.not.match(ping.stderr, 'ambiguous');
  const watch = await runCli(ctx.config, ['watch', ctx.deviceId, '--count', '-3']);
  assert.is(watch.code, 2);
  assert.not.match(watch.stderr, 'ambiguous');
});

t("both Prometheus export endpoints pass promtool with a real agent's metrics", async (ctx) => {
  await waitFor('memory and network telemetry', async () => {
    const metrics: Array<{ metric: string }> = (await ctx.api.request('GET', `/api/devices/${ctx.deviceId}/telemetry/metrics`)).body?.metrics ?? [];
    return ['mem.total', 'net.rx_bytes', 'load.1'].every((m) => metrics.some((x) => x.metric === m));
  }, 30_000);
  for (const path of ['/api/export/prometheus/metrics', `/api/devices/${ctx.deviceId}/export/prometheus/metrics`]) {
    const res = await ctx.api.request('GET', path);
    assert.is(res.status, 200, path);
    const text = String(res.body);
    assert.match(text, /^edgehook_mem_size_bytes\{/m);
    assert.not.match(text, /^edgehook_mem_total\b/m);
    if (havePromtool()) {
      const checked = await promtoolCheck(text);
      assert.is(checked.code, 0, `${path}: promtool check metrics: ${checked.output}\n${text}`);
    }
  }
});

t('error wording names the thing the user typed', async (ctx) => {
  const kill = await runCli(ctx.config, ['kill', ctx.deviceId, 'abc']);
  assert.is(kill.code, 2);
  assert.match(kill.stderr, '<pid> must be a whole number');
  assert.not.match(kill.stderr, '--pid');
  const since = await runCli(ctx.config, ['telemetry', ctx.deviceId, 'cpu', '--since', '15m']);
  assert.is(since.code, 2);
  assert.match(since.stderr, '--since must be now, a relative time like -1h');
  assert.match(since.stderr, 'did you mean -15m');
  assert.not.match(since.stderr, 'from must be');
  const until = await runCli(ctx.config, ['telemetry', ctx.deviceId, 'cpu', '--until', 'yesterday']);
  assert.is(until.code, 2);
  assert.match(until.stderr, '--until must be');
});

t('login --server https:// against a plain-HTTP server says the server speaks plain HTTP', async (ctx) => {
  const dir = await tempDir('edgehook-cli-');
  ctx.dirs.push(dir);
  const res = await runCli(dir, ['login', '--server', ctx.cp.url.replace('http://', 'https://'), '--username', 'admin'], { EDGEHOOK_PASSWORD: ADMIN_PASSWORD });
  assert.is(res.code, 1);
  assert.match(res.stderr, 'speaks plain HTTP');
  assert.not.match(res.stderr, 'certificate');
});

t('devices: LAST SEEN is "now" for an online device', async (ctx) => {
  const res = await runCli(ctx.config, ['devices']);
  assert.is(res.code, 0, res.stderr);
  const row = res.stdout.split('\n').find((l) => l.includes(ctx.deviceId)) ?? '';
  assert.match(row, /\bonline\s+now\b/, row);
});

t('exec of an undeclared action lists the declared ones', async (ctx) => {
  const res = await runCli(ctx.config, ['exec', ctx.deviceId, 'nosuch', '--no-stdin']);
  assert.is(res.code, 1);
  assert.match(res.stderr, 'unknown process "nosuch"; declared actions: echo, big, tree');
});

t('no container engine: cp and containers say --docker-socket is an agent flag', async (ctx) => {
  const cp = await runCli(ctx.config, ['cp', `${ctx.deviceId}:web:/config.yml`, '-']);
  assert.is(cp.code, 1);
  assert.match(cp.stderr, 'no such socket');
  assert.match(cp.stderr, 'start the agent with --docker-socket PATH (an edgehook-agent flag, on the device)');
  assert.not.match(cp.stderr, 'no data directory');
  const list = await runCli(ctx.config, ['containers', ctx.deviceId]);
  assert.is(list.code, 1);
  assert.match(list.stderr, 'an edgehook-agent flag');
});

t('edgehook-agent --profile with an unknown id lists the valid ids', async () => {
  const dir = await tempDir('edgehook-agent-');
  const res = await agentCli(['--state-dir', dir, '--profile', 'raspberry-pi-9']);
  await cleanup(dir);
  assert.is(res.code, 2);
  assert.match(res.stderr, 'unknown board profile "raspberry-pi-9" (--profile); known profiles: ');
  assert.match(res.stderr, 'raspberry-pi-4b');
  assert.match(res.stderr, 'generic-linux');
});

t('the agent reconnect log names the error and never prints error=undefined', async (ctx) => {
  const cp = await startTestControlPlane();
  const api = await adminApi(cp);
  const stateDir = await tempDir('edgehook-agent-');
  ctx.dirs.push(stateDir, cp.dataDir);
  const agent = spawnAgent({ server: cp.url, token: await createEnrollmentToken(api), stateDir, hostname: 'reconnects', extraArgs: ['--log-format', 'pretty', '--telemetry-port', 'off'] });
  await agent.waitForOutput(/connected to the control plane/, 20_000);
  await cp.close();
  // Refused connections while the broker is down: the reason is in the log line.
  await agent.waitForOutput(/disconnected from the control plane.*\n(.|\n)*disconnected from the control plane.*ECONNREFUSED/, 30_000);
  const lines = agent.output().split('\n').filter((l) => l.includes('disconnected from the control plane'));
  assert.ok(lines.length >= 2, agent.output());
  for (const line of lines) assert.not.match(line, 'undefined');
  await agent.stop();
});

t.run();
