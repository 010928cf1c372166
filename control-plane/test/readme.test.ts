// README.md's commands, run as written against a control plane started the way the Quick start
// starts it (scripts/start.mjs = `npm start` after its build step, with the demo device). The one
// change: the URL, since port 8080 may be taken on a shared machine; README documents
// EDGEHOOK_PORT/EDGEHOOK_MQTT_PORT/EDGEHOOK_DATA_DIR for exactly that. Build first: npm run build
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PassThrough } from 'node:stream';
import { clientHelp, runClient } from '../src/cli/cli.js';
import { serveHelp } from '../src/config.js';
import { ADMIN_PASSWORD, adminApi, cleanup, tempDir, waitFor } from './helpers/harness.js';

/** `edgehook <command> --help` in this process (the same code the binary runs; no process per command). */
async function helpOf(command: string): Promise<{ code: number; stdout: string }> {
  // `serve` is main.ts's own command (the server), not a client command.
  if (command === 'serve') return { code: 0, stdout: serveHelp() };
  let stdout = '';
  const code = await runClient(command, ['--help'], {
    io: { env: {}, stdin: new PassThrough(), stdout: (x) => (stdout += x), stderr: (x) => (stdout += x) },
    fetch: () => Promise.reject(new Error('no network in --help')),
    now: () => Date.now(),
    sleep: async () => undefined,
    homedir: () => '/nonexistent',
  });
  return { code, stdout };
}

const root = fileURLToPath(new URL('../../', import.meta.url));
const README = readFileSync(`${root}README.md`, 'utf8');

/** The text of one `## ` section of the README. */
function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `README has a "${title}" section`);
  const end = README.indexOf('\n## ', start + 4);
  return README.slice(start, end < 0 ? undefined : end);
}

