// The `edgehook` client commands, run as real child processes (the built dist) against a real
// control plane and a real enrolled agent. Build first: npx tsc -b
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DeviceView, EnrollmentTokenView, validate } from '@edgehook/shared';
import * as z from '@edgehook/shared/zod';
import { ADMIN_PASSWORD, CP_MAIN, adminApi, cleanup, enrolledAgent, login, tempDir, startTestControlPlane, type AgentProcess, type Api, type TestControlPlane } from './helpers/harness.js';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node control-plane/dist/main.js ...args` with its own config dir and nothing inherited that would change its behaviour. */
function cli(configDir: string, args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, EDGEHOOK_CONFIG_DIR: configDir, ...opts.env };
  if (!opts.env?.['EDGEHOOK_PASSWORD']) delete env['EDGEHOOK_PASSWORD'];
  if (!opts.env?.['EDGEHOOK_SERVER']) delete env['EDGEHOOK_SERVER'];
  const child = spawn(process.execPath, [CP_MAIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  // Leave stdin open: login must stop reading after the first line, not wait for EOF.
  if (opts.input !== undefined) child.stdin.write(opts.input);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code, stdout, stderr });
    }),
  );
}

const StoredFile = z.object({ server: z.string(), username: z.string(), accessToken: z.string(), refreshToken: z.string(), accessExpiresAt: z.string() });

async function readStored(dir: string): Promise<z.infer<typeof StoredFile>> {
  const parsed = validate(StoredFile, JSON.parse(await readFile(join(dir, 'credentials.json'), 'utf8')));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

let cp: TestControlPlane;
let api: Api;
let agent: AgentProcess & { deviceId: string };
let deviceName = '';
let config = '';
const dirs: string[] = [];
const servers: Server[] = [];

async function freshConfig(): Promise<string> {
  const dir = await tempDir('edgehook-cli-');
  dirs.push(dir);
  return dir;
}

async function loggedIn(username = 'admin', password = ADMIN_PASSWORD): Promise<string> {
  const dir = await freshConfig();
  const res = await cli(dir, ['login', '--server', cp.url, '--username', username], { env: { EDGEHOOK_PASSWORD: password } });
  assert.is(res.code, 0, res.stderr);
  return dir;
}

test.before(async () => {
  cp = await startTestControlPlane();
  api = await adminApi(cp);
  agent = await enrolledAgent(cp, api, { hostname: 'cli-pi' });
  const device = await api.request('GET', `/api/devices/${agent.deviceId}`);
  deviceName = String(device.body.name);
  config = await freshConfig();
});

test.after(async () => {
  await agent?.stop();
  await cp?.close();
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
  await cleanup(...dirs, ...(cp ? [cp.dataDir] : []), ...(agent ? [agent.stateDir] : []));
});

test('an unknown flag exits 2 with the command usage', async () => {
  const res = await cli(config, ['devices', '--bogus']);
  assert.is(res.code, 2);
  assert.match(res.stderr, "unknown option '--bogus'");
  assert.match(res.stderr, 'Usage: edgehook devices');
  const unknown = await cli(config, ['frobnicate']);
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, 'unknown command "frobnicate"');
});

test('help lists the commands; <command> --help shows its usage', async () => {
  const help = await cli(config, ['--help']);
  assert.is(help.code, 0);
  for (const name of ['login', 'logout', 'devices', 'ping', 'enroll-token', 'whoami']) assert.match(help.stdout, `  ${name}`);
  const ping = await cli(config, ['ping', '--help']);
  assert.is(ping.code, 0);
  assert.match(ping.stdout, 'Usage: edgehook ping <device>');
});

test('commands before login say how to log in', async () => {
  const res = await cli(config, ['devices']);
  assert.is(res.code, 1);
  assert.match(res.stderr, 'Not logged in; run: edgehook login --server URL');
});

test('login with a wrong password fails clearly and stores nothing', async () => {
  const res = await cli(config, ['login', '--server', cp.url], { input: 'not-the-password\n' });
  assert.is(res.code, 1);
  assert.match(res.stderr, 'login failed: wrong username or password');
  assert.not.match(res.stderr, /\n\s+at /);
  assert.not.ok(await exists(join(config, 'credentials.json')));
});

test('login reads the password from stdin and stores a private credentials file', async () => {
  const res = await cli(config, ['login', '--server', cp.url + '/', '--username', 'admin'], { input: `${ADMIN_PASSWORD}\nignored second line\n` });
  assert.is(res.code, 0, res.stderr);
  assert.is(res.stdout.trim(), `Logged in to ${cp.url} as admin`);
  const file = await stat(join(config, 'credentials.json'));
  assert.is(file.mode & 0o777, 0o600);
  assert.is((await stat(config)).mode & 0o777, 0o700);
  const stored = await readStored(config);
  assert.is(stored.server, cp.url);
  assert.is(stored.username, 'admin');
  assert.ok(Date.parse(stored.accessExpiresAt) > Date.now());
});

test('whoami shows the user and role', async () => {
  const res = await cli(config, ['whoami']);
  assert.is(res.code, 0, res.stderr);
  assert.match(res.stdout, `admin (role admin) on ${cp.url}`);
});

test('devices prints a table and --json the array', async () => {
  const table = await cli(config, ['devices']);
  assert.is(table.code, 0, table.stderr);
  const [header, ...rows] = table.stdout.trimEnd().split('\n');
  assert.match(header ?? '', /^NAME\s+ID\s+STATUS\s+LAST SEEN\s+PROFILE\s+AGENT\s+TAGS$/);
  const row = rows.find((r) => r.includes(agent.deviceId));
  assert.ok(row, table.stdout);
  assert.match(row ?? '', new RegExp(`^${deviceName}\\s+${agent.deviceId}\\s+online\\s+now\\s+simulated\\s`));

  const asJson = await cli(config, ['devices', '--json']);
  assert.is(asJson.code, 0, asJson.stderr);
  const devices = validate(z.array(DeviceView), JSON.parse(asJson.stdout));
  assert.ok(devices.ok);
  if (devices.ok) assert.equal(devices.value.map((d) => d.id), [agent.deviceId]);

  const none = await cli(config, ['devices', '--online', 'false']);
  assert.is(none.code, 0, none.stderr);
  assert.match(none.stdout, 'No devices match.');
  const bad = await cli(config, ['devices', '--online', 'maybe']);
  assert.is(bad.code, 2);
});

test('ping by name and by id', async () => {
  const byName = await cli(config, ['ping', deviceName]);
  assert.is(byName.code, 0, byName.stderr);
  assert.match(byName.stdout, new RegExp(`^reply from ${deviceName}: rtt=\\d+\\.\\d\\d ms\\n$`));

  const byId = await cli(config, ['ping', agent.deviceId, '--count', '3', '--interval', '0']);
  assert.is(byId.code, 0, byId.stderr);
  assert.is(byId.stdout.match(/^reply from /gm)?.length, 3);
  assert.match(byId.stdout, '3 sent, 3 received, 0% lost');
  assert.match(byId.stdout, /rtt min\/avg\/max = [\d.]+\/[\d.]+\/[\d.]+ ms/);
});

test('an unknown device gives the API message', async () => {
  const res = await cli(config, ['ping', 'no-such-device']);
  assert.is(res.code, 1);
  assert.match(res.stderr, 'no device with id or name no-such-device');
  const missing = await cli(config, ['ping']);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, 'missing <device>');
});

test('enroll-token create prints a token that enrolls, and the agent command', async () => {
  const res = await cli(config, ['enroll-token', 'create', '--expires-in', '1h', '--tag', 'lab', '--tag', 'pi', '--note', 'bench']);
  assert.is(res.code, 0, res.stderr);
  const token = /^ {2}(ehe_\S+)$/m.exec(res.stdout)?.[1];
  assert.ok(token, res.stdout);
  // The one-command install: the token goes to the script (prompt or file), never on a command line.
  assert.match(res.stdout, `curl -fsSL ${cp.url}/install.sh | sudo sh -s -- --token-file -`);
  assert.not.match(res.stdout, `--enroll ${token}`);
  assert.match(res.stdout, `EDGEHOOK_ENROLL_TOKEN=<token> edgehook-agent --server ${cp.url} --state-dir /var/lib/edgehook-agent`);
  assert.match(res.stdout, 'loopback address');
  assert.match(res.stdout, '--profile raspberry-pi-4b');

  const description = { hostname: 'cli-enrolled', profile: 'simulated', agentVersion: '0.0.0-test', hardware: { arch: 'x64', platform: 'linux', cpus: 1, memTotalBytes: 1024 } };
  const enrolled = await api.request('POST', '/api/enroll', description, { authorization: `Bearer ${token}` });
  assert.is(enrolled.status, 201, JSON.stringify(enrolled.body));
  const device = await api.request('GET', `/api/devices/${enrolled.body.deviceId}`);
  assert.equal(device.body.tags, ['lab', 'pi']);
  await api.request('DELETE', `/api/devices/${enrolled.body.deviceId}`);
});

test('enroll-token list and revoke', async () => {
  const created = await cli(config, ['enroll-token', 'create', '--max-uses', '5', '--json']);
  assert.is(created.code, 0, created.stderr);
  const view = validate(z.extend(EnrollmentTokenView, { token: z.string() }), JSON.parse(created.stdout));
  if (!view.ok) throw new Error(view.error);
  assert.is(view.value.maxUses, 5);

  const listed = await cli(config, ['enroll-token', 'list']);
  assert.is(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, new RegExp(`${view.value.id}\\s+active\\s+0/5`));

  const revoked = await cli(config, ['enroll-token', 'revoke', view.value.id]);
  assert.is(revoked.code, 0, revoked.stderr);
  const refused = await api.request('POST', '/api/enroll', { hostname: 'x', profile: 'simulated', agentVersion: '0', hardware: { arch: 'x', platform: 'x', cpus: 1, memTotalBytes: 1 } }, { authorization: `Bearer ${view.value.token}` });
  assert.is(refused.status, 403);
  const again = await cli(config, ['enroll-token', 'revoke', view.value.id]);
  assert.is(again.code, 1);
  assert.match(again.stderr, 'no such active enrollment token');
  const bad = await cli(config, ['enroll-token', 'create', '--expires-in', 'soon']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, '--expires-in must be a duration');
});

test('an expired access token is refreshed and the new pair saved', async () => {
  const dir = await loggedIn();
  const before = await readStored(dir);
  await writeFile(join(dir, 'credentials.json'), JSON.stringify({ ...before, accessToken: 'garbage', accessExpiresAt: new Date(Date.now() - 60_000).toISOString() }));
  const res = await cli(dir, ['devices', '--json']);
  assert.is(res.code, 0, res.stderr);
  assert.match(res.stdout, agent.deviceId);
  const after = await readStored(dir);
  assert.is.not(after.refreshToken, before.refreshToken);
  assert.is.not(after.accessToken, 'garbage');
  assert.ok(Date.parse(after.accessExpiresAt) > Date.now());
  assert.is((await stat(join(dir, 'credentials.json'))).mode & 0o777, 0o600);
});

test('a rejected access token that is not yet due is refreshed too', async () => {
  const dir = await loggedIn();
  const before = await readStored(dir);
  await writeFile(join(dir, 'credentials.json'), JSON.stringify({ ...before, accessToken: 'garbage' }));
  const res = await cli(dir, ['whoami']);
  assert.is(res.code, 0, res.stderr);
  assert.is.not((await readStored(dir)).refreshToken, before.refreshToken);
});

test('concurrent commands share one refresh instead of revoking the session', async () => {
  const dir = await loggedIn();
  const before = await readStored(dir);
  await writeFile(join(dir, 'credentials.json'), JSON.stringify({ ...before, accessExpiresAt: new Date(Date.now() - 60_000).toISOString() }));
  const results = await Promise.all([1, 2, 3, 4].map(() => cli(dir, ['whoami'])));
  for (const r of results) assert.is(r.code, 0, r.stderr);
  const after = await cli(dir, ['whoami']);
  assert.is(after.code, 0, after.stderr);
});

test('a revoked session says to log in again', async () => {
  const dir = await loggedIn();
  const stored = await readStored(dir);
  const out = await fetch(cp.url + '/api/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${stored.accessToken}` } });
  assert.is(out.status, 200);
  const res = await cli(dir, ['devices']);
  assert.is(res.code, 1);
  assert.is(res.stderr.trim(), `edgehook: Your session expired; run: edgehook login --server ${cp.url}`);
});

