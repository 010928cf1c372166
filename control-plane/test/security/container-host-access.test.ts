// Finding 6 of issue 13 end to end: containers.control through the REST API against a real agent
// (simulated engine). `/` and the Docker socket are refused with the flag that would allow them;
// the agent started with --container-host-paths accepts what is under it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminApi, cleanup, killAllAgents, startTestControlPlane, tempDir, type Api, type TestControlPlane } from '../helpers/harness.js';
import { execAgent } from '../remote-exec/fixtures.js';

const t = suite<{ cp: TestControlPlane; api: Api }>('container host access');
t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane();
  ctx.api = await adminApi(ctx.cp);
});
t.after(async (ctx) => {
  await killAllAgents();
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir);
});

t('the default agent refuses host paths and privileged containers; its flags allow them', async ({ cp, api }) => {
  const strict = await execAgent(cp, api, { pty: 'simulated', extraArgs: ['--container-engine', 'simulated'] });
  const create = (deviceId: string, spec: Record<string, unknown>) => api.request('POST', `/api/devices/${deviceId}/containers`, { spec: { image: 'sim/echo', ...spec } });
  const root = await create(strict.deviceId, { name: 'rootfs', volumes: [{ source: '/', target: '/host' }] });
  assert.is(root.status, 403, JSON.stringify(root.body));
  assert.match(root.body.error.message, /--container-host-paths/);
  const sock = await create(strict.deviceId, { name: 'sock', volumes: [{ source: '/var/run/docker.sock', target: '/var/run/docker.sock' }] });
  assert.is(sock.status, 403);
  const priv = await create(strict.deviceId, { name: 'priv', privileged: true });
  assert.is(priv.status, 403);
  assert.match(priv.body.error.message, /--container-privileged on/);
  assert.is((await create(strict.deviceId, { name: 'plain' })).status, 201, 'an ordinary container still works');

  const shared = await tempDir('edgehook-shared-');
  const lenient = await execAgent(cp, api, { pty: 'simulated', extraArgs: ['--container-engine', 'simulated', '--container-host-paths', shared, '--container-privileged', 'on'] });
  const allowed = await create(lenient.deviceId, { name: 'media', volumes: [{ source: shared, target: '/media', readOnly: true }], privileged: true });
  assert.is(allowed.status, 201, JSON.stringify(allowed.body));
  assert.is((await create(lenient.deviceId, { name: 'root2', volumes: [{ source: '/', target: '/host' }] })).status, 403);
  await cleanup(shared);
});

t.run();
