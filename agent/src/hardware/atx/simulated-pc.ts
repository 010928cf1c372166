import type { AtxConfig, Profile } from '@edgehook/firmware-profiles';
import type { Level } from '../gpio/gpio.driver.js';
import type { SimGpioDriver } from '../gpio/sim-gpio.driver.js';

export interface SimulatedPcOptions {
  /** Holding power this long forces the PC off, as ATX boards do after ~4 s. */
  forceOffMs: number;
  /** HDD LED blink half-period while booting or after a reset. */
  blinkMs: number;
  blinks: number;
}

/** Scaled to the profile: a simulated profile with a short long-press still forces off. */
export function simulatedPcOptions(atx: AtxConfig): SimulatedPcOptions {
  return { forceOffMs: Math.min(4000, atx.clickDelays.long * 1000 * 0.6), blinkMs: 40, blinks: 3 };
}

/**
 * A PC on the other end of the ATX wires, for the simulated board. Like a real machine:
 * pressing power while off turns it on (on the press edge); a short press while on shuts it
 * down on release; holding past `forceOffMs` forces it off; reset blinks the HDD LED while it
 * reboots. LEDs are driven onto the board's input lines (active-low honoured).
 */
export class SimulatedPc {
  private on = false;
  private pressedAt: number | undefined;
  private forceTimer: NodeJS.Timeout | undefined;
  private blinkTimer: NodeJS.Timeout | undefined;
  private readonly offs: (() => void)[] = [];

  constructor(
    private readonly gpio: SimGpioDriver,
    private readonly profile: Profile & { atx: AtxConfig },
    private readonly opts: SimulatedPcOptions = simulatedPcOptions(profile.atx),
  ) {
    const power = this.lineOf(profile.atx.power);
    const reset = this.lineOf(profile.atx.reset);
    this.offs.push(gpio.onOutput(power.line, (level) => this.onPowerButton(this.asserted(power, level))));
    this.offs.push(gpio.onOutput(reset.line, (level) => this.onResetButton(this.asserted(reset, level))));
    this.setLed(profile.atx.powerLed, false);
    this.setLed(profile.atx.hddLed, false);
  }

  get powered(): boolean {
    return this.on;
  }

  private lineOf(channel: string): { line: number; activeLow: boolean } {
    const c = this.profile.gpio.channels[channel];
    if (!c) throw new Error(`simulated PC: no channel ${channel}`);
    return { line: c.line, activeLow: c.activeLow };
  }

  private asserted(ch: { activeLow: boolean }, level: Level): boolean {
    return ch.activeLow ? level === 0 : level === 1;
  }

  private setLed(channel: string, lit: boolean): void {
    const ch = this.lineOf(channel);
    this.gpio.drive(ch.line, lit !== ch.activeLow ? 1 : 0);
  }

  private setPower(on: boolean): void {
    this.on = on;
    this.setLed(this.profile.atx.powerLed, on);
    if (on) this.blinkHdd();
    else {
      if (this.blinkTimer) clearInterval(this.blinkTimer);
      this.setLed(this.profile.atx.hddLed, false);
    }
  }

  private onPowerButton(down: boolean): void {
    if (down) {
      this.pressedAt = Date.now();
      if (!this.on) {
        this.setPower(true);
        return;
      }
      this.forceTimer = setTimeout(() => {
        this.forceTimer = undefined;
        this.pressedAt = undefined;
        this.setPower(false);
      }, this.opts.forceOffMs);
      this.forceTimer.unref();
      return;
    }
    // Release: a short press of a running machine asks the OS to shut down.
    const wasRunningPress = this.forceTimer !== undefined;
    if (this.forceTimer) clearTimeout(this.forceTimer);
    this.forceTimer = undefined;
    if (wasRunningPress && this.pressedAt !== undefined) this.setPower(false);
    this.pressedAt = undefined;
  }

  private onResetButton(down: boolean): void {
    if (!down && this.on) this.blinkHdd();
  }

  private blinkHdd(): void {
    if (this.blinkTimer) clearInterval(this.blinkTimer);
    let flips = this.opts.blinks * 2;
    let lit = false;
    this.blinkTimer = setInterval(() => {
      lit = !lit;
      this.setLed(this.profile.atx.hddLed, lit);
      if (--flips <= 0 && this.blinkTimer) clearInterval(this.blinkTimer);
    }, this.opts.blinkMs);
    this.blinkTimer.unref();
  }

  close(): void {
    if (this.forceTimer) clearTimeout(this.forceTimer);
    if (this.blinkTimer) clearInterval(this.blinkTimer);
    for (const off of this.offs) off();
  }
}
