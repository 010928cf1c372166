import { checkTelemetryBatch, devicePrefix, matchTopic, Topics, validate, type Logger } from '@edgehook/shared';
import type { ValidatedPayloads } from './validated-payloads.js';

export interface PolicyDeps {
  /** True when `deviceId` exists, is not revoked, and `secret` is its secret. */
  verifyDevice(deviceId: string, secret: string): Promise<boolean>;
  /** The control plane's own broker identity (full access). */
  controlPlane: { username: string; password: string };
  /** Whether a client with this id holds a live connection right now. */
  isConnected(clientId: string): boolean;
  /** How long the live connection of this client id has been silent, and its keepalive (when the broker knows). */
  silence?: IncumbentSilence;
  /** Where checked telemetry batches are left for the ingest (so it does not check them again). */
  validated?: ValidatedPayloads;
  log: Logger;
}

export type IncumbentSilence = (clientId: string) => { silentMs: number; keepaliveMs: number } | undefined;

export type AuthResult = { ok: true; role: 'device' | 'control-plane' } | { ok: false; returnCode: 2 | 4 | 5; reason: string };

export interface PublishCheck {
  ok: boolean;
  reason?: string;
}

const encoder = new TextEncoder();

function safeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  if (x.length !== y.length) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/**
 * What a device may publish: a device->cp topic of the protocol map under its own prefix, with a
 * payload its schema accepts. The embedded broker checks it before routing; with an external broker
 * the replicas check it where the message is consumed (payload-guard.ts).
 */
export function checkDevicePublish(deviceId: string, topic: string, payload: Buffer, validated?: ValidatedPayloads): PublishCheck {
  if (!topic.startsWith(devicePrefix(deviceId))) return { ok: false, reason: `topic ${topic} is outside the device's prefix` };
  const matched = matchTopic(topic);
  if (!matched || matched.params['deviceId'] !== deviceId) return { ok: false, reason: `unknown topic ${topic}` };
  const spec = Topics[matched.name];
  if (spec.direction !== 'device->cp') return { ok: false, reason: `devices may not publish ${matched.name}` };
  if (spec.retained && payload.length === 0) return { ok: true };
  // Raw stream bytes: prefix and direction are what keep devices apart; there is no schema to check.
  if (spec.encoding === 'binary') return { ok: true };
  let parsed: unknown;
  const text = payload.toString('utf8');
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: `payload on ${matched.name} is not JSON` };
  }
  if (matched.name === 'telemetry' && validated) {
    // The same schema as Topics.telemetry's (its plain case checked without zod); the checked value is kept for the ingest.
    const batch = checkTelemetryBatch(parsed);
    if (!batch.ok) return { ok: false, reason: `invalid ${matched.name} payload: ${batch.error}` };
    validated.rememberTelemetry(text, batch.value);
    return { ok: true };
  }
  const checked = validate(spec.schema, parsed);
  return checked.ok ? { ok: true } : { ok: false, reason: `invalid ${matched.name} payload: ${checked.error}` };
}

/**
 * The broker's rules, as plain functions so they can be tested without sockets:
 * only enrolled devices and the control plane connect; a device lives in its own topic
 * prefix, publishes only device->cp topics there, and only well-formed payloads.
 */
export function createBrokerPolicy(deps: PolicyDeps) {
  const isControlPlane = (username: string | undefined): boolean => username === deps.controlPlane.username;

  async function authenticate(clientId: string, username: string | undefined, password: string | undefined): Promise<AuthResult> {
    if (isControlPlane(username)) {
      return safeEqual(password ?? '', deps.controlPlane.password) ? { ok: true, role: 'control-plane' } : { ok: false, returnCode: 4, reason: 'bad control-plane credentials' };
    }
    if (!username || !password) return { ok: false, returnCode: 4, reason: 'missing credentials' };
    // The client id must be the device id: otherwise one device could take over another's session.
    if (clientId !== username) return { ok: false, returnCode: 2, reason: 'client id must equal the device id' };
    if (!(await deps.verifyDevice(username, password))) return { ok: false, returnCode: 5, reason: 'unknown or revoked device, or wrong secret' };
    // Refusing the newcomer (instead of kicking the incumbent, the MQTT default) stops two agents
    // that share credentials from kicking each other forever; the refused one backs off. But an
    // incumbent silent for longer than its own keepalive is stalled (a live client always pings
    // within it): the device reconnecting with valid credentials takes over at once instead of
    // being locked out until the broker's 1.5x keepalive timer fires.
    if (deps.isConnected(clientId)) {
      const quiet = deps.silence?.(clientId);
      const stalled = quiet !== undefined && quiet.keepaliveMs > 0 && quiet.silentMs >= quiet.keepaliveMs;
      if (!stalled) return { ok: false, returnCode: 2, reason: 'this device is already connected (two agents with the same credentials?)' };
      deps.log.warn('device reconnected while its previous connection is stalled: taking it over', { deviceId: clientId, silentMs: quiet.silentMs });
    }
    return { ok: true, role: 'device' };
  }

  function authorizePublish(clientId: string | null, username: string | undefined, topic: string, payload: Buffer): PublishCheck {
    if (clientId === null || isControlPlane(username)) return { ok: true };
    return checkDevicePublish(username ?? '', topic, payload, deps.validated);
  }

  function authorizeSubscribe(username: string | undefined, filter: string): PublishCheck {
    if (isControlPlane(username)) return { ok: true };
    if (filter.startsWith(devicePrefix(username ?? ''))) return { ok: true };
    return { ok: false, reason: `subscription ${filter} is outside the device's prefix` };
  }

  return { authenticate, authorizePublish, authorizeSubscribe };
}

export type BrokerPolicy = ReturnType<typeof createBrokerPolicy>;
