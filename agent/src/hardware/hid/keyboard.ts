import { hwError, sleep } from '../errors.js';
import type { HidReportSink } from './hid.sink.js';
import { KEY_USAGES, MODIFIERS, TEXT_KEYMAPS } from './keymap.js';

function unknownKey(key: string): Error {
  return hwError('BAD_REQUEST', 'ValidatorError', `unknown key '${key}' (use KeyboardEvent.code names like KeyA, Enter, ShiftLeft)`);
}

/** kvmd's default `limit` for hid/print. */
export const PRINT_DEFAULT_LIMIT = 1024;

export interface KeyboardOptions {
  /** Pause between reports when printing; protects slow hosts (BIOS) from dropped keys. */
  printIntervalMs: number;
  slowPrintIntervalMs: number;
}

/**
 * A USB boot keyboard: keeps the pressed set and writes one 8-byte report per change
 * ([modifiers, 0, key1..key6]), as the Linux HID gadget expects.
 */
export class Keyboard {
  private modifiers = 0;
  private readonly keys: string[] = [];
  private printing = false;
  private readonly listeners = new Set<() => void>();
  /** Reports are written in order even when callers do not await each other. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly sink: HidReportSink | undefined,
    private readonly opts: KeyboardOptions = { printIntervalMs: 2, slowPrintIntervalMs: 20 },
  ) {}

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  /** The keyboard's part of kvmd's HID state (see hid.ts). */
  view(): { present: boolean; online: boolean; busy: boolean; pressed: string[] } {
    const present = this.sink !== undefined;
    return {
      present,
      online: present && (this.sink?.online ?? false),
      busy: this.printing,
      pressed: [...Object.keys(MODIFIERS).filter((k) => (this.modifiers & (MODIFIERS[k] ?? 0)) !== 0), ...this.keys],
    };
  }

  report(): Buffer {
    const r = Buffer.alloc(8);
    r[0] = this.modifiers;
    this.keys.slice(0, 6).forEach((k, i) => {
      r[2 + i] = KEY_USAGES.get(k) ?? 0;
    });
    return r;
  }

  private present(): HidReportSink {
    if (!this.sink) throw hwError('BAD_REQUEST', 'HidDisabledError', 'this board profile has no HID gadget');
    return this.sink;
  }

  private send(): Promise<void> {
    const sink = this.present();
    const report = this.report();
    const write = this.chain.then(() => sink.write(report));
    this.chain = write.catch(() => undefined);
    return write.catch((err: unknown) => {
      throw hwError('INTERNAL', 'HidOfflineError', `cannot write to the HID gadget: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  /** Applies a press or release; returns false when nothing changed (no report needed). */
  private apply(key: string, pressed: boolean): boolean {
    const bit = MODIFIERS[key];
    if (bit !== undefined) {
      const next = pressed ? this.modifiers | bit : this.modifiers & ~bit;
      if (next === this.modifiers) return false;
      this.modifiers = next;
      return true;
    }
    if (!KEY_USAGES.has(key)) throw unknownKey(key);
    const at = this.keys.indexOf(key);
    if (pressed) {
      // Six key slots (boot protocol): further keys are ignored until one is released.
      if (at >= 0 || this.keys.length >= 6) return false;
      this.keys.push(key);
    } else {
      if (at < 0) return false;
      this.keys.splice(at, 1);
    }
    return true;
  }

  /** Press (`true`), release (`false`), or press-and-release (undefined), as PiKVM's send_key. */
  async key(key: string, state: boolean | undefined): Promise<void> {
    if (MODIFIERS[key] === undefined && !KEY_USAGES.has(key)) throw unknownKey(key);
    this.present();
    const steps = state === undefined ? [true, false] : [state];
    for (const pressed of steps) if (this.apply(key, pressed)) await this.send();
    this.changed();
  }

  async releaseAll(): Promise<void> {
    if (this.modifiers === 0 && this.keys.length === 0) return;
    this.modifiers = 0;
    this.keys.length = 0;
    this.changed();
    await this.send().catch(() => undefined);
  }

  /** Types text with a keymap; characters the keymap lacks are skipped and counted. */
  async print(text: string, opts: { limit?: number | undefined; keymap?: string | undefined; slow?: boolean; delaySec?: number | undefined }): Promise<{ chars: number; skipped: number }> {
    const map = TEXT_KEYMAPS.get(opts.keymap ?? 'en-us');
    if (!map) throw hwError('BAD_REQUEST', 'ValidatorError', `unknown keymap '${opts.keymap ?? ''}' (known: ${[...TEXT_KEYMAPS.keys()].join(', ')})`);
    if (this.printing) throw hwError('CONFLICT', 'HidIsBusyError', 'the keyboard is busy printing');
    this.present();
    const limit = opts.limit === undefined ? PRINT_DEFAULT_LIMIT : opts.limit;
    const chars = [...text].slice(0, limit === 0 ? undefined : limit);
    const pause = opts.delaySec !== undefined ? opts.delaySec * 1000 : opts.slow ? this.opts.slowPrintIntervalMs : this.opts.printIntervalMs;
    this.printing = true;
    this.changed();
    let typed = 0;
    let skipped = 0;
    try {
      await this.releaseAll();
      for (const ch of chars) {
        const k = map.get(ch);
        if (!k) {
          skipped++;
          continue;
        }
        const shift = k.shift ? MODIFIERS['ShiftLeft'] ?? 0 : 0;
        this.modifiers = shift;
        this.keys.splice(0, this.keys.length, k.key);
        await this.send();
        await sleep(pause);
        this.modifiers = 0;
        this.keys.length = 0;
        await this.send();
        await sleep(pause);
        typed++;
      }
    } finally {
      this.printing = false;
      this.changed();
    }
    return { chars: typed, skipped };
  }
}
