import type { PromisifiedBus } from 'i2c-bus';
import type { I2cDriver } from './i2c.driver.js';

/** Real I2C through /dev/i2c-N with the i2c-bus package (native, loaded lazily). */
export class I2cBusDriver implements I2cDriver {
  readonly kind = 'i2c-bus';
  private readonly buses = new Map<number, Promise<PromisifiedBus>>();

  private bus(n: number): Promise<PromisifiedBus> {
    let b = this.buses.get(n);
    if (!b) {
      b = import('i2c-bus').then((m) => m.openPromisified(n));
      // A failed open is retried next time (the bus may be enabled later).
      b.catch(() => this.buses.delete(n));
      this.buses.set(n, b);
    }
    return b;
  }

  async readRegister(bus: number, address: number, register: number, length: number): Promise<Buffer> {
    const b = await this.bus(bus);
    const buf = Buffer.alloc(length);
    const { bytesRead } = await b.readI2cBlock(address, register, length, buf);
    if (bytesRead !== length) throw new Error(`short read from 0x${address.toString(16)}: ${bytesRead} of ${length} bytes`);
    return buf;
  }

  async close(): Promise<void> {
    for (const b of this.buses.values()) await b.then((x) => x.close()).catch(() => undefined);
    this.buses.clear();
  }
}
