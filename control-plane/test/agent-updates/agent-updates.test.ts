import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { cp as copyDir, mkdir, readdir, readFile, readlink, stat, symlink, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { adminApi, cleanup, createEnrollmentToken, enrolledAgent, killAllAgents, repoRoot, runCli, spawnAgent, startTestControlPlane, tempDir, waitFor, type AgentProcess, type Api, type TestControlPlane } from '../helpers/harness.js';

// Real agent processes started by the launcher from a versioned install, restarted by a small
// supervisor as systemd's Restart=always would; packages built from the real agent package with
// their version changed (and, for the failures, their code replaced).
const BUILT = join(repoRoot, 'agent/dist-package/edgehook-agent');
let cp: TestControlPlane;
let api: Api;
let work: string;

/** The built package as version `version`; `code` replaces its agent (a broken build). */
async function makePackage(version: string, code?: string): Promise<string> {
  const dir = join(work, `pkg-${version}`);
  await copyDir(BUILT, join(dir, 'edgehook-agent'), { recursive: true });
  const pkgJson = JSON.parse(await readFile(join(dir, 'edgehook-agent/package.json'), 'utf8'));
  await writeFile(join(dir, 'edgehook-agent/package.json'), JSON.stringify({ ...pkgJson, version }, null, 2));
  if (code !== undefined) await writeFile(join(dir, 'edgehook-agent/lib/edgehook-agent.mjs'), code);
  const tgz = join(work, `edgehook-agent-${version}.tgz`);
  execFileSync('tar', ['-czf', tgz, '-C', dir, 'edgehook-agent']);
  return tgz;
}

async function publish(version: string, file: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${cp.url}/api/agent/packages/${version}`, { method: 'PUT', headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/gzip' }, body: await readFile(file) });
  return { status: res.status, body: await res.json() };
}

/** Restarts the agent whenever it exits, as systemd does; records the exit codes. */
function supervise(opts: { install: string; stateDir: string; token: string; hostname: string }): { exits: (number | null)[]; output: () => string; stop: () => Promise<void> } {
  let stopped = false;
  let past = '';
  const exits: (number | null)[] = [];
  let current: AgentProcess;
  const start = (): void => {
    const agent = spawnAgent({ main: join(opts.install, 'launcher.mjs'), server: cp.url, token: opts.token, stateDir: opts.stateDir, hostname: opts.hostname, extraArgs: ['--pty', 'simulated', '--telemetry-port', 'off', '--container-engine', 'simulated'] });
    current = agent;
    void agent.exited.then((code) => {
      past += agent.output();
      exits.push(code);
      if (!stopped) setTimeout(start, 200);
    });
  };
  start();
  return {
    exits,
    output: () => past + current.output(),
    stop: async () => {
      stopped = true;
      await current.stop();
    },
  };
}

let install: string;
let device: string;
let agent: ReturnType<typeof supervise>;

test.before(async () => {
  work = await tempDir('edgehook-updates-');
  cp = await startTestControlPlane({ args: ['--agent-update-deadline', '15'] });
  api = await adminApi(cp);
  // Version 1.0.0 installed as install.sh lays it out.
  install = join(work, 'opt/edgehook-agent');
  await mkdir(join(install, 'versions'), { recursive: true });
  const base = await makePackage('1.0.0');
  execFileSync('tar', ['-xzf', base, '-C', join(install, 'versions')]);
  await copyDir(join(install, 'versions/edgehook-agent'), join(install, 'versions/1.0.0'), { recursive: true });
  execFileSync('rm', ['-rf', join(install, 'versions/edgehook-agent')]);
  await symlink('versions/1.0.0', join(install, 'current'));
  await copyFile(join(install, 'current/lib/launcher.mjs'), join(install, 'launcher.mjs'));
  const stateDir = join(work, 'state');
  agent = supervise({ install, stateDir, token: await createEnrollmentToken(api), hostname: 'updatable' });
  device = await waitFor('enrollment', () => /"deviceId":"([^"]+)"/.exec(agent.output())?.[1], 20_000);
  await waitFor('online on 1.0.0', async () => {
    const d = (await api.request('GET', `/api/devices/${device}`)).body;
    return d?.online === true && d.agentVersion === '1.0.0';
  }, 20_000);
  // The signing key was pinned at enrollment.
  const creds = JSON.parse(await readFile(join(stateDir, 'credentials.json'), 'utf8'));
  const list = (await api.request('GET', '/api/agent/packages')).body;
  assert.is(creds.packageKey, list.signingKey);
  assert.is((await stat(join(cp.dataDir, 'agent-signing-key.pem'))).mode & 0o777, 0o600);
});

test.after(async () => {
  await agent?.stop();
  await killAllAgents();
  await cp.close();
  await cleanup(cp.dataDir, work);
});

test('packages by version: published ones are listed newest first, signed, downloadable; bad ones refused', async () => {
  assert.is((await publish('1.1.0', await makePackage('1.1.0'))).status, 201);
  const wrong = await publish('1.9.0', await makePackage('1.8.0'));
  assert.is(wrong.status, 400);
  assert.match(wrong.body.error.message, 'says it is version 1.8.0');
  const junk = join(work, 'junk.tgz');
  await writeFile(junk, 'not a tarball');
  assert.is((await publish('1.9.0', junk)).status, 400);
  assert.is((await publish('1.1.0', await makePackage('1.1.0'))).status, 409, 'versions are immutable');
  assert.is((await publish('one', junk)).status, 400);
  const list = (await api.request('GET', '/api/agent/packages')).body;
  assert.is(list.latest, '1.1.0');
  assert.equal(list.packages.map((p: any) => p.version).slice(0, 2), ['1.1.0', '0.1.0']);
  const pkg = list.packages[0];
  const res = await fetch(`${cp.url}${pkg.path}`);
  assert.is(res.status, 200);
  assert.is((await res.arrayBuffer()).byteLength, pkg.size);
  assert.is((await fetch(`${cp.url}/downloads/agent/9.9.9/edgehook-agent.tgz`)).status, 404);
  // The fleet list marks who lags behind the newest.
  const devices = (await api.request('GET', '/api/devices')).body;
  assert.is(devices.find((d: any) => d.id === device).agentLatest, '1.1.0');
});

test('an unknown version is 404; an agent not run from a versioned install refuses', async () => {
  const res = await api.request('POST', `/api/devices/${device}/agent/update`, { version: '9.9.9' });
  assert.is(res.status, 404);
  assert.match(res.body.error.message, 'no agent package 9.9.9');
  assert.is((await api.request('POST', `/api/devices/${device}/agent/update`, { version: 'latest' })).status, 400);
  const bare = await enrolledAgent(cp, api);
  const refused = await api.request('POST', `/api/devices/${bare.deviceId}/agent/update`, {});
  assert.is(refused.status, 200);
  assert.is(refused.body.status, 'failed');
  assert.match(refused.body.message, 'versioned install');
  await bare.stop();
});

test('edgehook agent update: the new version restarts, reports itself and is confirmed', async () => {
  const config = await tempDir('edgehook-cli-');
  const login = await runCli(config, ['login', '--server', cp.url, '--username', 'admin'], { EDGEHOOK_PASSWORD: 'admin-test-password' });
  assert.is(login.code, 0, login.stderr);
  const res = await runCli(config, ['agent', 'update', 'updatable', '--version', '1.1.0']);
  assert.is(res.code, 0, res.stdout + res.stderr);
  assert.match(res.stdout, 'updatable: succeeded (runs 1.1.0)');
  assert.ok(agent.exits.includes(75), `the old version exited to be restarted: ${agent.exits.join(',')}`);
  const d = (await api.request('GET', `/api/devices/${device}`)).body;
  assert.is(d.agentVersion, '1.1.0');
  assert.is(await readlink(join(install, 'current')), 'versions/1.1.0');
  assert.equal((await readdir(join(install, 'versions'))).sort(), ['1.0.0', '1.1.0'], 'the previous version is kept');
  assert.is(JSON.parse(await readFile(join(install, 'update.json'), 'utf8')).state, 'confirmed');
  const table = await runCli(config, ['devices']);
  assert.match(table.stdout, /updatable .* 1\.1\.0 /);
  assert.not.match(table.stdout, /updatable .*behind/);
  const again = await runCli(config, ['agent', 'update', 'updatable']);
  assert.match(again.stdout, 'already runs 1.1.0');
  // Publishing from the CLI (a raw upload after a session refresh).
  const pub = await runCli(config, ['agent', 'publish', await makePackage('1.1.1'), '--version', '1.1.1']);
  assert.is(pub.code, 0, pub.stdout + pub.stderr);
  assert.match(pub.stdout, /^published agent 1\.1\.1 \(\d+ bytes, sha256 [0-9a-f]{64}\)\n$/);
  const mislabelled = await runCli(config, ['agent', 'publish', await makePackage('1.1.2'), '--version', '1.1.3']);
  assert.is(mislabelled.code, 1);
  assert.match(mislabelled.stderr, 'says it is version 1.1.2');
  const packages = await runCli(config, ['agent', 'packages']);
  assert.match(packages.stdout, /VERSION +SOURCE[^\n]*\n1\.1\.1 +published/);
  assert.match((await runCli(config, ['devices'])).stdout, /updatable .* 1\.1\.0 \(behind 1\.1\.1\)/);
  const usage = await runCli(config, ['agent', 'update']);
  assert.is(usage.code, 2);
  assert.is((await runCli(config, ['agent', 'update', 'updatable', '--version', 'newest'])).code, 2);
  // By tag: every device with it, one line each.
  assert.is((await api.request('PATCH', `/api/devices/${device}`, { tags: ['lab'] })).status, 200);
  const byTag = await runCli(config, ['agent', 'update', '--tag', 'lab', '--version', '1.1.0']);
  assert.is(byTag.code, 0, byTag.stdout + byTag.stderr);
  assert.match(byTag.stdout, 'updatable: succeeded (runs 1.1.0): already runs 1.1.0');
  await cleanup(config);
});

test('a new version that crashes at start is rolled back by the launcher', async () => {
  assert.is((await publish('1.2.0', await makePackage('1.2.0', "throw new Error('this build is broken');\n"))).status, 201);
  const res = await api.request('POST', `/api/devices/${device}/agent/update`, { version: '1.2.0' });
  assert.is(res.status, 200, JSON.stringify(res.body));
  assert.is(res.body.status, 'rolled-back', JSON.stringify(res.body));
  assert.is(res.body.version, '1.1.0');
  assert.match(res.body.message, 'failed to load: this build is broken');
  assert.is(await readlink(join(install, 'current')), 'versions/1.1.0');
  assert.is((await api.request('GET', `/api/devices/${device}`)).body.agentVersion, '1.1.0');
});

test('a new version that keeps crashing after it loaded is rolled back after 3 starts', async () => {
  assert.is((await publish('1.2.1', await makePackage('1.2.1', 'setTimeout(() => process.exit(3), 20);\n'))).status, 201);
  const before = agent.exits.length;
  const res = await api.request('POST', `/api/devices/${device}/agent/update`, { version: '1.2.1' });
  assert.is(res.body.status, 'rolled-back', JSON.stringify(res.body));
  assert.match(res.body.message, 'stopped 3 times while starting');
  assert.equal(agent.exits.slice(before), [75, 3, 3, 3], 'the old one asked for the restart, the new one crashed three times');
  assert.is(await readlink(join(install, 'current')), 'versions/1.1.0');
});

test('a new version that never reaches the control plane is rolled back at its deadline', async () => {
  assert.is((await publish('1.3.0', await makePackage('1.3.0', 'setInterval(() => undefined, 60_000);\n'))).status, 201);
  const res = await api.request('POST', `/api/devices/${device}/agent/update`, { version: '1.3.0' });
  assert.is(res.body.status, 'rolled-back', JSON.stringify(res.body));
  assert.is(res.body.version, '1.1.0');
  assert.match(res.body.message, 'did not reach the control plane');
  assert.is(await readlink(join(install, 'current')), 'versions/1.1.0');
  await waitFor('back online on 1.1.0', async () => (await api.request('GET', `/api/devices/${device}`)).body.online === true);
});

test('a package altered on the control plane is refused by the device, which keeps running', async () => {
  assert.is((await publish('1.4.0', await makePackage('1.4.0'))).status, 201);
  // The signed manifest stays; the bytes on disk change (a tampered mirror or disk).
  const file = join(cp.dataDir, 'agent-packages/1.4.0/edgehook-agent.tgz');
  const bytes = await readFile(file);
  bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 0xff;
  await writeFile(file, bytes);
  const before = await readdir(join(install, 'versions'));
  const res = await api.request('POST', `/api/devices/${device}/agent/update`, { version: '1.4.0' });
  assert.is(res.body.status, 'failed', JSON.stringify(res.body));
  assert.match(res.body.message, 'does not match its signed SHA-256');
  assert.equal(await readdir(join(install, 'versions')), before);
  assert.is(await readlink(join(install, 'current')), 'versions/1.1.0');
  assert.ok(!(await stat(join(install, 'staging')).catch(() => undefined)));
  assert.is((await api.request('POST', `/api/devices/${device}/ping`)).status, 200);
  // Both operator actions are in the audit log.
  const updates = (await api.request('GET', '/api/audit?action=agent.update')).body.entries;
  assert.ok(updates.filter((e: any) => e.deviceId === device).length >= 5, JSON.stringify(updates));
  const published = (await api.request('GET', '/api/audit?action=agent.publish')).body.entries;
  assert.ok(published.some((e: any) => e.target === '1.4.0'), JSON.stringify(published[0]));
});

test.run();