/** Lines of the ```sh blocks of a section, comments dropped. */
function shellLines(text: string): string[] {
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => (m[1] ?? '').split('\n')).map((l) => l.replace(/\s+#.*$/, '').trim()).filter(Boolean);
}

/** `a [--x N] [--json|--csv] <device>` as one concrete command: optional parts in, first alternative, placeholders filled. */
function concrete(usage: string, fill: Record<string, string>): string {
  return usage
    .replace(/\[([^\]]*)\]/g, '$1')
    .replace(/(\S+)\|\S+/g, '$1')
    .replace(/<([a-z]+)>/g, (_, name: string) => fill[name] ?? `<${name}>`)
    .replace(/\b([A-Z])\b/g, (_, name: string) => fill[name] ?? name);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

interface Ctx {
  url: string;
  server: ChildProcess;
  output: () => string;
  dirs: string[];
  env: NodeJS.ProcessEnv;
}
const t = suite<Ctx>('README commands as written');

/** A README line through the shell, in the repository root, as a user types it. */
function sh(ctx: Ctx, line: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('sh', ['-c', line], { cwd: root, env: { ...ctx.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

t.before(async (ctx) => {
  ctx.dirs = [];
  const data = await tempDir('edgehook-readme-');
  const config = await tempDir('edgehook-readme-cli-');
  ctx.dirs.push(data, config);
  const [port, mqttPort] = [await freePort(), await freePort()];
  ctx.url = `http://127.0.0.1:${port}`;
  // `edgehook` on the PATH, as after npm install -g / in a workspace shell; `npx edgehook` as written.
  ctx.env = { ...process.env, EDGEHOOK_CONFIG_DIR: config, PATH: `${root}node_modules/.bin:${process.env['PATH'] ?? ''}` };
  delete ctx.env['EDGEHOOK_SERVER'];
  delete ctx.env['EDGEHOOK_PASSWORD'];
  const env = { ...ctx.env, EDGEHOOK_PORT: String(port), EDGEHOOK_MQTT_PORT: String(mqttPort), EDGEHOOK_DATA_DIR: data, EDGEHOOK_ADMIN_PASSWORD: ADMIN_PASSWORD };
  ctx.server = spawn(process.execPath, [`${root}scripts/start.mjs`], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  ctx.server.stdout?.on('data', (d) => (out += d));
  ctx.server.stderr?.on('data', (d) => (out += d));
  ctx.output = () => out;
  await waitFor('the control plane banner', () => out.includes('Edgehook control plane'), 30_000);
});

t.after(async (ctx) => {
  if (ctx.server && ctx.server.exitCode === null) {
    const gone = new Promise((r) => ctx.server.once('exit', r));
    ctx.server.kill('SIGTERM');
    await gone;
  }
  await cleanup(...ctx.dirs);
});

t('Quick start: login, devices, ping demo-device', async (ctx) => {
  const lines = shellLines(section('Quick start')).filter((l) => l.startsWith('npx edgehook'));
  assert.ok(lines.length >= 3, JSON.stringify(lines));
  assert.ok(lines.some((l) => l.includes('ping demo-device')));
  for (const line of lines) {
    const asWritten = line.replaceAll('http://127.0.0.1:8080', ctx.url);
    const res = await (async () => {
      if (!line.includes('ping')) return sh(ctx, asWritten, { EDGEHOOK_PASSWORD: ADMIN_PASSWORD });
      // The demo device enrolls itself: wait for it over the API (cheaper than repeated CLI runs).
      const api = await adminApi({ url: ctx.url });
      await waitFor('the demo device online', async () => ((await api.request('GET', '/api/devices/demo-device')).body?.online === true), 60_000, 250);
      return sh(ctx, asWritten);
    })();
    assert.is(res.code, 0, `${asWritten}\n${res.stdout}${res.stderr}`);
    if (line.includes('devices')) assert.match(res.stdout, 'demo-device');
    if (line.includes('ping')) assert.match(res.stdout, /reply from demo-device: rtt=[\d.]+ ms/);
  }
});

t('Enroll a real Raspberry Pi: the enroll-token command prints a token and the agent command', async (ctx) => {
  const text = section('Enroll a real Raspberry Pi');
  const create = /`(npx edgehook enroll-token create [^`]+)`/.exec(text)?.[1];
  assert.ok(create, 'README shows enroll-token create');
  const res = await sh(ctx, create.replaceAll('http://<server>:8080', ctx.url));
  assert.is(res.code, 0, res.stderr);
  assert.match(res.stdout, /--enroll|enroll/);
  assert.ok(text.includes('npx edgehook serve --host 0.0.0.0'), 'README shows serve --host 0.0.0.0');
  assert.ok(text.includes('npx edgehook devices'));
});

t("CLI section: every command exists, every flag it shows is in that command's --help, and the read-only ones run", async (ctx) => {
  const text = section('Configuration reference').split('### CLI')[1] ?? '';
  assert.ok(text.length > 0, 'README has the CLI list');
  const known = new Set<string>();
  const help = new Map<string, string>();
  const spans = [...text.matchAll(/`([^`]+)`/g)].map((m) => (m[1] ?? '').replace(/^edgehook /, '')).filter((s) => /^[a-z][a-z-]+( |$)/.test(s));
  assert.ok(spans.length >= 15, JSON.stringify(spans));
  const top = clientHelp();
  for (const span of spans) {
    const word = span.split(' ')[0] ?? '';
    // A word that is not a command is one of the previous command's actions (`attach`, `logs -f`).
    if (!new RegExp(`^  ${word} `, 'm').test(top)) continue;
    known.add(word);
    if (!help.has(word)) {
      const h = await helpOf(word);
      assert.is(h.code, 0, `${word} --help: ${h.stdout}`);
      help.set(word, h.stdout);
    }
    for (const flag of span.match(/--[a-z-]+/g) ?? []) assert.ok(help.get(word)?.includes(flag), `README's \`${span}\`: ${flag} is not in edgehook ${word} --help`);
  }
  for (const name of ['login', 'logout', 'whoami', 'devices', 'ping', 'enroll-token', 'exec', 'shell', 'ps', 'kill', 'gpio', 'power', 'type', 'serial', 'telemetry', 'top', 'watch', 'containers', 'container', 'cp']) assert.ok(known.has(name), `README's CLI list names ${name}`);
  // Read-only examples, placeholders filled with the demo device.
  const fill = { device: 'demo-device', metric: 'cpu.usage', N: '2', T: 'demo' };
  const runnable = spans.filter((s) => /^(whoami|devices|ping|telemetry|ps|top|containers) /.test(s) || s === 'whoami');
  assert.ok(runnable.some((s) => s.startsWith('telemetry')), JSON.stringify(runnable));
  // The telemetry examples read what the demo device has stored: wait for its first batch.
  const api = await adminApi({ url: ctx.url });
  await waitFor('the demo device reporting cpu.usage', async () => {
    const res = await api.request('GET', '/api/devices/demo-device/telemetry/metrics');
    return res.status === 200 && res.body.metrics.some((m: { metric: string }) => m.metric === 'cpu.usage');
  }, 60_000, 250);
  for (const span of runnable) {
    const line = `edgehook ${concrete(span, fill)}`;
    const res = await sh(ctx, line);
    // README: without an engine the demo device's container calls say "no container engine".
    if (span.startsWith('containers') && res.code === 1 && /no container engine/.test(res.stderr)) continue;
    assert.is(res.code, 0, `${line}\n${res.stdout}${res.stderr}`);
  }
});

t.run();
