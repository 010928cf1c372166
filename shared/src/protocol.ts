import * as z from './zod.js';
import { DeviceDescription, PresenceMessage } from './messages/device.js';
import { FleetEvent, Revocation } from './messages/events.js';
import { HwEvent } from './messages/hardware.js';
import { PullProgress } from './messages/pull-progress.js';
import { RpcRequest, RpcResponse } from './messages/rpc.js';
import { TelemetryAck, TelemetryBatch } from './messages/telemetry.js';
import { StreamCmd, StreamCtl } from './messages/streams.js';
import { PerfkitDesired, PerfkitState } from './messages/perfkit.js';

/** The versioned root: a v2 protocol can live beside v1 on the same broker. */
export const TOPIC_ROOT = 'edgehook/v1';

export type Direction = 'device->cp' | 'cp->device' | 'cp->cp';

interface TopicSpec<S extends z.ZodMiniType> {
  /** Pattern with `{param}` segments, below TOPIC_ROOT. */
  readonly pattern: string;
  readonly direction: Direction;
  readonly schema: S;
  readonly retained: boolean;
  readonly qos: 0 | 1;
  /** 'binary' payloads are raw bytes (stream data): the broker checks prefix and direction only. */
  readonly encoding?: 'json' | 'binary';
}

function topic<S extends z.ZodMiniType>(spec: TopicSpec<S>): TopicSpec<S> {
  return spec;
}

/**
 * Every MQTT topic Edgehook uses, with its payload schema. Nothing defines a topic elsewhere.
 * Correlation ids travel in the topic (MQTT 3.1.1 brokers have no response-topic property).
 */
export const Topics = {
  /** Retained presence; the agent's last will publishes `offline` here. */
  status: topic({ pattern: 'd/{deviceId}/status', direction: 'device->cp', schema: PresenceMessage, retained: true, qos: 1 }),
  /** Retained self-description, published on every connect. */
  hello: topic({ pattern: 'd/{deviceId}/hello', direction: 'device->cp', schema: DeviceDescription, retained: true, qos: 1 }),
  /**
   * A call to the device; `replyTo` names the control-plane instance waiting for the answer. QoS 0
   * both ways: sessions are clean, so QoS 1 never redelivers across a reconnect, and on a live TCP
   * connection it delivers no more than QoS 0 does; it only added a PUBACK per leg (and aedes'
   * outgoing store) to every call. A call lost with its connection times out (the caller's
   * timeout); a call to an offline device is never queued to run later.
   */
  rpcRequest: topic({ pattern: 'd/{deviceId}/rpc/req/{replyTo}/{requestId}', direction: 'cp->device', schema: RpcRequest, retained: false, qos: 0 }),
  rpcResponse: topic({ pattern: 'd/{deviceId}/rpc/res/{replyTo}/{requestId}', direction: 'device->cp', schema: RpcResponse, retained: false, qos: 0 }),
  /** Byte streams (see messages/streams.ts); `{cp}` names the control-plane instance at the other end. */
  streamData: topic({ pattern: 'd/{deviceId}/stream/{cp}/{streamId}/out', direction: 'device->cp', schema: z.unknown(), retained: false, qos: 0, encoding: 'binary' }),
  streamInput: topic({ pattern: 'd/{deviceId}/stream/{cp}/{streamId}/in', direction: 'cp->device', schema: z.unknown(), retained: false, qos: 0, encoding: 'binary' }),
  streamCtl: topic({ pattern: 'd/{deviceId}/stream/{cp}/{streamId}/ctl', direction: 'device->cp', schema: StreamCtl, retained: false, qos: 1 }),
  streamCmd: topic({ pattern: 'd/{deviceId}/stream/{cp}/{streamId}/cmd', direction: 'cp->device', schema: StreamCmd, retained: false, qos: 1 }),
  /** Hardware state changes (GPIO, ATX LEDs, HID), pushed as they happen for the PiKVM websocket. */
  hwState: topic({ pattern: 'd/{deviceId}/hw/state', direction: 'device->cp', schema: HwEvent, retained: false, qos: 0 }),
  /** Image pull progress while a create/recreate step pulls (throttled on the agent; progress at qos 0, the final state at qos 1). */
  containerPull: topic({ pattern: 'd/{deviceId}/containers/pull', direction: 'device->cp', schema: PullProgress, retained: false, qos: 1 }),
  /** Telemetry batches (one per collection interval, replays after an outage); idempotent by (device, seq). */
  telemetry: topic({ pattern: 'd/{deviceId}/telemetry', direction: 'device->cp', schema: TelemetryBatch, retained: false, qos: 1 }),
  /** Sequence numbers now durably stored (after the commit): the agent drops a batch only on this. */
  telemetryAck: topic({ pattern: 'd/{deviceId}/telemetry/ack', direction: 'cp->device', schema: TelemetryAck, retained: false, qos: 1 }),
  /** Perfkit sessions, their declared configs and reported values, retained: the latest picture of the device's programs. */
  perfkitState: topic({ pattern: 'd/{deviceId}/perfkit/state', direction: 'device->cp', schema: PerfkitState, retained: true, qos: 1 }),
  /** Desired config values (the control plane's store), retained: a device that was offline gets the latest on connect. */
  perfkitDesired: topic({ pattern: 'd/{deviceId}/perfkit/desired', direction: 'cp->device', schema: PerfkitDesired, retained: true, qos: 1 }),
  /** Fleet events shared by every control-plane replica, so each can feed its own websocket clients. */
  fleetEvents: topic({ pattern: 'cp/events', direction: 'cp->cp', schema: FleetEvent, retained: false, qos: 0 }),
  /** Session, user, role and device revocations: every replica closes the live sockets they cover. */
  revocations: topic({ pattern: 'cp/revocations', direction: 'cp->cp', schema: Revocation, retained: false, qos: 1 }),
  /** A replica's message to itself: once it comes back, the retained messages of an earlier subscribe have all arrived. */
  barrier: topic({ pattern: 'cp/barrier/{cp}', direction: 'cp->cp', schema: z.object({ id: z.string().check(z.maxLength(64)) }), retained: false, qos: 1 }),
} as const;

