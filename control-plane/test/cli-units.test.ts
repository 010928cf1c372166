// The CLI's pure parts and its in-memory wiring (fake fetch, fake clock): no server needed.
import { PassThrough } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runClient, type CliDeps } from '../src/cli/cli.js';
import { durationSeconds } from '../src/cli/args.js';
import { configDir, credentialsStore } from '../src/cli/credentials.store.js';
import { normalizeServerUrl } from '../src/cli/server-url.js';
import { relativeTime, renderTable } from '../src/cli/table.js';
import { agentCommandLine } from '../src/cli/commands/enroll-token.command.js';
import { cleanup, tempDir } from './helpers/harness.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const dirs: string[] = [];

test.after(() => cleanup(...dirs));

test('relative times', () => {
  assert.is(relativeTime(null, NOW), '-');
  assert.is(relativeTime(new Date(NOW - 12_000).toISOString(), NOW), '12s ago');
  assert.is(relativeTime(new Date(NOW - 5 * 60_000).toISOString(), NOW), '5m ago');
  assert.is(relativeTime(new Date(NOW - 3 * 3_600_000).toISOString(), NOW), '3h ago');
  assert.is(relativeTime(new Date(NOW - 3 * 86_400_000).toISOString(), NOW), '3d ago');
  assert.is(relativeTime(new Date(NOW + 23 * 3_600_000 + 59 * 60_000).toISOString(), NOW), 'in 23h');
  assert.is(relativeTime(new Date(NOW + 2000).toISOString(), NOW), 'just now');
});

test('tables align columns and drop control characters', () => {
  const out = renderTable(['NAME', 'TAGS'], [['a', 'x'], ['longer\u001b[31m', '-']]);
  assert.is(out, 'NAME         TAGS\na            x\nlonger?[31m  -');
});

test('durations', () => {
  assert.is(durationSeconds('expires-in', '3600', ''), 3600);
  assert.is(durationSeconds('expires-in', '30m', ''), 1800);
  assert.is(durationSeconds('expires-in', '1h', ''), 3600);
  assert.is(durationSeconds('expires-in', '7d', ''), 604_800);
  assert.throws(() => durationSeconds('expires-in', '0', ''), /must be a duration/);
  assert.throws(() => durationSeconds('expires-in', '1y', ''), /must be a duration/);
});

test('server URLs are normalized', () => {
  assert.is(normalizeServerUrl('http://pi.local:8080/'), 'http://pi.local:8080');
  assert.is(normalizeServerUrl('pi.local:8080'), 'http://pi.local:8080');
  assert.is(normalizeServerUrl('https://example.com/edgehook/'), 'https://example.com/edgehook');
  assert.throws(() => normalizeServerUrl('ftp://x'), /http/);
  assert.throws(() => normalizeServerUrl('http://u:p@x'), /user or password/);
});

test('config dir: EDGEHOOK_CONFIG_DIR, then XDG_CONFIG_HOME, then ~/.config', () => {
  const home = () => '/home/pi';
  assert.is(configDir({ EDGEHOOK_CONFIG_DIR: '/c', XDG_CONFIG_HOME: '/x' }, home), '/c');
  assert.is(configDir({ XDG_CONFIG_HOME: '/x' }, home), '/x/edgehook');
  assert.is(configDir({ XDG_CONFIG_HOME: 'relative' }, home), '/home/pi/.config/edgehook');
  assert.is(configDir({}, home), '/home/pi/.config/edgehook');
});

test('the agent command quotes only what a shell would break', () => {
  assert.is(agentCommandLine('http://10.0.0.2:8080', undefined), 'EDGEHOOK_ENROLL_TOKEN=<token> edgehook-agent --server http://10.0.0.2:8080 --state-dir /var/lib/edgehook-agent');
  assert.match(agentCommandLine("http://h/a'b c", undefined), `--server 'http://h/a'\\''b c'`);
  assert.match(agentCommandLine('https://h', `sha256:${'0'.repeat(64)}`), `--server-fingerprint sha256:${'0'.repeat(64)}`);
});

test('a lock left by a dead command is taken over at once', async () => {
  const dir = await tempDir('edgehook-cli-unit-');
  dirs.push(dir);
  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  await writeFile(join(dir, 'credentials.lock'), String(dead));
  const started = Date.now();
  const value = await credentialsStore(dir, Date.now).withLock(async () => 'ran');
  assert.is(value, 'ran');
  assert.ok(Date.now() - started < 1000);
});

/** runClient in memory: answers come from `routes`, keyed "METHOD /path". */
async function inMemory(argv: string[], routes: Record<string, (init: RequestInit) => Response>, opts: { stdin?: string; env?: Record<string, string> } = {}) {
  const dir = await tempDir('edgehook-cli-unit-');
  dirs.push(dir);
  let stdout = '';
  let stderr = '';
  const stdin = new PassThrough();
  if (opts.stdin !== undefined) stdin.write(opts.stdin);
  const calls: string[] = [];
  const deps: CliDeps = {
    io: { env: { EDGEHOOK_CONFIG_DIR: dir, ...opts.env }, stdin, stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) },
    fetch: async (input, init = {}) => {
      const url = new URL(String(input));
      const key = `${init.method ?? 'GET'} ${url.pathname}`;
      calls.push(key);
      const route = routes[key];
      return route ? route(init) : new Response('<html>nope</html>', { status: 404, headers: { 'content-type': 'text/html' } });
    },
    now: () => NOW,
    sleep: async () => undefined,
    homedir: () => dir,
  };
  const [command = '', ...rest] = argv;
  const code = await runClient(command, rest, deps);
  return { code, stdout, stderr, calls, dir };
}

