import { matchTopic, TOPIC_ROOT, Topics, type Logger } from '@edgehook/shared';
import type { MessageHandler, SubscribeOptions, Transport } from '@edgehook/shared/transport';
import { checkDevicePublish } from './broker-policy.js';
import type { ValidatedPayloads } from './validated-payloads.js';

const DEVICE_TOPIC = new RegExp(`^${TOPIC_ROOT}/d/([^/]+)/`);

/**
 * With an external broker nobody checks device payloads before they are routed, so the replica
 * checks them where they arrive, with the embedded broker's own rule (checkDevicePublish): a bad
 * message never reaches a handler, is logged, and its device is disabled at the broker, once.
 * Only what the device could publish is checked: the ACLs already confine it to its own prefix.
 */
export function guardDevicePayloads(transport: Transport, deps: { log: Logger; disable(deviceId: string, reason: string): Promise<void>; validated?: ValidatedPayloads }): Transport {
  const disabling = new Set<string>();
  const refuse = (deviceId: string, topic: string, reason: string): void => {
    deps.log.warn('device payload refused', { deviceId, topic, reason });
    if (disabling.has(deviceId)) return;
    disabling.add(deviceId);
    deps.disable(deviceId, reason).then(
      () => deps.log.warn('device disabled for publishing an invalid payload', { deviceId, reason }),
      (err: unknown) => {
        disabling.delete(deviceId);
        deps.log.error('could not disable a device that published an invalid payload', { deviceId, err });
      },
    );
  };
  const guard = (handler: MessageHandler): MessageHandler => (topic, payload, meta) => {
    const deviceId = DEVICE_TOPIC.exec(topic)?.[1];
    const matched = matchTopic(topic);
    // Another replica's message to a device (its ACL forbids the device to publish those) is not checked.
    const fromDevice = !matched || Topics[matched.name].direction === 'device->cp';
    if (deviceId !== undefined && fromDevice) {
      const check = checkDevicePublish(deviceId, topic, payload, deps.validated);
      if (!check.ok) return refuse(deviceId, topic, check.reason ?? 'invalid');
    }
    handler(topic, payload, meta);
  };
  return {
    get connected() {
      return transport.connected;
    },
    publish: (topic, payload, opts) => transport.publish(topic, payload, opts),
    subscribe: (filter: string, handler: MessageHandler, opts?: SubscribeOptions) => transport.subscribe(filter, guard(handler), opts),
    onState: (listener) => transport.onState(listener),
    close: () => transport.close(),
  };
}
