import {
  HwKeyName,
  KvmBinaryOp,
  KvmWsKey,
  KvmWsMouseButton,
  KvmWsMouseDelta,
  KvmWsMouseMove,
  MouseButton,
  MouseCoord,
  MouseDelta,
  keyNameOfEvdev,
  mouseButtonOfEvdev,
  validate,
  type HidInputEvent,
} from '@edgehook/shared';

/** Events waiting for the agent beyond this are dropped (moves first): a client flooding us. */
const QUEUE_MAX = 2048;
const BATCH_MAX = 512;

const deltas = (list: { x: number; y: number }[], squash: boolean, t: 'relative' | 'wheel'): HidInputEvent[] => {
  if (!squash) return list.map((d) => ({ t, x: d.x, y: d.y }));
  const sum = list.reduce((a, d) => ({ x: a.x + d.x, y: a.y + d.y }), { x: 0, y: 0 });
  return [{ t, x: Math.max(-127, Math.min(127, sum.x)), y: Math.max(-127, Math.min(127, sum.y)) }];
};

/** kvmd's JSON HID events (`key`, `mouse_button`, `mouse_move`, `mouse_relative`, `mouse_wheel`); invalid ones are ignored, as kvmd does. */
export function parseJsonHid(type: string, event: unknown): HidInputEvent[] | undefined {
  switch (type) {
    case 'key': {
      const k = validate(KvmWsKey, event);
      return k.ok ? [{ t: 'key', key: k.value.key, state: k.value.state }] : [];
    }
    case 'mouse_button': {
      const b = validate(KvmWsMouseButton, event);
      return b.ok ? [{ t: 'button', button: b.value.button, state: b.value.state }] : [];
    }
    case 'mouse_move': {
      const m = validate(KvmWsMouseMove, event);
      return m.ok ? [{ t: 'move', x: m.value.to.x, y: m.value.to.y }] : [];
    }
    case 'mouse_relative':
    case 'mouse_wheel': {
      const d = validate(KvmWsMouseDelta, event);
      if (!d.ok) return [];
      const list = Array.isArray(d.value.delta) ? d.value.delta : [d.value.delta];
      return deltas(list, d.value.squash ?? false, type === 'mouse_wheel' ? 'wheel' : 'relative');
    }
    default:
      return undefined;
  }
}

/** kvmd's binary HID messages (see KvmBinaryOp); malformed ones are ignored. */
export function parseBinaryHid(data: Buffer): HidInputEvent[] {
  const op = data[0];
  const body = data.subarray(1);
  const flags = body[0] ?? 0;
  const name = (schema: typeof HwKeyName | typeof MouseButton, evdev: ReadonlyMap<number, string>) => {
    // Flag 0x80: a 16-bit big-endian evdev code instead of a name (exactly two bytes, as kvmd unpacks it).
    if (flags & 0x80) return body.length === 3 ? evdev.get(body.readUInt16BE(1)) : undefined;
    const v = validate(schema, body.subarray(1, 33).toString('ascii'));
    return v.ok ? v.value : undefined;
  };
  switch (op) {
    case KvmBinaryOp.key: {
      const key = name(HwKeyName, keyNameOfEvdev);
      return key ? [{ t: 'key', key, state: (flags & 1) === 1 }] : [];
    }
    case KvmBinaryOp.mouseButton: {
      const b = validate(MouseButton, name(MouseButton, mouseButtonOfEvdev));
      return b.ok ? [{ t: 'button', button: b.value, state: (flags & 1) === 1 }] : [];
    }
    case KvmBinaryOp.mouseMove: {
      if (body.length !== 4) return [];
      const x = validate(MouseCoord, body.readInt16BE(0));
      const y = validate(MouseCoord, body.readInt16BE(2));
      return x.ok && y.ok ? [{ t: 'move', x: x.value, y: y.value }] : [];
    }
    case KvmBinaryOp.mouseRelative:
    case KvmBinaryOp.mouseWheel: {
      const pairs = body.subarray(1);
      if (pairs.length % 2 !== 0 || pairs.length === 0) return [];
      const list: { x: number; y: number }[] = [];
      for (let i = 0; i < pairs.length; i += 2) {
        const x = validate(MouseDelta, pairs.readInt8(i));
        const y = validate(MouseDelta, pairs.readInt8(i + 1));
        if (x.ok && y.ok) list.push({ x: x.value, y: y.value });
      }
      return deltas(list, (flags & 1) === 1, op === KvmBinaryOp.mouseWheel ? 'wheel' : 'relative');
    }
    default:
      return [];
  }
}

/**
 * The operator's input on its way to the agent: one `hid.events` call in flight at a time,
 * everything that arrives meanwhile goes in the next batch (consecutive absolute moves collapse
 * to the last). Tracks what is held, so the socket's end can release it.
 */
export class HidInputPump {
  private queue: HidInputEvent[] = [];
  private inflight = false;
  private idle: Array<() => void> = [];
  readonly heldKeys = new Set<string>();
  readonly heldButtons = new Set<string>();
  dropped = 0;

  constructor(private readonly send: (events: HidInputEvent[]) => Promise<unknown>) {}

  push(events: HidInputEvent[]): void {
    for (const e of events) {
      if (e.t === 'key') e.state ? this.heldKeys.add(e.key) : this.heldKeys.delete(e.key);
      if (e.t === 'button') e.state ? this.heldButtons.add(e.button) : this.heldButtons.delete(e.button);
      const last = this.queue.at(-1);
      if (e.t === 'move' && last?.t === 'move') {
        this.queue[this.queue.length - 1] = e;
        continue;
      }
      if (this.queue.length >= QUEUE_MAX && e.t !== 'key' && e.t !== 'button') {
        this.dropped++;
        continue;
      }
      this.queue.push(e);
    }
    this.pump();
  }

  private pump(): void {
    if (this.inflight || this.queue.length === 0) {
      if (!this.inflight) for (const w of this.idle.splice(0)) w();
      return;
    }
    const batch = this.queue.splice(0, BATCH_MAX);
    this.inflight = true;
    void this.send(batch)
      .catch(() => undefined)
      .finally(() => {
        this.inflight = false;
        this.pump();
      });
  }

  /** Resolves once everything pushed so far has been handed to the agent. */
  drained(): Promise<void> {
    if (!this.inflight && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }
}
