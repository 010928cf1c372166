import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFile, readFile } from 'node:fs/promises';
import { connect } from 'node:tls';
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { AddressInfo } from 'node:net';
import { trustedFetch, fingerprintOf } from '@edgehook/shared/transport';
import { loadServeConfig } from '../src/config.js';
import { startControlPlane } from '../src/control-plane.js';
import { ADMIN_PASSWORD, CP_MAIN, cleanup, killAllAgents, memoryLogger, runCli, spawnAgent, startTestControlPlane, tempDir, waitFor, type TestControlPlane } from './helpers/harness.js';
import { makeCa, makeSelfSigned, makeServerCert, type TestCa } from './helpers/tls-certs.js';

let dir: string;
let ca: TestCa;

test.before(async () => {
  dir = await tempDir('edgehook-tls-');
  ca = await makeCa(dir);
});
test.after(async () => {
  await killAllAgents();
  await cleanup(dir);
});

/** The certificate a TLS server on this port presents, read without trusting it. */
function peerFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(fingerprintOf(s.getPeerCertificate()));
      s.destroy();
    });
    s.once('error', reject);
  });
}

async function adminToken(cp: { url: string }, fetchFn: typeof fetch): Promise<{ token: string; res: Response }> {
  const res = await fetchFn(`${cp.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  assert.is(res.status, 200);
  const body: unknown = await res.clone().json();
  const token = typeof body === 'object' && body !== null && 'accessToken' in body && typeof body.accessToken === 'string' ? body.accessToken : '';
  return { token, res };
}

async function enrollmentToken(cp: { url: string }, fetchFn: typeof fetch, token: string): Promise<any> {
  const res = await fetchFn(`${cp.url}/api/enrollment-tokens`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{}' });
  assert.is(res.status, 201);
  return res.json();
}

async function online(cp: { url: string }, fetchFn: typeof fetch, token: string, deviceId: string): Promise<boolean> {
  const res = await fetchFn(`${cp.url}/api/devices/${deviceId}`, { headers: { authorization: `Bearer ${token}` } });
  const body: any = await res.json();
  return body?.online === true;
}

const AGENT_ARGS = ['--pty', 'simulated', '--telemetry-port', 'off', '--container-engine', 'simulated'];

test('bad certificates stop the start with a clear message', async () => {
  const good = await makeServerCert(dir, ca, ['localhost', '127.0.0.1'], 'bad-good');
  const other = await makeSelfSigned(dir, 'bad-other');
  const { log } = memoryLogger();
  const start = async (args: string[], now?: number): Promise<string> => {
    const config = loadServeConfig(['--port', '0', '--mqtt-port', '0', '--mqtts-port', '0', '--data-dir', await tempDir(), ...args], { EDGEHOOK_ADMIN_PASSWORD: ADMIN_PASSWORD });
    try {
      const cp = await startControlPlane(config, { log, ...(now ? { clock: { now: () => now, monotonic: () => performance.now() } } : {}) });
      await cp.close();
      return 'started';
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  };
  assert.match(await start(['--tls-cert', `${dir}/missing.crt`, '--tls-key', good.keyFile]), /cannot read the TLS certificate .*missing\.crt/);
  assert.match(await start(['--tls-cert', good.keyFile, '--tls-key', good.keyFile]), /is not a PEM certificate/);
  assert.match(await start(['--tls-cert', good.certFile, '--tls-key', good.certFile]), /is not a PEM private key/);
  assert.match(await start(['--tls-cert', good.certFile, '--tls-key', other.keyFile]), /does not match the certificate/);
  assert.match(await start(['--tls-cert', good.certFile, '--tls-key', good.keyFile], Date.now() + 400 * 86_400_000), /expired on/);
  assert.throws(() => loadServeConfig(['--tls-cert', good.certFile], {}), /--tls-cert and --tls-key go together/);
  assert.throws(() => loadServeConfig(['--tls', 'self-signed', '--tls-cert', good.certFile, '--tls-key', good.keyFile], {}), /not both/);
  assert.throws(() => loadServeConfig(['--tls', 'yes'], {}), /--tls/);
});

test('with TLS on, plain MQTT listens on loopback only, unless --allow-plain', async () => {
  const external = Object.values(networkInterfaces()).flat().find((a) => a && !a.internal && a.family === 'IPv4')?.address;
  assert.ok(external, 'this test needs a non-loopback IPv4 address');
  const reachable = (host: string, port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const c = netConnect(port, host, () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
  for (const allowPlain of [false, true]) {
    const cp = await startTestControlPlane({ args: ['--tls', 'self-signed', '--mqtts-port', '0', '--mqtt-host', '0.0.0.0', '--host', '0.0.0.0', ...(allowPlain ? ['--allow-plain', 'true'] : [])] });
    try {
      assert.ok(await reachable('127.0.0.1', cp.mqttPort), 'the control plane keeps its own plain link');
      assert.is(await reachable(external, cp.mqttPort), allowPlain, `plain MQTT on ${external} with allowPlain=${allowPlain}`);
      assert.ok(await reachable(external, cp.mqttsPort ?? 0), 'MQTT over TLS on every address');
    } finally {
      await cp.close();
      await cleanup(cp.dataDir);
    }
  }
});

test('HTTPS login with a CA: HSTS, Secure cookies; a plain-HTTP server given as https is named', async () => {
  const pair = await makeServerCert(dir, ca, ['localhost', '127.0.0.1'], 'https');
  const cp = await startTestControlPlane({ args: ['--tls-cert', pair.certFile, '--tls-key', pair.keyFile, '--mqtts-port', '0'] });
  try {
    assert.match(cp.url, /^https:\/\//);
    assert.is(cp.tls?.selfSigned, false);
    const viaCa = trustedFetch({ ca: ca.pem });
    const { res } = await adminToken(cp, viaCa);
    assert.is(res.headers.get('strict-transport-security'), 'max-age=31536000');
    const cookies = res.headers.getSetCookie();
    assert.ok(cookies.length >= 2 && cookies.every((c) => /;\s*Secure/i.test(c)), cookies.join(' | '));
    // Without the CA, the certificate is refused, never ignored.
    const refused = await trustedFetch({})(`${cp.url}/api/health`).then(
      () => 'accepted',
      (err: unknown) => (err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err)),
    );
    assert.match(refused, /certificate is not trusted/);
  } finally {
    await cp.close();
    await cleanup(cp.dataDir);
  }
  const plain = createServer((_req, res) => res.end('plain'));
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  const port = (plain.address() as AddressInfo).port;
  const words = await trustedFetch({})(`https://127.0.0.1:${port}/`).then(
    () => 'accepted',
    (err: unknown) => (err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err)),
  );
  plain.close();
  assert.match(words, /the server speaks plain HTTP/);
});

