import { existsSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** Where 8-byte boot-keyboard reports go: the USB gadget device, or memory. */
export interface HidReportSink {
  readonly kind: 'hidg' | 'simulated';
  write(report: Buffer): Promise<void>;
  readonly online: boolean;
  close(): Promise<void>;
}

/** Real: writes reports to /dev/hidgN (the USB gadget's keyboard function). */
export class HidgSink implements HidReportSink {
  readonly kind = 'hidg';
  private handle: FileHandle | undefined;
  private failed = false;

  constructor(private readonly path: string) {}

  /** The gadget node exists (the USB function is configured) and the last write worked. */
  get online(): boolean {
    return !this.failed && existsSync(this.path);
  }

  async write(report: Buffer): Promise<void> {
    try {
      // Opened on first use: the gadget appears only once the host has enumerated it.
      this.handle ??= await open(this.path, 'r+');
      await this.handle.write(report, 0, report.length);
      this.failed = false;
    } catch (err) {
      this.failed = true;
      await this.handle?.close().catch(() => undefined);
      this.handle = undefined;
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
  }
}

/** Simulated: keeps the last reports so tests can check what a host would have received. */
export class SimHidSink implements HidReportSink {
  readonly kind = 'simulated';
  readonly online = true;
  private readonly kept: Buffer[] = [];

  constructor(private readonly max = 1024) {}

  async write(report: Buffer): Promise<void> {
    this.kept.push(Buffer.from(report));
    if (this.kept.length > this.max) this.kept.shift();
  }

  reports(): Buffer[] {
    return [...this.kept];
  }

  clear(): void {
    this.kept.length = 0;
  }

  async close(): Promise<void> {}
}