const pair = (n: number) => () => Response.json({ accessToken: `access-${n}`, refreshToken: `refresh-${n}`, expiresIn: 3600 });

test('login reads the first stdin line and stores the expiry from expiresIn', async () => {
  let sent: unknown;
  const res = await inMemory(['login', '--server', 'http://cp.test'], {
    'POST /api/auth/login': (init) => {
      sent = JSON.parse(String(init.body));
      return pair(1)();
    },
  }, { stdin: 'hunter22\nrest' });
  assert.is(res.code, 0, res.stderr);
  assert.equal(sent, { username: 'admin', password: 'hunter22' });
  const stored = JSON.parse(await readFile(join(res.dir, 'credentials.json'), 'utf8'));
  assert.is(stored.accessExpiresAt, new Date(NOW + 3_600_000).toISOString());
});

test('a server that answers odd JSON is checked with /api/health', async () => {
  const odd = await inMemory(['login', '--server', 'http://cp.test'], { 'POST /api/auth/login': () => Response.json({ hello: 'world' }) }, { env: { EDGEHOOK_PASSWORD: 'pw' } });
  assert.is(odd.code, 1);
  assert.match(odd.stderr, 'http://cp.test is not an Edgehook server (GET /api/health answered HTTP 404 text/html)');
  const newer = await inMemory(['login', '--server', 'http://cp.test'], {
    'POST /api/auth/login': () => Response.json({ hello: 'world' }),
    'GET /api/health': () => Response.json({ ok: true, version: '9.0.0' }),
  }, { env: { EDGEHOOK_PASSWORD: 'pw' } });
  assert.is(newer.code, 1);
  assert.match(newer.stderr, 'unexpected answer from the Edgehook server (version 9.0.0) to POST /api/auth/login');
});

test('an empty fleet suggests creating an enrollment token', async () => {
  const res = await inMemory(['login', '--server', 'http://cp.test'], { 'POST /api/auth/login': pair(1) }, { env: { EDGEHOOK_PASSWORD: 'pw' } });
  let auth = '';
  const routes = {
    'GET /api/devices': (init: RequestInit) => {
      auth = new Headers(init.headers).get('authorization') ?? '';
      return Response.json([]);
    },
  };
  const dir = res.dir;
  const devices = await inMemory(['devices'], routes, { env: { EDGEHOOK_CONFIG_DIR: dir } });
  assert.is(devices.code, 0, devices.stderr);
  assert.is(devices.stdout, 'No devices yet. Create an enrollment token with: edgehook enroll-token create\n');
  assert.is(auth, 'Bearer access-1');
});

test('defineCommand: a bad command line is a usage error (exit 2) before any login or round trip', async () => {
  const cases: Array<[string[], string]> = [
    [['ps'], 'edgehook ps: missing <device>'],
    [['ps', 'a', 'b'], 'edgehook ps: unexpected argument "b"'],
    [['kill', 'pi-a'], 'edgehook kill: missing <pid>'],
    [['kill', 'pi-a', '12', '--signal', 'FOO'], 'edgehook kill: --signal must be SIGTERM, SIGKILL, SIGHUP or SIGINT, got "FOO"'],
    [['telemetry', 'pi-a', 'cpu', '--since', '-1h', '--json', '--csv'], 'edgehook telemetry: give --json or --csv, not both'],
    [['audit', '--since', '-24h', '--limit', '0'], 'edgehook audit: --limit must be a whole number from 1 to 500, got "0"'],
    [['enroll-token', 'create', '--max-uses', '-1'], 'edgehook enroll-token: --max-uses must be a whole number from 1 to 1000000, got "-1"'],
  ];
  for (const [argv, message] of cases) {
    const res = await inMemory(argv, {});
    assert.is(res.code, 2, argv.join(' '));
    assert.match(res.stderr, message);
    assert.match(res.stderr, 'Usage: edgehook ');
    assert.equal(res.calls, []);
  }
  const help = await inMemory(['kill', '--help'], {});
  assert.is(help.code, 0);
  assert.match(help.stdout, /^Usage: edgehook kill <device> <pid>/);
  assert.match(help.stdout, '  --server URL  the control plane (default: the one you logged in to) [EDGEHOOK_SERVER]\n  -h, --help    show this help\n');
});

test('a command that does not print the device sends <device> as given: the server resolves it', async () => {
  const { dir } = await inMemory(['login', '--server', 'http://cp.test'], { 'POST /api/auth/login': pair(1) }, { env: { EDGEHOOK_PASSWORD: 'pw' } });
  const typed = await inMemory(['type', 'pi-a', 'hello'], { 'POST /api/devices/pi-a/hardware/hid/print': () => Response.json({ chars: 5, skipped: 0 }) }, { env: { EDGEHOOK_CONFIG_DIR: dir } });
  assert.is(typed.code, 0, typed.stderr);
  assert.is(typed.stdout, 'typed 5 characters\n');
  assert.equal(typed.calls, ['POST /api/devices/pi-a/hardware/hid/print']);
});

test.run();
