// `edgehook config get|set|watch` as a real child process against a real control plane and agent.
import { spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN_PASSWORD, CP_MAIN, adminApi, cleanup, enrolledAgent, killAllAgents, startTestControlPlane, tempDir, waitFor } from '../helpers/harness.js';

function cli(configDir: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CP_MAIN, ...args], { env: { ...process.env, EDGEHOOK_CONFIG_DIR: configDir, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => child.once('close', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr }))));
}

const cp = await startTestControlPlane();
const api = await adminApi(cp);
const dir = await tempDir('edgehook-cli-');

test("config get, set and watch the agent's own settings", async () => {
  const agent = await enrolledAgent(cp, api, { hostname: 'cfg' });
  assert.is((await cli(dir, ['login', '--server', cp.url, '--username', 'admin'], { EDGEHOOK_PASSWORD: ADMIN_PASSWORD })).code, 0);
  await waitFor('the agent scope', async () => (await api.request('GET', `/api/devices/${agent.deviceId}/configs`)).body?.scopes?.some((s: any) => s.scope === 'agent'), 15_000);
  const get = await cli(dir, ['config', 'get', 'cfg']);
  assert.is(get.code, 0, get.stderr);
  assert.match(get.stdout, /agent\/telemetry\.interval_s\s+int\s+-\s+10 \(v0\)\s+10\s+yes/);
  assert.match(get.stdout, /agent\/collectors\.disk/);

  const watch = cli(dir, ['config', 'watch', 'cfg', 'telemetry.interval_s', '--interval', '500ms', '--count', '2']);
  await new Promise((r) => setTimeout(r, 1500));
  const set = await cli(dir, ['config', 'set', 'cfg', 'telemetry.interval_s', '3', '--version', '0']);
  assert.is(set.code, 0, set.stderr);
  assert.is(set.stdout, 'agent/telemetry.interval_s = 3 (version 1, patch 1)\n');
  const watched = await watch;
  assert.is(watched.code, 0, watched.stderr);
  assert.equal(watched.stdout.trim().split('\n'), ['desired agent/telemetry.interval_s = 3 (v1, patch 1, by admin)', 'reported agent/telemetry.interval_s = 3 (v1)']);

  const one = await cli(dir, ['config', 'get', 'cfg', 'agent/telemetry.interval_s', '--json']);
  const entry = JSON.parse(one.stdout);
  assert.equal([entry.desired, entry.reported, entry.inSync], [{ value: 3, version: 1 }, { value: 3, version: 1 }, true]);

  const stale = await cli(dir, ['config', 'set', 'cfg', 'telemetry.interval_s', '4', '--version', '0']);
  assert.is(stale.code, 1);
  assert.match(stale.stderr, /at version 1, not 0/);
});

test('config: bad command lines exit 2 with a message, before any request', async () => {
  for (const [args, message] of [
    [['config', 'frob', 'cfg'], /unknown action "frob"/],
    [['config', 'set', 'cfg', 'telemetry.interval_s'], /set needs <key> and <value>/],
    [['config', 'get', 'cfg', 'Bad/x.y'], /not a config scope/],
    [['config', 'get', 'cfg', 'interval'], /not a config key/],
    [['config', 'watch', 'cfg', '--interval', 'often'], /--interval/],
    [['config', 'watch', 'cfg', '--count', '0'], /--count/],
    [['config', 'set', 'cfg', 'telemetry.interval_s', 'fast'], /expected a number/],
  ] as const) {
    const r = await cli(dir, [...args]);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

test.after(async () => {
  await killAllAgents();
  await cp.close();
  await cleanup(cp.dataDir, dir);
});
test.run();
