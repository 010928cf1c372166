import type { Client } from 'aedes';

type Deliver = (packet: unknown, cb: () => void) => void;

/** Reads aedes-packet's stamp without trusting the shape: a retained copy has no broker id. */
function counterOf(packet: unknown): number | undefined {
  if (typeof packet !== 'object' || packet === null) return undefined;
  const id: unknown = Reflect.get(packet, 'brokerId');
  const counter: unknown = Reflect.get(packet, 'brokerCounter');
  return id && typeof counter === 'number' ? counter : undefined;
}

/** Every client's record of what it has seen says "nothing": aedes' own check never drops. */
const NOTHING_SEEN: Record<string, number> = new Proxy(Object.create(null), { get: () => 0, set: () => true, deleteProperty: () => true });

/**
 * aedes drops a message whose broker counter is below the last one it delivered to that client;
 * the check is there so a message matched by two of one client's subscriptions goes out once. But
 * a QoS 1 publish takes a persistence round before delivery, so a QoS 0 publish issued right
 * after it is delivered first, and the QoS 1 message is then dropped as a "duplicate": a stream's
 * `open` lost behind an RPC to the same device (moscajs/aedes#994 and #955, open; test:
 * in-process-link.test.ts). Here only a repeat of the message just delivered is dropped: the
 * copies for overlapping subscriptions are delivered one after another in the same emit, so that
 * still goes out once, and a message overtaken by a later one is delivered, late, not lost.
 * Called from preConnect, before the client can subscribe (subscribe captures these functions).
 */
export function deliverOverlapsOnce(client: Client): void {
  let last: number | undefined;
  const wrap = (name: 'deliver0' | 'deliverQoS'): void => {
    const original: unknown = Reflect.get(client, name);
    if (typeof original !== 'function') throw new Error(`aedes client has no ${name}: in-order-delivery.ts needs the pinned aedes`);
    const deliver: Deliver = (packet, cb) => {
      const counter = counterOf(packet);
      if (counter !== undefined && counter === last) return void setImmediate(cb);
      Reflect.apply(original, client, [packet, cb]);
      // Set after the call: deliverQoS hands a QoS 0 packet to deliver0, which must not see it as a repeat.
      if (counter !== undefined) last = counter;
    };
    Reflect.set(client, name, deliver);
  };
  wrap('deliver0');
  wrap('deliverQoS');
  Reflect.set(client, 'duplicates', NOTHING_SEEN);
}
