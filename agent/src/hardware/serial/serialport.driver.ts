import type { SerialPort, SerialPortMock } from 'serialport';
import { DataListeners, type SerialConnection, type SerialDriver } from './serial.driver.js';

/**
 * Real serial ports through the serialport package (native bindings, loaded lazily). `binding:
 * 'mock'` uses @serialport/binding-mock, which lets the contract suite run this exact code on a
 * machine without ports.
 */
export class SerialportDriver implements SerialDriver {
  readonly kind = 'serialport';

  constructor(private readonly opts: { binding: 'system' | 'mock' } = { binding: 'system' }) {}

  private async create(path: string, baudRate: number): Promise<SerialPort | SerialPortMock> {
    const mod = await import('serialport');
    return new Promise((resolve, reject) => {
      const done = (err: Error | null): void => (err ? reject(err) : resolve(port));
      const port: SerialPort | SerialPortMock = this.opts.binding === 'mock' ? new mod.SerialPortMock({ path, baudRate }, done) : new mod.SerialPort({ path, baudRate }, done);
    });
  }

  async open(path: string, baud: number): Promise<SerialConnection> {
    const port = await this.create(path, baud);
    const listeners = new DataListeners();
    port.on('data', (chunk: Buffer) => listeners.emit(chunk));
    port.on('error', () => undefined);
    return {
      write: (data) =>
        new Promise<void>((resolve, reject) => {
          // A closed stream would hold the callback forever: refuse up front.
          if (!port.isOpen) return reject(new Error('port is closed'));
          port.write(data, (err) => (err ? reject(err) : port.drain((e) => (e ? reject(e) : resolve()))));
        }),
      onData: (l) => listeners.add(l),
      setBaud: (baudRate) => new Promise<void>((resolve, reject) => port.update({ baudRate }, (err) => (err ? reject(err) : resolve()))),
      close: () =>
        new Promise<void>((resolve) => {
          listeners.clear();
          if (!port.isOpen) return resolve();
          port.close(() => resolve());
        }),
    };
  }
}
