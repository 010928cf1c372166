import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { trustedFetch } from '@edgehook/shared/transport';
import { ADMIN_PASSWORD, cleanup, freePort, killAllAgents, repoRoot, runCli, spawnAgent, startTestControlPlane, tempDir, waitFor, type TestControlPlane } from './helpers/harness.js';
import { makeCa, makeServerCert } from './helpers/tls-certs.js';
import { requireNginx, startNginx, type RunningNginx } from './helpers/nginx.js';
import { linkTransport } from '../../agent/src/agent.js';

// The real nginx (Debian's package) run from the configuration docs/deploy.md shows.

/** The first ```nginx block of docs/deploy.md. */
async function documentedConfig(): Promise<string> {
  const doc = await readFile(join(repoRoot, 'docs/deploy.md'), 'utf8');
  const block = /```nginx\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error('docs/deploy.md has no ```nginx block');
  return block;
}

if (requireNginx()) {
  let dir: string;
  let cp: TestControlPlane;
  let nginx: RunningNginx | undefined;
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
    nginx = await startNginx(dir, site, port);
  });

  test.after(async () => {
    await killAllAgents();
    await nginx?.stop();
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
