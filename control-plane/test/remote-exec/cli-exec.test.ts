// `edgehook exec|shell|ps|kill` as real child processes (the built dist) against a real control
// plane and a real agent. Build first: npx tsc -b
import { spawn } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN_PASSWORD, CP_MAIN, adminApi, cleanup, killAllAgents, startTestControlPlane, tempDir, type Api, type TestControlPlane } from '../helpers/harness.js';
import { execAgent } from './fixtures.js';

interface Ctx {
  cp: TestControlPlane;
  api: Api;
  deviceId: string;
  config: string;
}
const t = suite<Ctx>('cli: exec, shell, ps, kill');

function cli(ctx: Ctx, args: string[], input?: string | Buffer, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  const child = spawn(process.execPath, [CP_MAIN, ...args], { env: { ...process.env, EDGEHOOK_CONFIG_DIR: ctx.config, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d) => (stderr += d));
  if (input !== undefined) child.stdin.end(input);
  else child.stdin.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr });
    }),
  );
}

t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane();
  ctx.api = await adminApi(ctx.cp);
  ctx.deviceId = (await execAgent(ctx.cp, ctx.api)).deviceId;
  ctx.config = await tempDir('edgehook-cli-');
  const res = await cli(ctx, ['login', '--server', ctx.cp.url, '--username', 'admin'], undefined, { EDGEHOOK_PASSWORD: ADMIN_PASSWORD });
  assert.is(res.code, 0, res.stderr);
});
t.after(async (ctx) => {
  await killAllAgents();
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir, ctx.config);
});

t('exec <action>: stdin piped, output streamed, exit code', async (ctx) => {
  const res = await cli(ctx, ['exec', ctx.deviceId, 'echo', 'a', 'b'], 'piped through\n');
  assert.is(res.code, 0, res.stderr);
  assert.is(res.stdout.toString(), 'piped through\n');
  const failed = await cli(ctx, ['exec', ctx.deviceId, 'fail']);
  assert.is(failed.code, 3);
  assert.is(failed.stderr, 'oops\n');
  const unknown = await cli(ctx, ['exec', ctx.deviceId, 'no-such']);
  assert.is(unknown.code, 1);
  assert.match(unknown.stderr, /unknown process/);
});

t('exec --raw: argv without a shell, bytes exact, stderr apart, remote exit code', async (ctx) => {
  const bytes = Buffer.from([0, 1, 0xff, 0xfe, 10]);
  const res = await cli(ctx, ['exec', ctx.deviceId, '--raw', '--', 'sh', '-c', 'cat; echo to-stderr >&2; exit 5'], bytes);
  assert.is(res.code, 5);
  assert.ok(res.stdout.equals(bytes));
  assert.is(res.stderr, 'to-stderr\n');
  const usage = await cli(ctx, ['exec', ctx.deviceId, '--raw']);
  assert.is(usage.code, 2);
});

t('shell: runs commands from piped input and returns the shell exit status', async (ctx) => {
  const res = await cli(ctx, ['shell', ctx.deviceId, '--shell', '/bin/sh'], 'echo hi-$((40+2))\rexit 4\r');
  assert.match(res.stdout.toString(), /hi-42/, `stdout ${JSON.stringify(res.stdout.toString())} stderr ${JSON.stringify(res.stderr)} code ${res.code}`);
  assert.is(res.code, 4, res.stderr);
});

t('shell in a real terminal: raw mode, the remote size follows SIGWINCH, Ctrl-C goes to the remote side', async (ctx) => {
  const pty = await import('node-pty');
  const term = pty.spawn(process.execPath, [CP_MAIN, 'shell', ctx.deviceId, '--shell', '/bin/sh'], {
    cols: 90,
    rows: 30,
    env: { ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)), EDGEHOOK_CONFIG_DIR: ctx.config },
  });
  let out = '';
  term.onData((d) => (out += d));
  const exited = new Promise<number>((resolve) => term.onExit((e) => resolve(e.exitCode)));
  const until = async (re: RegExp) => {
    const end = Date.now() + 15_000;
    while (!re.test(out)) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${re} in ${JSON.stringify(out.slice(-300))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  term.write('stty size\r');
  await until(/30 90/);
  term.resize(120, 40);
  await new Promise((r) => setTimeout(r, 300));
  term.write('stty size\r');
  await until(/40 120/);
  // In raw mode Ctrl-C is a byte for the remote shell, not a signal for the CLI.
  term.write('sleep 30\r');
  await new Promise((r) => setTimeout(r, 300));
  term.write('\x03');
  term.write('echo alive-$((2*21))\r');
  await until(/alive-42/);
  term.write('exit 3\r');
  assert.is(await exited, 3);
});

t('ps lists what the agent started; kill signals it; foreign pids are refused', async (ctx) => {
  const started = await ctx.api.request('POST', `/api/devices/${ctx.deviceId}/processes`, { cmd: ['sleep', '60'] });
  const pid = String(started.body.proc_id);
  const ps = await cli(ctx, ['ps', ctx.deviceId]);
  assert.is(ps.code, 0, ps.stderr);
  assert.match(ps.stdout.toString(), new RegExp(`^${pid}\\s+sleep`, 'm'));
  const refused = await cli(ctx, ['kill', ctx.deviceId, '1']);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /not started by this agent/);
  const killed = await cli(ctx, ['kill', ctx.deviceId, pid, '--signal', 'KILL']);
  assert.is(killed.code, 0, killed.stderr);
  const status = await ctx.api.request('GET', `/api/devices/${ctx.deviceId}/processes/${started.body.id}`);
  assert.ok(['pending', 'rejected'].includes(status.body.result.status));
  const bad = await cli(ctx, ['kill', ctx.deviceId, pid, '--signal', 'STOP']);
  assert.is(bad.code, 2);
});

t.run();
