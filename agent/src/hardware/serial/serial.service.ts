import type { Profile } from '@edgehook/firmware-profiles';
import { hwError } from '../errors.js';
import type { SerialConnection, SerialDriver } from './serial.driver.js';

interface OpenPort {
  conn: SerialConnection;
  baud: number;
  busy: boolean;
}

/**
 * The profile's serial ports by name. A port is opened on first use and kept open; one
 * exchange per port at a time (a terminal relay would hold it the same way).
 */
export class SerialService {
  private readonly open = new Map<string, OpenPort>();

  constructor(
    private readonly profile: Profile,
    private readonly driverFor: (path: string) => SerialDriver,
  ) {}

  list(): Profile['serial'] {
    return this.profile.serial;
  }

  private config(name: string): Profile['serial'][number] {
    const port = this.profile.serial.find((p) => p.name === name);
    if (!port) throw hwError('BAD_REQUEST', 'SerialPortNotFoundError', `unknown serial port '${name}' (known: ${this.profile.serial.map((p) => p.name).join(', ') || 'none'})`);
    return port;
  }

  /** The open connection for a port, at `baud` if given (else the profile's rate). */
  async connection(name: string, baud?: number): Promise<{ conn: SerialConnection; baud: number }> {
    const cfg = this.config(name);
    const want = baud ?? cfg.baud;
    let port = this.open.get(name);
    if (!port) {
      const conn = await this.driverFor(cfg.path).open(cfg.path, want).catch((err: unknown) => {
        throw hwError('INTERNAL', 'SerialOfflineError', `cannot open ${cfg.path}: ${err instanceof Error ? err.message : String(err)}`);
      });
      port = { conn, baud: want, busy: false };
      this.open.set(name, port);
    } else if (port.baud !== want) {
      await port.conn.setBaud(want);
      port.baud = want;
    }
    return port;
  }

  /**
   * Takes a port for a console session until `release` (one user at a time, like a terminal
   * server); the first port when no name is given.
   */
  async claim(name: string | undefined, baud?: number): Promise<{ name: string; path: string; baud: number; conn: SerialConnection; release: () => void }> {
    const cfg = name === undefined ? this.profile.serial[0] : this.config(name);
    if (!cfg) throw hwError('BAD_REQUEST', 'SerialPortNotFoundError', 'this board profile has no serial ports');
    const { conn, baud: rate } = await this.connection(cfg.name, baud);
    const port = this.open.get(cfg.name);
    if (!port) throw hwError('INTERNAL', 'SerialOfflineError', `port ${cfg.name} closed`);
    if (port.busy) throw hwError('CONFLICT', 'SerialIsBusyError', `serial port '${cfg.name}' is in use`);
    port.busy = true;
    let released = false;
    return {
      name: cfg.name,
      path: cfg.path,
      baud: rate,
      conn,
      release: () => {
        if (released) return;
        released = true;
        port.busy = false;
      },
    };
  }

  /** Writes `data` and collects what comes back for `readMs`. */
  async exchange(name: string, data: string, opts: { baud?: number | undefined; readMs: number }): Promise<string> {
    await this.connection(name, opts.baud);
    const port = this.open.get(name);
    if (!port) throw hwError('INTERNAL', 'SerialOfflineError', `port ${name} closed`);
    if (port.busy) throw hwError('CONFLICT', 'SerialIsBusyError', `serial port '${name}' is busy`);
    port.busy = true;
    const chunks: Buffer[] = [];
    const off = port.conn.onData((c) => chunks.push(c));
    try {
      if (data.length > 0) await port.conn.write(Buffer.from(data, 'utf8'));
      await new Promise((r) => setTimeout(r, opts.readMs));
    } finally {
      off();
      port.busy = false;
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async close(): Promise<void> {
    for (const p of this.open.values()) await p.conn.close().catch(() => undefined);
    this.open.clear();
  }
}
