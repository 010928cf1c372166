import { DELTA_MAX, MOUSE_MAX, MOUSE_MIN, type MouseButton } from '@edgehook/shared';
import { hwError } from '../errors.js';
import type { HidReportSink } from './hid.sink.js';

/** Button bits of the report's first byte (kvmd's MouseButtonEvent codes). */
const BUTTON_BITS: Record<MouseButton, number> = { left: 0x01, right: 0x02, middle: 0x04, up: 0x08, down: 0x10 };

/** kvmd's remap of -32768..32767 onto the gadget's logical range 0..32767 (integer division, clamped). */
export function toFixed(v: number): number {
  const r = Math.floor(((v - MOUSE_MIN) * (MOUSE_MAX - 0)) / (MOUSE_MAX - MOUSE_MIN));
  return Math.min(MOUSE_MAX, Math.max(0, r));
}

const clampDelta = (v: number): number => Math.min(DELTA_MAX, Math.max(-DELTA_MAX, v));

/**
 * A USB HID mouse gadget, absolute (a tablet: buttons, x u16, y u16, wheel) or relative (buttons,
 * dx, dy, wheel), both with the horizontal wheel last as kvmd's default gadget describes it:
 * absolute reports are 7 bytes `<BHHbb`, relative ones 5 bytes `<Bbbbb` (little-endian).
 * As in kvmd, an absolute mouse ignores relative moves and a relative one ignores absolute moves.
 */
export class Mouse {
  private buttons = 0;
  private x = 0;
  private y = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly sink: HidReportSink | undefined,
    readonly absolute: boolean,
  ) {}

  get present(): boolean {
    return this.sink !== undefined;
  }

  get online(): boolean {
    return this.sink?.online ?? false;
  }

  report(move: { x: number; y: number } | undefined, wheel: { x: number; y: number } | undefined): Buffer {
    const wy = wheel?.y ?? 0;
    const wx = wheel?.x ?? 0;
    if (this.absolute) {
      const r = Buffer.alloc(7);
      r.writeUInt8(this.buttons, 0);
      r.writeUInt16LE(this.x, 1);
      r.writeUInt16LE(this.y, 3);
      r.writeInt8(wy, 5);
      r.writeInt8(wx, 6);
      return r;
    }
    const r = Buffer.alloc(5);
    r.writeUInt8(this.buttons, 0);
    r.writeInt8(move?.x ?? 0, 1);
    r.writeInt8(move?.y ?? 0, 2);
    r.writeInt8(wy, 3);
    r.writeInt8(wx, 4);
    return r;
  }

  private write(report: Buffer): Promise<void> {
    const sink = this.sink;
    if (!sink) return Promise.reject(hwError('BAD_REQUEST', 'HidDisabledError', 'this board profile has no HID mouse'));
    const write = this.chain.then(() => sink.write(report));
    this.chain = write.catch(() => undefined);
    return write.catch((err: unknown) => {
      throw hwError('INTERNAL', 'HidOfflineError', `cannot write to the mouse gadget: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  /** kvmd: a button already down is released first; a press then sets it again. */
  async button(name: MouseButton, state: boolean): Promise<void> {
    const bit = BUTTON_BITS[name];
    if (this.buttons & bit) {
      this.buttons &= ~bit;
      await this.write(this.report(undefined, undefined));
    }
    if (state) {
      this.buttons |= bit;
      await this.write(this.report(undefined, undefined));
    }
  }

  /** Absolute move to kvmd coordinates (-32768..32767 across the screen). */
  async move(x: number, y: number): Promise<void> {
    if (!this.absolute) return;
    this.x = toFixed(x);
    this.y = toFixed(y);
    await this.write(this.report(undefined, undefined));
  }

  /** Relative moves; `squash` sums them into one report (clamped), as kvmd's web client asks. */
  async relative(deltas: { x: number; y: number }[], squash: boolean): Promise<void> {
    if (this.absolute) return;
    for (const d of squash ? [sum(deltas)] : deltas) await this.write(this.report(d, undefined));
  }

  async wheel(deltas: { x: number; y: number }[], squash: boolean): Promise<void> {
    for (const d of squash ? [sum(deltas)] : deltas) await this.write(this.report(undefined, d));
  }

  /** The jiggler's step: one unit off and back (absolute: from the last position). */
  async nudge(): Promise<void> {
    if (!this.absolute) return this.relative([{ x: 1, y: 0 }, { x: -1, y: 0 }], false);
    const x = this.x;
    this.x = Math.min(MOUSE_MAX, x + 1);
    await this.write(this.report(undefined, undefined));
    this.x = x;
    await this.write(this.report(undefined, undefined));
  }

  /** Releases every button (an operator gone, hid/reset). */
  async reset(): Promise<void> {
    this.buttons = 0;
    if (this.sink) await this.write(this.report(undefined, undefined)).catch(() => undefined);
  }

  get pressedButtons(): number {
    return this.buttons;
  }
}

function sum(deltas: { x: number; y: number }[]): { x: number; y: number } {
  let x = 0;
  let y = 0;
  for (const d of deltas) {
    x += d.x;
    y += d.y;
  }
  return { x: clampDelta(x), y: clampDelta(y) };
}
