import type { I2cBus } from '@edgehook/firmware-profiles';
import type { I2cDriver } from './i2c.driver.js';
import { encodeLm75, encodeTmp102 } from './sensor-decode.js';

/**
 * Devices answering at the addresses a profile declares: temperature sensors report a value
 * that drifts slowly around `baseCelsius`; other registers read as zero. An address with no
 * device fails like a real bus (no acknowledge).
 */
export class SimI2cDriver implements I2cDriver {
  readonly kind = 'simulated';
  private readonly devices = new Map<string, string>();

  constructor(
    buses: I2cBus[],
    private readonly opts: { baseCelsius: number; now: () => number } = { baseCelsius: 36.5, now: () => Date.now() },
  ) {
    for (const b of buses) for (const s of b.sensors) this.devices.set(`${b.bus}:${s.address}`, s.type);
  }

  /** The temperature the simulated sensors report right now. */
  celsius(): number {
    return this.opts.baseCelsius + Math.sin(this.opts.now() / 60_000) * 0.5;
  }

  async readRegister(bus: number, address: number, register: number, length: number): Promise<Buffer> {
    const type = this.devices.get(`${bus}:${address}`);
    if (type === undefined) throw new Error(`no device acknowledged at 0x${address.toString(16)} on bus ${bus}`);
    const out = Buffer.alloc(length);
    if (register === 0 && (type === 'tmp102' || type === 'lm75')) (type === 'tmp102' ? encodeTmp102(this.celsius()) : encodeLm75(this.celsius())).copy(out);
    return out;
  }

  async close(): Promise<void> {}
}
