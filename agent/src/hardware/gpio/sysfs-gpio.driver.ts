import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Gpio } from 'onoff';
import type { GpioDriver, Level, LineSpec } from './gpio.driver.js';

export const SYSFS_GPIO_ROOT = '/sys/class/gpio';
/** Header GPIO controllers of the Pi family, newest first; used when a profile names no chip. */
const KNOWN_PI_CHIPS = ['pinctrl-rp1', 'pinctrl-bcm2712', 'pinctrl-bcm2711', 'pinctrl-bcm2835'];

async function readTrim(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/**
 * The sysfs number of BCM line 0. Since Linux 6.6 the Pi's header chip is no longer at base 0
 * (512 on a Pi 4, 571 on a Pi 5), so the base comes from the chip found by its label.
 */
export async function sysfsBase(chipLabel: string | undefined, root = SYSFS_GPIO_ROOT): Promise<number> {
  let entries: string[];
  try {
    entries = (await readdir(root)).filter((e) => e.startsWith('gpiochip'));
  } catch (err) {
    throw new Error(`no sysfs GPIO at ${root} (${err instanceof Error ? err.message : String(err)})`);
  }
  const chips: { label: string; base: number }[] = [];
  for (const e of entries) {
    const label = await readTrim(join(root, e, 'label'));
    const base = Number(await readTrim(join(root, e, 'base')));
    if (label !== undefined && Number.isInteger(base)) chips.push({ label, base });
  }
  const wanted = chipLabel !== undefined ? [chipLabel] : KNOWN_PI_CHIPS;
  for (const label of wanted) {
    const chip = chips.find((c) => c.label === label);
    if (chip) return chip.base;
  }
  if (chipLabel === undefined && chips.length > 0) return Math.min(...chips.map((c) => c.base));
  throw new Error(`no GPIO chip labelled ${wanted.join(' or ')} under ${root} (found: ${chips.map((c) => `${c.label}@${c.base}`).join(', ') || 'none'})`);
}

/** Real GPIO through sysfs with onoff (loaded lazily: it is a native module). */
export class SysfsGpioDriver implements GpioDriver {
  readonly kind = 'sysfs';
  private readonly gpios = new Map<number, Gpio>();
  private base: number | undefined;

  constructor(private readonly opts: { chip?: string | undefined; root?: string }) {}

  async claim(spec: LineSpec): Promise<void> {
    this.base ??= await sysfsBase(this.opts.chip, this.opts.root);
    const { Gpio } = await import('onoff');
    if (!Gpio.accessible) throw new Error('sysfs GPIO is not accessible on this machine (no /sys/class/gpio or no permission)');
    const number = this.base + spec.line;
    const direction = spec.direction === 'input' ? 'in' : spec.initial === 1 ? 'high' : spec.initial === 0 ? 'low' : 'out';
    const edge = spec.direction === 'input' ? (spec.edge ?? 'none') : 'none';
    // Levels are physical here; active-low is applied by the controller for every driver alike.
    this.gpios.set(spec.line, new Gpio(number, direction, edge, { reconfigureDirection: spec.initial !== undefined }));
  }

  private get(line: number): Gpio {
    const g = this.gpios.get(line);
    if (!g) throw new Error(`line ${line} is not claimed`);
    return g;
  }

  async read(line: number): Promise<Level> {
    return (await this.get(line).read()) === 1 ? 1 : 0;
  }

  async write(line: number, level: Level): Promise<void> {
    await this.get(line).write(level);
  }

  watch(line: number, onLevel: (level: Level) => void): () => void {
    const g = this.get(line);
    const cb = (err: Error | null | undefined, value: 0 | 1): void => {
      if (!err) onLevel(value === 1 ? 1 : 0);
    };
    g.watch(cb);
    return () => g.unwatch(cb);
  }

  async close(): Promise<void> {
    for (const g of this.gpios.values()) {
      g.unwatchAll();
      g.unexport();
    }
    this.gpios.clear();
  }
}