test('permission denied shows the API message', async () => {
  assert.is((await api.request('POST', '/api/roles', { name: 'cli-viewer', permissions: ['devices.read'] })).status, 201);
  assert.is((await api.request('POST', '/api/users', { username: 'cli-viewer', password: 'viewer-password', roleName: 'cli-viewer' })).status, 201);
  const dir = await loggedIn('cli-viewer', 'viewer-password');
  const res = await cli(dir, ['ping', deviceName]);
  assert.is(res.code, 1);
  assert.match(res.stderr, 'permission denied: your role lacks the permission devices.ping');
});

test('an unreachable server is reported, not thrown', async () => {
  const port = await closedPort();
  const url = `http://127.0.0.1:${port}`;
  const res = await cli(await freshConfig(), ['login', '--server', url], { env: { EDGEHOOK_PASSWORD: 'x' } });
  assert.is(res.code, 1);
  assert.is(res.stderr.trim(), `edgehook: cannot reach ${url}: connection refused`);

  // Logged in to a server that has since gone away.
  const dir = await freshConfig();
  const tokens = await login(cp.url);
  await writeFile(join(dir, 'credentials.json'), JSON.stringify({ server: url, username: 'admin', ...tokens, accessExpiresAt: new Date(Date.now() + 3_600_000).toISOString() }), { mode: 0o600 });
  const devices = await cli(dir, ['devices']);
  assert.is(devices.code, 1);
  assert.is(devices.stderr.trim(), `edgehook: cannot reach ${url}: connection refused`);
});

