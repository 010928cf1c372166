import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { trustedFetch } from '@edgehook/shared/transport';
import { ADMIN_PASSWORD, cleanup, killAllAgents, spawnAgent, startTestControlPlane, tempDir, waitFor, type TestControlPlane } from './helpers/harness.js';

// The real installer against a temporary root (--prefix, --no-systemd): it downloads the lean
// agent package over TLS with curl's key pin, enrolls, lays the files down; then the installed
// agent is started and comes online over MQTT over TLS.
let cp: TestControlPlane;
let fetchPinned: typeof fetch;
let bearer = '';
let work: string;
let script: string;

function sh(args: string[], opts: { input?: string; env?: Record<string, string>; prefixCmd?: string[] } = {}): Promise<{ code: number | null; out: string }> {
  const cmd = [...(opts.prefixCmd ?? []), 'sh', ...args];
  const child = spawn(cmd[0] ?? 'sh', cmd.slice(1), { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => undefined);
  child.stdin.end(opts.input ?? '');
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, out })));
}

async function token(): Promise<string> {
  const res = await fetchPinned(`${cp.url}/api/enrollment-tokens`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body: '{}' });
  const body: any = await res.json();
  return body.token;
}

const mode = async (p: string): Promise<string> => ((await stat(p)).mode & 0o777).toString(8);