export type TopicName = keyof typeof Topics;
export type TopicPayload<T extends TopicName> = z.output<(typeof Topics)[T]['schema']>;

type ParamNames<P extends string> = P extends `${string}{${infer Name}}${infer Rest}` ? Name | ParamNames<Rest> : never;
export type TopicParams<T extends TopicName> = { [K in ParamNames<(typeof Topics)[T]['pattern']>]: string };

const SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;

/** Builds a concrete topic; refuses parameters that would add levels or wildcards. */
export function topicFor<T extends TopicName>(name: T, params: TopicParams<T>): string {
  const values: Record<string, string> = params;
  const path = Topics[name].pattern.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined || !SEGMENT.test(value)) throw new Error(`invalid topic parameter ${key}=${String(value)}`);
    return value;
  });
  return `${TOPIC_ROOT}/${path}`;
}

/** A subscription filter: named parameters become `+` unless given. */
export function filterFor<T extends TopicName>(name: T, params: Partial<TopicParams<T>> = {}): string {
  const values: Record<string, string | undefined> = params;
  const path = Topics[name].pattern.replace(/\{(\w+)\}/g, (_, key: string) => values[key] ?? '+');
  return `${TOPIC_ROOT}/${path}`;
}

export interface MatchedTopic {
  name: TopicName;
  params: Record<string, string>;
}

const compiled = (Object.keys(Topics) as TopicName[]).map((name) => {
  const keys: string[] = [];
  const source = Topics[name].pattern.replace(/\{(\w+)\}/g, (_, key: string) => {
    keys.push(key);
    return '([^/]+)';
  });
  return { name, keys, regex: new RegExp(`^${TOPIC_ROOT.replace('/', '\\/')}\\/${source}$`) };
});

/** Which protocol topic a concrete topic string is, with its parameters. */
export function matchTopic(topicString: string): MatchedTopic | null {
  for (const { name, keys, regex } of compiled) {
    const m = regex.exec(topicString);
    if (!m) continue;
    const params: Record<string, string> = {};
    keys.forEach((key, i) => {
      params[key] = m[i + 1] ?? '';
    });
    return { name, params };
  }
  return null;
}

/** The prefix every topic of one device lives under (used by broker ACLs). */
export function devicePrefix(deviceId: string): string {
  return `${TOPIC_ROOT}/d/${deviceId}/`;
}
