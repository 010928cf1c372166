import { encodeJson, filterFor, topicFor, Topics, type DeviceDescription, type Logger, type PresenceMessage } from '@edgehook/shared';
import { connectMqtt, type LinkState, type MqttTransport, type TlsTrust } from '@edgehook/shared/transport';
import type { SavedCredentials } from './credentials.store.js';
import { RpcDispatcher, type RpcHandlers } from './rpc.dispatcher.js';

export interface DeviceLinkOptions {
  credentials: SavedCredentials;
  transport: 'tcp' | 'ws';
  /** Applies to any TLS broker URL (mqtts:// or wss://), the embedded broker's or an external one. */
  tls?: TlsTrust;
  describe: () => Promise<DeviceDescription>;
  handlers: RpcHandlers;
  log: Logger;
  now: () => number;
  onState?: (s: LinkState) => void;
}

export interface DeviceLink {
  readonly transport: MqttTransport;
  /** Publishes `offline` and disconnects cleanly (no will). */
  close(): Promise<void>;
}

/**
 * Unique, not secret: only this device's credentials may publish its presence, so the id must
 * differ between its connections, not resist guessing. Drawn without node:crypto, which an idle
 * agent on a plain-MQTT link then never loads (issue 12).
 */
let sessionCounter = 0;
const newSessionId = (now: number): string => `${now.toString(36)}.${(++sessionCounter).toString(36)}.${Math.random().toString(36).slice(2, 10)}`;

/**
 * The device's one MQTT connection: retained presence with a last will, a retained
 * self-description on every connect, and the RPC request subscription.
 */
export async function openDeviceLink(opts: DeviceLinkOptions): Promise<DeviceLink> {
  const { credentials, log } = opts;
  const deviceId = credentials.deviceId;
  // A new session id per connection attempt: the control plane applies "offline" only for the
  // connection it last saw come online, so the will of an abandoned or older connection is ignored.
  let session = newSessionId(opts.now());
  const statusTopic = topicFor('status', { deviceId });
  const presence = (state: PresenceMessage['state']): Buffer => encodeJson({ state, ts: opts.now(), session });
  const nextSessionWill = (): Buffer => {
    session = newSessionId(opts.now());
    return presence('offline');
  };
  let description = await opts.describe();

  const transport = await connectMqtt({
    url: opts.transport === 'ws' ? credentials.mqtt.wsUrl : credentials.mqtt.url,
    clientId: deviceId,
    username: credentials.mqtt.username,
    password: credentials.mqtt.password,
    keepalive: 15,
    tls: opts.tls,
    lean: true,
    will: { topic: statusTopic, payload: nextSessionWill, qos: 1, retain: true },
    backoff: { baseMs: 1000, maxMs: 60_000 },
    onConnectMessages: () => [
      { topic: topicFor('hello', { deviceId }), payload: encodeJson(description), retain: true },
      { topic: statusTopic, payload: presence('online'), retain: true },
    ],
    log,
  });

  const dispatcher = new RpcDispatcher({
    deviceId,
    handlers: opts.handlers,
    log,
    now: opts.now,
    publish: (topic, payload) => transport.publish(topic, payload, { qos: Topics.rpcResponse.qos }),
  });

  transport.onState((s) => {
    if (s.state === 'connected') {
      log.info('connected to the control plane', { deviceId });
      // Refresh uptime and friends for the next connect's hello.
      opts.describe().then(
        (d) => {
          description = d;
        },
        () => undefined,
      );
    } else {
      log.warn('disconnected from the control plane', { reason: s.reason, error: s.error, retryInMs: s.retryInMs });
    }
    opts.onState?.(s);
  });

  await transport.subscribe(filterFor('rpcRequest', { deviceId }), (topic, payload) => dispatcher.handle(topic, payload), { qos: Topics.rpcRequest.qos });

  return {
    transport,
    close: () => transport.close([{ topic: statusTopic, payload: presence('offline'), retain: true }]),
  };
}
