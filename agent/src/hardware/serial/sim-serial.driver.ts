import { DataListeners, type SerialConnection, type SerialDriver } from './serial.driver.js';

/**
 * A loopback cable: every byte written comes back, as on a port whose TX is wired to RX.
 * Output is delivered on a later tick, as a real port would.
 */
export class SimSerialDriver implements SerialDriver {
  readonly kind = 'simulated';
  readonly opened = new Map<string, number>();

  async open(path: string, baud: number): Promise<SerialConnection> {
    if (!path.startsWith('sim://')) throw new Error(`the simulated serial driver only opens sim:// ports, not ${path}`);
    const listeners = new DataListeners();
    let closed = false;
    this.opened.set(path, baud);
    return {
      write: async (data) => {
        if (closed) throw new Error('port is closed');
        const copy = Buffer.from(data);
        setImmediate(() => listeners.emit(copy));
      },
      onData: (l) => listeners.add(l),
      setBaud: async (b) => {
        this.opened.set(path, b);
      },
      close: async () => {
        closed = true;
        listeners.clear();
        this.opened.delete(path);
      },
    };
  }
}
