/** The I2C seam: read a register block from a device on a bus. */
export interface I2cDriver {
  readonly kind: 'i2c-bus' | 'simulated';
  readRegister(bus: number, address: number, register: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}