let selfSigned: TestControlPlane;
let pinned: typeof fetch;
let adminBearer = '';

test('self-signed: generated once, the agent pins it over mqtts and over wss', async () => {
  selfSigned = await startTestControlPlane({ args: ['--tls', 'self-signed', '--mqtts-port', '0'] });
  const tls = selfSigned.tls;
  assert.ok(tls?.selfSigned && tls.generated);
  assert.match(tls.fingerprint, /^sha256:[0-9a-f]{64}$/);
  assert.is(await peerFingerprint(selfSigned.port), tls.fingerprint);
  pinned = trustedFetch({ fingerprint: tls.fingerprint });
  adminBearer = (await adminToken(selfSigned, pinned)).token;
  const created = await enrollmentToken(selfSigned, pinned, adminBearer);
  assert.is(created.install.fingerprint, tls.fingerprint);
  assert.match(created.install.command, `--server-fingerprint ${tls.fingerprint}`);
  assert.match(created.install.command, /^curl -fsSLk --pinnedpubkey sha256\/\/\S+ https:\/\/127\.0\.0\.1:\d+\/install\.sh \| sudo sh -s -- --token-file -/);

  for (const transport of ['tcp', 'ws']) {
    const token = (await enrollmentToken(selfSigned, pinned, adminBearer)).token;
    const agent = spawnAgent({ server: selfSigned.url, token, stateDir: await tempDir('edgehook-agent-'), hostname: `tls-${transport}`, extraArgs: [...AGENT_ARGS, '--server-fingerprint', tls.fingerprint, '--mqtt-transport', transport] });
    const deviceId = await waitFor('enrolled', () => /"deviceId":"([^"]+)"/.exec(agent.output())?.[1], 20_000);
    await waitFor(`online over ${transport}`, () => online(selfSigned, pinned, adminBearer, deviceId), 20_000);
    const creds = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(`${agent.stateDir}/credentials.json`, 'utf8')));
    assert.match(creds.mqtt.url, /^mqtts:\/\/127\.0\.0\.1:\d+$/);
    assert.match(creds.mqtt.wsUrl, /^wss:\/\/127\.0\.0\.1:\d+\/mqtt$/);
    await agent.stop();
  }
});