test.before(async () => {
  work = await tempDir('edgehook-install-');
  cp = await startTestControlPlane({ args: ['--tls', 'self-signed', '--mqtts-port', '0'] });
  fetchPinned = trustedFetch({ fingerprint: cp.tls?.fingerprint });
  const login = await fetchPinned(`${cp.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  bearer = ((await login.json()) as { accessToken: string }).accessToken;
  const res = await fetchPinned(`${cp.url}/install.sh`);
  assert.is(res.status, 200, 'the agent package is built (npm run build)');
  script = join(work, 'install.sh');
  await writeFile(script, await res.text());
});

test.after(async () => {
  await killAllAgents();
  await cp.close();
  await cleanup(cp.dataDir, work);
});

test('install.sh carries the server, its fingerprint and key pin; downloads are served', async () => {
  const text = await readFile(script, 'utf8');
  assert.match(text, `DEFAULT_SERVER='${cp.url}'`);
  assert.match(text, `DEFAULT_FINGERPRINT='${cp.tls?.fingerprint}'`);
  assert.match(text, `DEFAULT_PUBKEY_PIN='${cp.tls?.publicKeyPin}'`);
  const sum = await (await fetchPinned(`${cp.url}/downloads/edgehook-agent.tgz.sha256`)).text();
  assert.match(sum, /^[0-9a-f]{64} {2}edgehook-agent\.tgz\n$/);
  assert.is((await fetchPinned(`${cp.url}/downloads/..%2Fpackage.json`)).status, 404);
  assert.is((await fetchPinned(`${cp.url}/downloads/other.tgz`)).status, 404);
  const badHost = await fetchPinned(`${cp.url}/install.sh`, { headers: { 'x-forwarded-host': "x';rm -rf /;'" } });
  assert.is(badHost.status, 400);
});

test('curl | sh: installs into a temporary root, the installed agent comes online over mqtts', async () => {
  const root = join(work, 'root');
  const tokenFile = join(work, 'token');
  await writeFile(tokenFile, `${await token()}\n`, { mode: 0o600 });
  // The one-command form: the script on stdin, the token from a file.
  const res = await sh(['-s', '--', '--prefix', root, '--no-systemd', '--no-native', '--token-file', tokenFile, '--profile', 'simulated'], { input: await readFile(script, 'utf8') });
  assert.is(res.code, 0, res.out);
  assert.match(res.out, /enrolled as \S+/);
  const app = join(root, 'opt/edgehook-agent');
  const state = join(root, 'var/lib/edgehook-agent');
  // The versioned layout agent updates use (docs/agent-updates.md).
  const pkg = JSON.parse(await readFile(join(app, 'current/package.json'), 'utf8'));
  assert.is(readlinkSync(join(app, 'current')), `versions/${pkg.version}`);
  assert.ok(existsSync(join(app, 'current/lib/edgehook-agent.mjs')));
  assert.ok(readdirSync(join(app, 'current/lib/chunks')).some((f) => f.endsWith('.mjs')), 'the lazily loaded chunks');
  assert.ok(existsSync(join(app, 'current/profiles/raspberry-pi-4b.json')));
  assert.ok(existsSync(join(app, 'launcher.mjs')));
  assert.equal(Object.keys(pkg.optionalDependencies).sort(), ['i2c-bus', 'node-pty', 'onoff', 'serialport']);
  assert.is(pkg.dependencies, undefined);
  assert.is(await mode(state), '700');
  assert.is(await mode(join(state, 'credentials.json')), '600');
  const creds = JSON.parse(await readFile(join(state, 'credentials.json'), 'utf8'));
  assert.match(creds.mqtt.url, /^mqtts:\/\//);
  const env = await readFile(join(root, 'etc/edgehook-agent/agent.env'), 'utf8');
  assert.is(await mode(join(root, 'etc/edgehook-agent/agent.env')), '600');
  assert.match(env, `EDGEHOOK_SERVER_FINGERPRINT=${cp.tls?.fingerprint}`);
  assert.match(env, `EDGEHOOK_STATE_DIR=${state}`);
  assert.match(env, `EDGEHOOK_INSTALL_DIR=${app}`);
  const unit = await readFile(join(root, 'etc/systemd/system/edgehook-agent.service'), 'utf8');
  for (const line of ['Restart=always', 'StateDirectoryMode=0700', 'NoNewPrivileges=yes', 'User=edgehook-agent', 'Environment=GLIBC_TUNABLES=glibc.malloc.trim_threshold=65536:glibc.malloc.arena_max=1', `ExecStart=${process.execPath} --max-semi-space-size=1 --interrupt-budget=270336 --bytecode-old-age=1 ${app}/launcher.mjs`]) assert.match(unit, line);
  if (spawnSync('getent', ['group', 'dialout']).status === 0) assert.match(unit, /SupplementaryGroups=.*dialout/);
  assert.not.match(unit, /ehe_/);
  assert.not.ok(existsSync(tokenFile.replace('token', 'root/var/lib/edgehook-agent/enroll-token')));
  const analyze = spawnSync('systemd-analyze', ['--version']);
  if (analyze.status === 0 || process.env['CI']) {
    const verify = spawnSync('systemd-analyze', ['verify', '--man=no', join(root, 'etc/systemd/system/edgehook-agent.service')], { encoding: 'utf8' });
    assert.is(verify.status, 0, `${verify.stdout}${verify.stderr}`);
  }
  // Start what was installed, with the environment the unit gives it.
  const assignments = [...env.trim().split('\n'), ...[...unit.matchAll(/^Environment=(.+)$/gm)].map((m) => m[1] ?? '')];
  const vars = Object.fromEntries(assignments.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const agent = spawnAgent({ stateDir: state, extraArgs: ['--pty', 'simulated', '--telemetry-port', 'off', '--container-engine', 'simulated'], env: vars, main: join(app, 'launcher.mjs') });
  await waitFor('installed agent online', async () => {
    const d: any = await (await fetchPinned(`${cp.url}/api/devices/${creds.deviceId}`, { headers: { authorization: `Bearer ${bearer}` } })).json();
    return d.online === true;
  }, 30_000);
  // Capabilities load their code on first use, from the package's lazily imported chunks: the
  // process list and the (simulated) container engine answer through the installed files.
  const get = async (path: string): Promise<{ status: number; body: any }> => {
    const r = await fetchPinned(`${cp.url}/api/devices/${creds.deviceId}${path}`, { headers: { authorization: `Bearer ${bearer}` } });
    return { status: r.status, body: await r.json() };
  };
  const procs = await get('/processes');
  assert.is(procs.status, 200, JSON.stringify(procs.body));
  const containers = await get('/containers');
  assert.is(containers.status, 200, JSON.stringify(containers.body));
  assert.ok(Array.isArray(containers.body), JSON.stringify(containers.body));
  await agent.stop();

  // Again: an upgrade in place that keeps the credentials and does not spend the token.
  const again = await sh([script, '--prefix', root, '--no-systemd', '--no-native', '--token-file', '-'], { input: 'ehe_unused-token-value\n' });
  assert.is(again.code, 0, again.out);
  assert.match(again.out, 'already enrolled');
  assert.is(JSON.parse(await readFile(join(state, 'credentials.json'), 'utf8')).deviceId, creds.deviceId);

  const un = await sh([script, '--uninstall', '--prefix', root, '--no-systemd']);
  assert.is(un.code, 0, un.out);
  assert.not.ok(existsSync(app));
  assert.ok(existsSync(join(state, 'credentials.json')));
  const purge = await sh([script, '--uninstall', '--purge', '--prefix', root, '--no-systemd']);
  assert.is(purge.code, 0, purge.out);
  assert.not.ok(existsSync(state));
});

test('bad input: clear messages, and the machine stays as it was', async () => {
  const root = join(work, 'bad');
  await mkdir(root, { recursive: true });
  const untouched = (): boolean => !existsSync(join(root, 'opt')) && !existsSync(join(root, 'var/lib/edgehook-agent')) && !existsSync(join(root, 'etc'));
  const base = ['--prefix', root, '--no-systemd', '--no-native'];

  const refused = await sh([script, ...base, '--token-file', '-'], { input: 'ehe_definitely-not-a-token\n' });
  assert.is(refused.code, 1, refused.out);
  assert.match(refused.out, /enrollment refused \(403\)/);
  assert.match(refused.out, 'nothing was installed');
  assert.ok(untouched());

  const noToken = await sh([script, ...base]);
  assert.is(noToken.code, 1);
  assert.match(noToken.out, 'give the enrollment token with --token-file');
  const argv = await sh([script, ...base, '--enroll', 'ehe_secret']);
  assert.match(argv.out, 'never goes on the command line');
  const fp = await sh([script, ...base, '--token-file', '-', '--server-fingerprint', 'sha1:00']);
  assert.match(fp.out, 'must be sha256: followed by 64 hex digits');
  const wrongPin = await sh([script, ...base, '--token-file', '-', '--server-fingerprint', `sha256:${'ab'.repeat(32)}`], { input: `${await token()}\n` });
  assert.is(wrongPin.code, 1);
  assert.match(wrongPin.out, 'not the pinned');
  assert.ok(untouched());

  // Node.js too old: a fake node 18 first on PATH.
  const bin = join(work, 'old-node');
  await mkdir(bin, { recursive: true });
  await writeFile(join(bin, 'node'), '#!/bin/sh\necho 18.19.0\n');
  await chmod(join(bin, 'node'), 0o755);
  const old = await sh([script, ...base, '--token-file', '-'], { env: { PATH: `${bin}:${process.env['PATH'] ?? ''}` } });
  assert.is(old.code, 1);
  assert.match(old.out, /Node\.js >= 20 is needed, found 18\.19\.0.*apt install nodejs.*NodeSource/);

  // Not root.
  if (process.getuid?.() === 0) {
    await chmod(work, 0o755);
    await chmod(script, 0o644);
    const user = await sh([script, ...base, '--token-file', '-'], { prefixCmd: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] });
    assert.is(user.code, 1, user.out);
    assert.match(user.out, 'run as root (sudo)');
  }
  // A second install running at the same time.
  await mkdir(join(root, 'var/lib/.edgehook-agent-install.lock'), { recursive: true });
  const second = await sh([script, ...base, '--token-file', '-']);
  assert.is(second.code, 1);
  assert.match(second.out, 'another install or uninstall is running');
  assert.ok(untouched());
});

test.run();
