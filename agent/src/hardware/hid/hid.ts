import type { HidInputEvent, HidKeymaps, HidState, RpcParamsParsed } from '@edgehook/shared';
import { sleep } from '../errors.js';
import type { Keyboard } from './keyboard.js';
import { TEXT_KEYMAPS } from './keymap.js';
import type { Mouse } from './mouse.js';

type ParsedEvent = RpcParamsParsed<'hid.events'>['events'][number];
/** kvmd's jiggler default: a nudge after 60 s without input. */
const JIGGLER_INTERVAL_SEC = 60;
const SHORTCUT_GAP_MS = 50;

/**
 * The board's HID as kvmd shows it: one keyboard, one mouse (absolute or relative per the
 * profile), the jiggler, and the outputs kvmd lets a client pick. Input events are applied in
 * order; a state change is announced once per batch.
 */
export class Hid {
  private jiggler = false;
  private lastInput = Date.now();
  private jiggleTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly keyboard: Keyboard,
    readonly mouse: Mouse,
  ) {
    keyboard.onChange(() => this.changed());
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  state(): HidState {
    const k = this.keyboard.view();
    const mouseOutput = this.mouse.absolute ? 'usb' : 'usb_rel';
    return {
      enabled: k.present || this.mouse.present,
      online: k.online,
      busy: k.busy,
      connected: null,
      keyboard: { online: k.online, leds: { caps: false, scroll: false, num: false }, outputs: { available: [], active: '' }, pressed: k.pressed },
      mouse: { online: this.mouse.online, absolute: this.mouse.absolute, outputs: { available: this.mouse.present ? [mouseOutput] : [], active: this.mouse.present ? mouseOutput : '' } },
      jiggler: { enabled: this.jiggler, active: this.jiggler && this.mouse.present, interval: JIGGLER_INTERVAL_SEC },
    };
  }

  /** Input that reaches the keyboard directly (send_key, print) counts as activity too. */
  touch(): void {
    this.lastInput = Date.now();
  }

  /** kvmd hid/inactivity: whole seconds since the last input, the jiggler's clock. */
  inactivitySeconds(): number {
    return Math.max(0, Math.floor((Date.now() - this.lastInput) / 1000));
  }

  keymaps(): HidKeymaps {
    return { keymaps: { default: 'en-us', available: [...TEXT_KEYMAPS.keys()].sort() } };
  }

  /** Applies events in order; events for a part the board lacks fail the batch from there. */
  async events(events: ParsedEvent[]): Promise<number> {
    this.lastInput = Date.now();
    let applied = 0;
    for (const e of events) {
      await this.apply(e);
      applied++;
    }
    return applied;
  }

  private async apply(e: ParsedEvent | HidInputEvent): Promise<void> {
    switch (e.t) {
      case 'key':
        return this.keyboard.key(e.key, e.state);
      case 'button':
        return this.mouse.button(e.button, e.state);
      case 'move':
        return this.mouse.move(e.x, e.y);
      case 'relative':
        return this.mouse.relative([{ x: e.x, y: e.y }], false);
      case 'wheel':
        return this.mouse.wheel([{ x: e.x, y: e.y }], false);
    }
  }

  /** kvmd send_shortcut: press in order, release in reverse, 50 ms apart. */
  async shortcut(keys: string[]): Promise<void> {
    this.lastInput = Date.now();
    for (const k of keys) {
      await this.keyboard.key(k, true);
      await sleep(SHORTCUT_GAP_MS);
    }
    for (const k of [...keys].reverse()) {
      await this.keyboard.key(k, false);
      await sleep(SHORTCUT_GAP_MS);
    }
  }

  /** Only the jiggler changes here: this gadget has one fixed output of each kind. */
  setParams(p: { jiggler?: boolean | undefined }): void {
    if (p.jiggler === undefined || p.jiggler === this.jiggler) return;
    this.jiggler = p.jiggler;
    clearInterval(this.jiggleTimer);
    this.jiggleTimer = undefined;
    if (this.jiggler && this.mouse.present) {
      this.jiggleTimer = setInterval(() => void this.jiggle(), 1000);
      this.jiggleTimer.unref();
    }
    this.changed();
  }

  /** A one-step move there and back, so the host's screen saver sees activity. */
  private async jiggle(): Promise<void> {
    if (Date.now() - this.lastInput < JIGGLER_INTERVAL_SEC * 1000) return;
    this.lastInput = Date.now();
    await this.mouse.nudge().catch(() => undefined);
  }

  async reset(): Promise<void> {
    await this.keyboard.releaseAll();
    await this.mouse.reset();
    this.changed();
  }

  close(): void {
    clearInterval(this.jiggleTimer);
  }
}
