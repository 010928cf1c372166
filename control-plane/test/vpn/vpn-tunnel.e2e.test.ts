import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:net';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminApi, cleanup, createEnrollmentToken, killAllAgents, spawnAgent, startTestControlPlane, tempDir, waitFor, type AgentProcess, type Api, type TestControlPlane } from '../helpers/harness.js';
import { run, wgTools, WG_ENV } from './wg-tools.js';

/**
 * A real tunnel end to end: the hub is Debian's wg-quick in a network namespace of its own (joined
 * to this one by a veth pair), configured with nothing but the control plane's hub.conf; the device
 * is a real agent with --vpn apply. The agent reports the handshake, and a connection from the
 * hub's side reaches the device at its VPN address through the tunnel.
 */
const { userspace } = await wgTools();
const netns = userspace && (await run('ip', ['netns', 'list']).then(() => true, () => false));
if (!netns) {
  console.log('  (real tunnel test skipped: needs root, /dev/net/tun, wireguard-go and ip netns)');
  test('real tunnel (skipped on this machine)', () => undefined);
  test.run();
} else {
  const r = 20 + Math.floor(Math.random() * 200);
  const tag = Math.random().toString(36).slice(2, 6);
  const ns = `ehns${tag}`;
  const vethHere = `ehva${tag}`;
  const vethHub = `ehvb${tag}`;
  const devIf = `ehdv${tag}`;
  const hubIf = `ehhb${tag}`;
  const hubIp = `10.253.${r}.1`;
  const subnet = `10.250.${r}.0/29`;
  let cp: TestControlPlane;
  let api: Api;
  let agent: AgentProcess | undefined;
  let dir = '';
  let server: Server | undefined;
  const inNs = (cmd: string, args: string[], env?: NodeJS.ProcessEnv) => run('ip', ['netns', 'exec', ns, cmd, ...args], undefined, env);

  test.before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgehook-tunnel-'));
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['link', 'add', vethHere, 'type', 'veth', 'peer', 'name', vethHub]);
    await run('ip', ['link', 'set', vethHub, 'netns', ns]);
    await run('ip', ['addr', 'add', `10.253.${r}.2/30`, 'dev', vethHere]);
    await run('ip', ['link', 'set', vethHere, 'up']);
    await inNs('ip', ['addr', 'add', `${hubIp}/30`, 'dev', vethHub]);
    await inNs('ip', ['link', 'set', vethHub, 'up']);
    await inNs('ip', ['link', 'set', 'lo', 'up']);
    cp = await startTestControlPlane({ args: ['--vpn-endpoint', `${hubIp}:51820`, '--vpn-subnet', subnet] });
    api = await adminApi(cp);
  });

  test.after(async () => {
    server?.close();
    await agent?.stop();
    await killAllAgents();
    await run('ip', ['link', 'del', devIf]).catch(() => undefined);
    await inNs('ip', ['link', 'del', hubIf]).catch(() => undefined);
    await run('ip', ['link', 'del', vethHere]).catch(() => undefined);
    await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    await cp?.close();
    await cleanup(dir, ...(cp ? [cp.dataDir] : []), ...(agent ? [agent.stateDir] : []));
  });

  test('the hub from hub.conf and an agent with --vpn apply shake hands; the hub reaches the device through the tunnel', async () => {
    agent = spawnAgent({ server: cp.url, token: await createEnrollmentToken(api), stateDir: await tempDir('edgehook-agent-'), hostname: `tunnel-${tag}`, extraArgs: ['--vpn', 'apply', '--vpn-interface', devIf], env: { WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1' } });
    const a = agent;
    const deviceId = await waitFor('agent enrollment', async () => /"deviceId":"([^"]+)"/.exec(a.output())?.[1], 15_000);
    await waitFor('device online', async () => (await api.request('GET', `/api/devices/${deviceId}`)).body?.online === true, 15_000);
    const issued = await api.request('POST', `/api/devices/${deviceId}/vpn`, {});
    assert.is(issued.status, 200, JSON.stringify(issued.body));
    assert.is(issued.body.status.state, 'up', JSON.stringify(issued.body.status));
    assert.is(issued.body.status.latestHandshake, null, 'no hub yet');
    // The operator's side: the hub is configured with the control plane's hub.conf and nothing else.
    const res = await fetch(cp.url + '/api/vpn/hub.conf', { headers: { authorization: `Bearer ${api.token}` } });
    const hubConf = join(dir, `${hubIf}.conf`);
    await writeFile(hubConf, await res.text(), { mode: 0o600 });
    await chmod(hubConf, 0o600);
    await inNs('wg-quick', ['up', hubConf], WG_ENV);
    // The agent reports the handshake with the hub (its keepalive starts one).
    const shook = await waitFor('the handshake reported by the agent', async () => {
      const s = (await api.request('GET', `/api/devices/${deviceId}/vpn`)).body.status;
      return typeof s?.latestHandshake === 'number' && s.latestHandshake > 0 ? s : undefined;
    }, 20_000, 250);
    assert.ok(Math.abs(shook.latestHandshake - Date.now() / 1000) < 120, 'a recent handshake, in epoch seconds');
    const snap = await api.request('POST', `/api/devices/${deviceId}/telemetry/snapshot`, { stat_types: ['vpn_status'] });
    assert.is(snap.body.tele_data.vpn_status.ifname, devIf);
    assert.type(snap.body.tele_data.vpn_status.last_handshake_s, 'number');
    // Traffic: from the hub's namespace to the device's VPN address, which exists only through the tunnel.
    const address = String(issued.body.address);
    const got = new Promise<string>((resolve) => {
      server = createServer((sock) => {
        let text = '';
        sock.on('data', (d) => (text += d));
        sock.on('end', () => resolve(text));
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, address, () => resolve()));
    const port = Number((server?.address() as { port: number }).port);
    await inNs(process.execPath, ['-e', `const s=require('net').connect(${port},'${address}',()=>s.end('hello from the hub'));s.on('error',e=>{console.error(e.message);process.exit(1)})`]);
    assert.is(await got, 'hello from the hub');
    await inNs('wg-quick', ['down', hubConf], WG_ENV);
  });

  test.run();
}
