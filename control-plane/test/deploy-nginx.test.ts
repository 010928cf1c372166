import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { trustedFetch } from '@edgehook/shared/transport';
import { ADMIN_PASSWORD, cleanup, killAllAgents, repoRoot, runCli, spawnAgent, startTestControlPlane, tempDir, waitFor, type TestControlPlane } from './helpers/harness.js';
import { makeCa, makeServerCert } from './helpers/tls-certs.js';
import { linkTransport } from '../../agent/src/agent.js';

// The real nginx (Debian's package) run from the configuration docs/deploy.md shows.
const NGINX = '/usr/sbin/nginx';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const c = connect(port, '127.0.0.1', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });

/** The first ```nginx block of docs/deploy.md. */
async function documentedConfig(): Promise<string> {
  const doc = await readFile(join(repoRoot, 'docs/deploy.md'), 'utf8');
  const block = /```nginx\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error('docs/deploy.md has no ```nginx block');
  return block;
}

if (!existsSync(NGINX)) {
  if (process.env['CI']) throw new Error(`${NGINX} is missing: .ci/run installs the nginx package`);
  console.log(`skipped: ${NGINX} is not installed (apt-get install nginx)`);
} else {
  let dir: string;
  let cp: TestControlPlane;
  let nginx: ChildProcess;
  let proxyUrl: string;
  let caFile: string;
  let caPem: string;

  test.before(async () => {
    dir = await tempDir('edgehook-nginx-');
    const ca = await makeCa(dir);
    caFile = ca.certFile;
    caPem = ca.pem;
    const cert = await makeServerCert(dir, ca, ['localhost', '127.0.0.1']);
    const port = await freePort();
    proxyUrl = `https://127.0.0.1:${port}`;
    cp = await startTestControlPlane({ args: ['--public-url', proxyUrl] });
    const site = (await documentedConfig())
      .replace('listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`)
      .replace('/etc/ssl/edgehook/fullchain.pem', cert.certFile)
      .replace('/etc/ssl/edgehook/privkey.pem', cert.keyFile)
      .replace('http://127.0.0.1:8080', `http://127.0.0.1:${cp.port}`);
    assert.match(site, `127.0.0.1:${cp.port}`);
    for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(dir, d), { recursive: true });
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k, i) => `  ${k}_temp_path ${join(dir, ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'][i] ?? k)};`).join('\n');
    const conf = `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;\npid ${join(dir, 'nginx.pid')};\nerror_log ${join(dir, 'error.log')} warn;\nevents { worker_connections 256; }\nhttp {\n  access_log off;\n${temp}\n${site}\n}\n`;
    await writeFile(join(dir, 'nginx.conf'), conf);
    nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    nginx.stderr?.on('data', (d) => (out += d));
    await waitFor(`nginx listening (${out})`, async () => (nginx.exitCode !== null ? Promise.reject(new Error(`nginx exited: ${out} ${await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')}`)) : listening(port)), 15_000);
  });

  test.after(async () => {
    await killAllAgents();
    if (nginx && nginx.exitCode === null) {
      const gone = new Promise((resolve) => nginx.once('exit', resolve));
      nginx.kill('SIGTERM');
      await gone;
    }
    await cp?.close();
    await cleanup(dir, cp?.dataDir ?? '');
  });

  test('through nginx: HTTPS login with the CA, HSTS, the install script names the public URL', async () => {
    const viaCa = trustedFetch({ ca: caPem });
    const health = await viaCa(`${proxyUrl}/api/health`);
    assert.is(health.status, 200);
    assert.is(health.headers.get('strict-transport-security'), 'max-age=31536000');
    const script = await (await viaCa(`${proxyUrl}/install.sh`)).text();
    assert.match(script, `DEFAULT_SERVER='${proxyUrl}'`);
    const config = await tempDir('edgehook-cli-');
    const login = await runCli(config, ['login', '--server', proxyUrl, '--ca', caFile], { EDGEHOOK_PASSWORD: ADMIN_PASSWORD });
    assert.is(login.code, 0, login.stderr);
    const created = await runCli(config, ['enroll-token', 'create']);
    assert.is(created.code, 0, created.stderr);
    assert.match(created.stdout, `curl -fsSL ${proxyUrl}/install.sh | sudo sh -s -- --token-file -`);
    await cleanup(config);
  });

  test('through nginx: an agent enrolls and comes online over wss (auto transport)', async () => {
    const viaCa = trustedFetch({ ca: caPem });
    const login = await viaCa(`${proxyUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
    const bearer = ((await login.json()) as { accessToken: string }).accessToken;
    const res = await viaCa(`${proxyUrl}/api/enrollment-tokens`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body: '{}' });
    const token = ((await res.json()) as { token: string }).token;
    const stateDir = await tempDir('edgehook-agent-');
    const agent = spawnAgent({ server: proxyUrl, token, stateDir, hostname: 'behind-nginx', extraArgs: ['--ca', caFile, '--pty', 'simulated', '--telemetry-port', 'off', '--container-engine', 'simulated'] });
    const deviceId = await waitFor('enrolled', () => /"deviceId":"([^"]+)"/.exec(agent.output())?.[1], 20_000);
    const creds = JSON.parse(await readFile(join(stateDir, 'credentials.json'), 'utf8'));
    assert.is(creds.mqtt.wsUrl, `wss://127.0.0.1:${new URL(proxyUrl).port}/mqtt`);
    // The plain MQTT URL is not TLS, the websocket one is: `auto` takes the websocket (via nginx).
    assert.match(creds.mqtt.url, /^mqtt:\/\//);
    assert.is(linkTransport('auto', creds), 'ws');
    await waitFor('online through nginx', async () => {
      const d = await viaCa(`${proxyUrl}/api/devices/${deviceId}`, { headers: { authorization: `Bearer ${bearer}` } });
      return ((await d.json()) as { online?: boolean }).online === true;
    }, 20_000);
    await agent.stop();
  });

  test.run();
}
