import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { adminApi, cleanup, killAllAgents, startTestControlPlane, waitFor, type TestControlPlane } from '../helpers/harness.js';
import { requireMosquitto, startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';
import { execAgent } from '../remote-exec/fixtures.js';

/**
 * A Mosquitto that lost a device's identity (its dynsec data reset): the real agent is refused,
 * asks the control plane for its identity back with its own secret, and is online again under the
 * same device id, without an enrollment token being used.
 */
const found = requireMosquitto();
let mosquitto: TestMosquitto | undefined;
let cp: TestControlPlane | undefined;

test.after(async () => {
  await killAllAgents();
  await cp?.close();
  if (cp) await cleanup(cp.dataDir);
  await mosquitto?.stop();
});

test('an agent whose broker identity was lost comes back on its own', async () => {
  if (!found) return;
  mosquitto = await startMosquitto(found);
  cp = await startTestControlPlane({ args: ['--broker', mosquitto.url, '--broker-username', mosquitto.admin.username, '--mqtt-public-url', mosquitto.url], env: { EDGEHOOK_BROKER_PASSWORD: mosquitto.admin.password } });
  const api = await adminApi(cp);
  const agent = await execAgent(cp, api);
  const online = async (want: boolean) => (await api.request('GET', `/api/devices/${agent.deviceId}`)).body.online === want;
  await waitFor('online', () => online(true), 20_000);
  await cp.brokerAdmin.removeDevice(agent.deviceId);
  // Refused, restored, reconnected: often faster than presence can be polled, so the log tells.
  await waitFor(`the identity given back (${agent.output().slice(-2000)})`, () => agent.output().includes('the control plane gave it back'), 30_000);
  await waitFor('online again under the same id', () => online(true), 30_000);
  assert.is(await cp.brokerAdmin.identity(agent.deviceId), 'present');
  const devices = await api.request('GET', '/api/devices');
  assert.is(devices.body.length, 1, 'no second device: the token was not used again');
});

test.run();