test('a URL that is not an Edgehook server is named as such', async () => {
  const other = createServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'text/html' });
    res.end('<h1>Not Found</h1>');
  });
  servers.push(other);
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  const address = other.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const url = `http://127.0.0.1:${address.port}`;
  const res = await cli(await freshConfig(), ['login', '--server', url], { env: { EDGEHOOK_PASSWORD: 'x' } });
  assert.is(res.code, 1);
  assert.match(res.stderr, `${url} is not an Edgehook server`);
});

test('tokens are not sent to another server given with --server', async () => {
  const res = await cli(config, ['devices', '--server', 'http://127.0.0.1:9']);
  assert.is(res.code, 1);
  assert.match(res.stderr, 'Not logged in to http://127.0.0.1:9');
});

test('logout ends the session and forgets it', async () => {
  const dir = await loggedIn();
  const stored = await readStored(dir);
  const res = await cli(dir, ['logout']);
  assert.is(res.code, 0, res.stderr);
  assert.match(res.stdout, `Logged out of ${cp.url}`);
  assert.not.ok(await exists(join(dir, 'credentials.json')));
  const refresh = await fetch(cp.url + '/api/auth/refresh', { method: 'POST', headers: { authorization: `Bearer ${stored.refreshToken}` } });
  assert.is(refresh.status, 403);
  const after = await cli(dir, ['whoami']);
  assert.is(after.code, 1);
  assert.match(after.stderr, 'Not logged in');
});

test.run();
