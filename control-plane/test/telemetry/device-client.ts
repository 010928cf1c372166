import mqtt from 'mqtt';
import { topicFor, type TelemetryBatch } from '@edgehook/shared';
import { createEnrollmentToken, type Api } from '../helpers/harness.js';

/** A device that enrolls over HTTP and publishes telemetry over real MQTT, as the agent does. */
export interface TestDevice {
  deviceId: string;
  name: string;
  publish(batch: TelemetryBatch): Promise<void>;
  close(): Promise<void>;
}

export async function enrollDevice(api: Api, hostname: string, tags: string[] = []): Promise<TestDevice> {
  const token = await createEnrollmentToken(api, { tags });
  const res = await fetch(api.base + '/api/enroll', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ hostname, profile: 'generic-linux', agentVersion: 'test', hardware: { arch: 'x64', platform: 'linux', cpus: 2, memTotalBytes: 1 } }),
  });
  if (res.status !== 201 && res.status !== 200) throw new Error(`enroll failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { deviceId: string; name: string; mqtt: { url: string; username: string; password: string } };
  const client = await mqtt.connectAsync(body.mqtt.url, { clientId: body.deviceId, username: body.mqtt.username, password: body.mqtt.password, protocolVersion: 4, reconnectPeriod: 0 });
  return {
    deviceId: body.deviceId,
    name: body.name,
    async publish(batch) {
      await client.publishAsync(topicFor('telemetry', { deviceId: body.deviceId }), JSON.stringify(batch), { qos: 1 });
    },
    close: () => client.endAsync(),
  };
}