test('a wrong fingerprint or no trust at all is refused with a clear message', async () => {
  const wrong = `sha256:${'ab'.repeat(32)}`;
  const token = (await enrollmentToken(selfSigned, pinned, adminBearer)).token;
  const agent = spawnAgent({ server: selfSigned.url, token, stateDir: await tempDir('edgehook-agent-'), extraArgs: [...AGENT_ARGS, '--server-fingerprint', wrong] });
  assert.is.not(await agent.exited, 0);
  assert.match(agent.output(), `not the pinned ${wrong}; refusing to connect`);
  const untrusted = spawnAgent({ server: selfSigned.url, token, stateDir: await tempDir('edgehook-agent-'), extraArgs: AGENT_ARGS });
  assert.is.not(await untrusted.exited, 0);
  assert.match(untrusted.output(), /certificate is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
  const badFormat = spawnAgent({ server: selfSigned.url, stateDir: await tempDir('edgehook-agent-'), extraArgs: ['--server-fingerprint', 'sha1:abcd'] });
  assert.is(await badFormat.exited, 2);
  assert.match(badFormat.output(), /must be sha256: followed by 64 hex digits/);

  // Enrolled with the right pin, then the link itself refuses a wrong one (the broker's TLS port).
  const ok = (await enrollmentToken(selfSigned, pinned, adminBearer)).token;
  const stateDir = await tempDir('edgehook-agent-');
  const first = spawnAgent({ server: selfSigned.url, token: ok, stateDir, extraArgs: [...AGENT_ARGS, '--server-fingerprint', selfSigned.tls?.fingerprint ?? ''] });
  await first.waitForOutput(/connected to the control plane/, 20_000);
  await first.stop();
  const again = spawnAgent({ stateDir, extraArgs: [...AGENT_ARGS, '--server-fingerprint', wrong] });
  await again.waitForOutput(/TLS refused.*not the pinned/, 20_000);
  await again.stop();
});

test('CLI: login with a pinned fingerprint is remembered; exec runs over wss; untrusted and plain HTTP are named', async () => {
  const config = await tempDir('edgehook-cli-');
  const fp = selfSigned.tls?.fingerprint ?? '';
  const untrusted = await runCli(config, ['login', '--server', selfSigned.url], { EDGEHOOK_PASSWORD: ADMIN_PASSWORD });
  assert.is(untrusted.code, 1);
  assert.match(untrusted.stderr, /certificate is not trusted.*--server-fingerprint/);
  const badFp = await runCli(config, ['login', '--server', selfSigned.url, '--fingerprint', 'sha256:xyz'], { EDGEHOOK_PASSWORD: ADMIN_PASSWORD });
  assert.is(badFp.code, 2);
  assert.match(badFp.stderr, 'must be sha256: followed by 64 hex digits');
  const wrong = await runCli(config, ['login', '--server', selfSigned.url, '--fingerprint', `sha256:${'cd'.repeat(32)}`], { EDGEHOOK_PASSWORD: ADMIN_PASSWORD });
  assert.is(wrong.code, 1);
  assert.match(wrong.stderr, 'not the pinned');
  const ok = await runCli(config, ['login', '--server', selfSigned.url, '--fingerprint', fp], { EDGEHOOK_PASSWORD: ADMIN_PASSWORD });
  assert.is(ok.code, 0, ok.stderr);
  const stored = JSON.parse(await readFile(`${config}/credentials.json`, 'utf8'));
  assert.is(stored.tls.fingerprint, fp);
  // Later commands use the remembered pin: REST, and a websocket (exec) over wss.
  const token = (await enrollmentToken(selfSigned, pinned, adminBearer)).token;
  const agent = spawnAgent({ server: selfSigned.url, token, stateDir: await tempDir('edgehook-agent-'), hostname: 'tls-cli', extraArgs: [...AGENT_ARGS, '--server-fingerprint', fp] });
  const deviceId = await waitFor('enrolled', () => /"deviceId":"([^"]+)"/.exec(agent.output())?.[1], 20_000);
  await waitFor('online', () => online(selfSigned, pinned, adminBearer, deviceId), 20_000);
  const list = await runCli(config, ['devices']);
  assert.is(list.code, 0, list.stderr);
  assert.match(list.stdout, 'tls-cli');
  const exec = await runCli(config, ['exec', 'tls-cli', '--raw', '--', 'echo', 'over-wss']);
  assert.is(exec.code, 0, exec.stderr);
  assert.match(exec.stdout, 'over-wss');
  await agent.stop();
  // A plain-HTTP control plane given as https.
  const plain = await startTestControlPlane();
  try {
    const res = await runCli(config, ['login', '--server', plain.url.replace('http:', 'https:')], { EDGEHOOK_PASSWORD: ADMIN_PASSWORD });
    assert.is(res.code, 1);
    assert.match(res.stderr, 'the server speaks plain HTTP');
  } finally {
    await plain.close();
    await cleanup(plain.dataDir, config);
  }
});

