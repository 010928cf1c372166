import type { AtxConfig } from '@edgehook/firmware-profiles';
import type { AtxState } from '@edgehook/shared';
import { hwError } from '../errors.js';
import type { GpioController, PressResult } from '../gpio/gpio.controller.js';

export type AtxButtonName = 'power' | 'power_long' | 'reset';
export type AtxAction = 'on' | 'off' | 'off_hard' | 'reset_hard';

/**
 * The ATX front panel over the profile's GPIO channels (kvmd's ATX plugin): clicks are presses
 * of the button outputs, LEDs are the inputs. One operation at a time; a second is refused.
 * Real or simulated depends only on the GPIO driver underneath.
 */
export class AtxController {
  private busy = false;
  private readonly listeners = new Set<() => void>();
  private last = '';

  constructor(
    private readonly gpio: GpioController,
    private readonly config: AtxConfig | undefined,
  ) {
    gpio.onChange(() => this.changed());
  }

  /** Fires when the ATX state (LEDs, busy) actually changed. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    const key = JSON.stringify(this.state());
    if (key === this.last) return;
    this.last = key;
    for (const l of this.listeners) l();
  }

  state(): AtxState {
    const c = this.config;
    if (!c) return { enabled: false, busy: false, acts: { power: false, reset: false }, leds: { power: false, hdd: false } };
    // kvmd 4.x `acts`: which button line is held right now (a press from the GPIO API counts too).
    const acts = { power: this.gpio.busy(c.power), reset: this.gpio.busy(c.reset) };
    return { enabled: true, busy: this.busy || acts.power || acts.reset, acts, leds: { power: this.gpio.value(c.powerLed), hdd: this.gpio.value(c.hddLed) } };
  }

  private enabled(): AtxConfig {
    if (!this.config) throw hwError('BAD_REQUEST', 'AtxDisabledError', 'this board profile has no ATX wiring');
    return this.config;
  }

  /** Presses a button; resolves when the press started, `done` when it ended. */
  async click(button: AtxButtonName): Promise<{ done: Promise<PressResult> }> {
    const c = this.enabled();
    const [channel, seconds] =
      button === 'power' ? [c.power, c.clickDelays.short] : button === 'power_long' ? [c.power, c.clickDelays.long] : [c.reset, c.clickDelays.reset];
    // The button line may also be pulsed through the GPIO API: that counts as busy too.
    if (this.busy || this.gpio.busy(channel)) throw hwError('CONFLICT', 'AtxIsBusyError', 'ATX is busy performing another operation');
    this.busy = true;
    this.changed();
    try {
      const press = await this.gpio.press(channel, seconds * 1000);
      const done = press.done.finally(() => {
        this.busy = false;
        this.changed();
      });
      return { done };
    } catch (err) {
      this.busy = false;
      this.changed();
      throw err;
    }
  }

  /**
   * kvmd's power semantics: act only when the power LED says it is needed (`on` when already on
   * does nothing). Returns undefined when nothing had to be done.
   */
  async power(action: AtxAction): Promise<{ done: Promise<PressResult> } | undefined> {
    this.enabled();
    const on = this.state().leds.power;
    if (action === 'on') return on ? undefined : this.click('power');
    if (!on) return undefined;
    if (action === 'off') return this.click('power');
    if (action === 'off_hard') return this.click('power_long');
    return this.click('reset');
  }
}
