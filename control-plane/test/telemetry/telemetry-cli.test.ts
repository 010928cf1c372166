// `edgehook telemetry`, `top` and `watch` as real child processes (built dist) against a real
// control plane, with data published over MQTT by an enrolled test device. Build first: npx tsc -b
import { spawn } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN_PASSWORD, CP_MAIN, adminApi, cleanup, startTestControlPlane, tempDir, waitFor, type Api, type TestControlPlane } from '../helpers/harness.js';
import { sparkline } from '../../src/cli/commands/telemetry-format.js';
import { enrollDevice, type TestDevice } from './device-client.js';

function cli(configDir: string, args: string[], onStdout?: (all: string) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, EDGEHOOK_CONFIG_DIR: configDir, EDGEHOOK_PASSWORD: ADMIN_PASSWORD };
  delete env['EDGEHOOK_SERVER'];
  const child = spawn(process.execPath, [CP_MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
    onStdout?.(stdout);
  });
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

const t = suite<{ cp: TestControlPlane; api: Api; dir: string; dev: TestDevice; t0: number }>('telemetry cli');
t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane();
  ctx.api = await adminApi(ctx.cp);
  ctx.dir = await tempDir('edgehook-cli-');
  const login = await cli(ctx.dir, ['login', '--server', ctx.cp.url, '--username', 'admin']);
  if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
  ctx.dev = await enrollDevice(ctx.api, 'cli-dev', ['rack1']);
  ctx.t0 = Math.floor((Date.now() - 30 * 60_000) / 60_000) * 60_000;
  for (let i = 0; i < 12; i++) await ctx.dev.publish({ seq: i, ts: ctx.t0 + i * 10_000, samples: [{ m: 'cpu.usage', v: i * 5 }, { m: 'temp.max', v: 40 + i }] });
  await waitFor('stored', async () => (await ctx.api.request('GET', '/api/telemetry/latest?metric=temp.max')).body.entries?.length === 1);
});
t.after(async (ctx) => {
  await ctx.dev.close();
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir, ctx.dir);
});

t('sparkline scales to min..max and leaves gaps blank', () => {
  assert.is(sparkline([0, 7, null, 14]), '▁▅ █');
  assert.is(sparkline([5, 5]), '▄▄');
  assert.is(sparkline([]), '');
  assert.is([...sparkline(Array.from({ length: 300 }, (_, i) => i), 60)].length, 60);
});

t('telemetry <device> <metric>: table with a sparkline, --json, --csv', async ({ dir, dev, t0 }) => {
  const from = String(t0);
  const table = await cli(dir, ['telemetry', 'cli-dev', 'cpu', '--since', from, '--until', String(t0 + 120_000), '--step', '30s', '--agg', 'max']);
  assert.is(table.code, 0, table.stderr);
  assert.match(table.stdout, /cli-dev cpu\.usage \(max per 30s, raw\)/);
  assert.match(table.stdout, /TIME\s+VALUE/);
  assert.match(table.stdout, /10\.0%\n/);
  assert.match(table.stdout, /[▁▂▃▄▅▆▇█]{4}\s+min 10\.0%\s+max 55\.0%/);
  const js = await cli(dir, ['telemetry', dev.deviceId, 'cpu.usage', '--since', from, '--until', String(t0 + 60_000), '--step', '1m', '--agg', 'count', '--json']);
  assert.is(js.code, 0, js.stderr);
  assert.is(JSON.parse(js.stdout).metric, 'cpu.usage');
  const csv = await cli(dir, ['telemetry', 'cli-dev', 'temp.max', '--since', from, '--until', String(t0 + 20_000), '--step', '10s', '--csv']);
  assert.is(csv.code, 0, csv.stderr);
  assert.equal(csv.stdout.trim().split('\n'), ['time,labels,value', `${new Date(t0).toISOString()},-,40`, `${new Date(t0 + 10_000).toISOString()},-,41`]);
  const list = await cli(dir, ['telemetry', 'cli-dev']);
  assert.match(list.stdout, /METRIC\s+SERIES\s+LAST\ncpu\.usage\s+1/);
});

t('telemetry: bad input is a usage error or the API message', async ({ dir }) => {
  const unknown = await cli(dir, ['telemetry', 'cli-dev', 'gpu.usage']);
  assert.is(unknown.code, 1);
  assert.match(unknown.stderr, /has not reported the metric gpu\.usage/);
  const step = await cli(dir, ['telemetry', 'cli-dev', 'cpu', '--step', '0']);
  assert.match(step.stderr, /step must be at least 1s/);
  const both = await cli(dir, ['telemetry', 'cli-dev', 'cpu', '--json', '--csv']);
  assert.is(both.code, 2);
  assert.is((await cli(dir, ['telemetry'])).code, 2);
});

t('top: the fleet sorted by a metric', async ({ dir }) => {
  const top = await cli(dir, ['top', '--metric', 'temp', '--tag', 'rack1']);
  assert.is(top.code, 0, top.stderr);
  assert.match(top.stdout, /DEVICE\s+STATUS\s+TEMP\.MAX\s+AGE\ncli-dev\s+offline\s+51\.0 °C/);
  const none = await cli(dir, ['top', '--metric', 'temp', '--tag', 'nowhere']);
  assert.match(none.stdout, /No device has reported temp\.max/);
  const js = await cli(dir, ['top', '--json', '--limit', '1']);
  assert.is(JSON.parse(js.stdout).entries.length, 1);
});

t('watch: follows live batches', async ({ dir, dev }) => {
  let published = false;
  const watching = cli(dir, ['watch', 'cli-dev', '--count', '1', '--metric', 'cpu.usage'], (out) => {
    if (!published && out.includes('watching')) {
      published = true;
      // The socket opens right after the banner; give it a moment, then publish.
      setTimeout(() => void dev.publish({ seq: 100, ts: Date.now(), samples: [{ m: 'cpu.usage', v: 42 }, { m: 'mem.usage', v: 1 }] }), 500);
    }
  });
  const res = await watching;
  assert.is(res.code, 0, res.stderr);
  assert.match(res.stdout, /\d\d:\d\d:\d\d  cpu\.usage=42\.0%\n/);
  assert.not.match(res.stdout, /mem\.usage/);
});

t.run();