test('SIGHUP-style reload: new certificate for new connections, devices stay connected', async () => {
  const { certFile, keyFile } = await makeServerCert(dir, ca, ['localhost', '127.0.0.1'], 'reload-a');
  const live = `${dir}/live.crt`;
  const liveKey = `${dir}/live.key`;
  await copyFile(certFile, live);
  await copyFile(keyFile, liveKey);
  const cp = await startTestControlPlane({ args: ['--tls-cert', live, '--tls-key', liveKey, '--mqtts-port', '0'] });
  try {
    const viaCa = trustedFetch({ ca: ca.pem });
    const bearer = (await adminToken(cp, viaCa)).token;
    const caFile = ca.certFile;
    const devices: Array<{ id: string; agent: ReturnType<typeof spawnAgent> }> = [];
    for (const transport of ['tcp', 'ws']) {
      const token = (await enrollmentToken(cp, viaCa, bearer)).token;
      const agent = spawnAgent({ server: cp.url, token, stateDir: await tempDir('edgehook-agent-'), extraArgs: [...AGENT_ARGS, '--ca', caFile, '--mqtt-transport', transport] });
      const id = await waitFor('enrolled', () => /"deviceId":"([^"]+)"/.exec(agent.output())?.[1], 20_000);
      await waitFor('online', () => online(cp, viaCa, bearer, id), 20_000);
      devices.push({ id, agent });
    }
    const before = await peerFingerprint(cp.mqttsPort ?? 0);
    const next = await makeServerCert(dir, ca, ['localhost', '127.0.0.1'], 'reload-b');
    await copyFile(next.certFile, live);
    await copyFile(next.keyFile, liveKey);
    const info = await cp.reloadTls();
    assert.ok(info && info.fingerprint !== before);
    assert.is(await peerFingerprint(cp.mqttsPort ?? 0), info.fingerprint);
    assert.is(await peerFingerprint(cp.port), info.fingerprint);
    for (const d of devices) {
      assert.ok(await online(cp, viaCa, bearer, d.id));
      assert.not.match(d.agent.output(), /disconnected from the control plane/);
    }
    // A broken replacement keeps the current certificate.
    await copyFile(next.certFile, liveKey);
    try {
      await cp.reloadTls();
      assert.unreachable('reload with a broken key succeeded');
    } catch (err) {
      assert.match(String(err), /not a PEM private key/);
    }
    assert.is(await peerFingerprint(cp.port), info.fingerprint);
    for (const d of devices) await d.agent.stop();
  } finally {
    await cp.close();
    await cleanup(cp.dataDir);
  }
});

test('edgehook serve reloads its certificate on SIGHUP; a device stays connected', async () => {
  const a = await makeServerCert(dir, ca, ['localhost', '127.0.0.1'], 'hup-a');
  const b = await makeServerCert(dir, ca, ['localhost', '127.0.0.1'], 'hup-b');
  const [live, liveKey] = [`${dir}/hup.crt`, `${dir}/hup.key`];
  await copyFile(a.certFile, live);
  await copyFile(a.keyFile, liveKey);
  const data = await tempDir();
  const child = spawn(process.execPath, [CP_MAIN, 'serve', '--port', '0', '--mqtt-port', '0', '--mqtts-port', '0', '--data-dir', data, '--tls-cert', live, '--tls-key', liveKey], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EDGEHOOK_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  try {
    const url = await waitFor('banner', () => /Edgehook control plane: (https:\/\/\S+)/.exec(out)?.[1], 30_000);
    const viaCa = trustedFetch({ ca: ca.pem });
    const cp = { url };
    const bearer = (await adminToken(cp, viaCa)).token;
    const token = (await enrollmentToken(cp, viaCa, bearer)).token;
    const agent = spawnAgent({ server: url, token, stateDir: await tempDir('edgehook-agent-'), extraArgs: [...AGENT_ARGS, '--ca', ca.certFile] });
    const id = await waitFor('enrolled', () => /"deviceId":"([^"]+)"/.exec(agent.output())?.[1], 20_000);
    await waitFor('online', () => online(cp, viaCa, bearer, id), 20_000);
    const port = Number(new URL(url).port);
    const before = await peerFingerprint(port);
    await copyFile(b.certFile, live);
    await copyFile(b.keyFile, liveKey);
    child.kill('SIGHUP');
    await waitFor('reloaded', () => /SIGHUP: TLS certificate reloaded, fingerprint (sha256:\S+)/.exec(out)?.[1], 15_000);
    const after = await peerFingerprint(port);
    assert.is.not(after, before);
    assert.ok(await online(cp, viaCa, bearer, id));
    assert.not.match(agent.output(), /disconnected from the control plane/);
    await agent.stop();
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await cleanup(data);
  }
});

test.after(async () => {
  await selfSigned?.close();
  if (selfSigned) await cleanup(selfSigned.dataDir);
});

test.run();
