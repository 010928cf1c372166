import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, statfs, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { MsdConfig } from '@edgehook/firmware-profiles';
import type { MsdState } from '@edgehook/shared';
import { hwError } from '../errors.js';
import type { MsdGadget } from './msd-gadget.js';

const PROGRESS_EVERY_MS = 500;
const incompleteName = (name: string) => `.__${name}.incomplete`;

const err = {
  offline: () => hwError('BAD_REQUEST', 'MsdOfflineError', 'MSD is not found'),
  busy: () => hwError('CONFLICT', 'MsdIsBusyError', 'Performing another MSD operation, please try again later'),
  connected: () => hwError('BAD_REQUEST', 'MsdConnectedError', "MSD is connected to Server, but shouldn't for this operation"),
  disconnected: () => hwError('BAD_REQUEST', 'MsdDisconnectedError', 'MSD is disconnected from Server, but should be for this operation'),
  notSelected: () => hwError('BAD_REQUEST', 'MsdImageNotSelected', 'The image is not selected'),
  unknown: () => hwError('BAD_REQUEST', 'MsdUnknownImageError', 'The image is not found in the storage'),
  exists: () => hwError('BAD_REQUEST', 'MsdImageExistsError', 'This image is already exists'),
};

interface Image {
  size: number;
  modTs: number;
}

/** An image being written: bytes go to a hidden file that becomes the image on commit. */
export interface MsdWriter {
  readonly name: string;
  readonly written: number;
  write(data: Buffer): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * kvmd's OTG mass-storage drive: an image store (a directory, size-capped, free space checked)
 * and one virtual drive (image, cdrom, rw, connected) applied to the USB gadget. One operation
 * at a time; an upload or download holds the drive busy.
 */
export class MsdController {
  private images = new Map<string, Image>();
  private drive = { image: null as string | null, connected: false, cdrom: false, rw: false };
  private busy = false;
  private transfer: { kind: 'uploading' | 'downloading'; name: string; size: number; written: number } | undefined;
  private space = { size: 0, free: 0 };
  private lastProgress = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly config: MsdConfig | undefined,
    private readonly storageDir: string,
    private readonly gadget: MsdGadget | undefined,
  ) {}

  get enabled(): boolean {
    return this.config !== undefined && this.gadget !== undefined;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  async start(): Promise<void> {
    if (!this.enabled) return;
    await mkdir(this.storageDir, { recursive: true, mode: 0o700 });
    // Uploads cut short by a restart are not images.
    for (const f of await readdir(this.storageDir)) if (f.startsWith('.__')) await rm(join(this.storageDir, f), { force: true });
    await this.reload();
  }

  private async reload(): Promise<void> {
    const next = new Map<string, Image>();
    for (const f of await readdir(this.storageDir, { withFileTypes: true })) {
      if (!f.isFile() || f.name.startsWith('.')) continue;
      const st = await stat(join(this.storageDir, f.name));
      next.set(f.name, { size: st.size, modTs: Math.floor(st.mtimeMs / 1000) });
    }
    this.images = next;
    const fs = await statfs(this.storageDir);
    this.space = { size: fs.blocks * fs.bsize, free: fs.bavail * fs.bsize };
  }

  state(): MsdState {
    if (!this.enabled) return { enabled: false, online: false, busy: false, storage: null, drive: null };
    const info = (i: Image) => ({ complete: true, mod_ts: i.modTs, removable: true, size: i.size, writable: true });
    const images = Object.fromEntries([...this.images].map(([name, i]) => [name, info(i)]));
    const selected = this.drive.image ? this.images.get(this.drive.image) : undefined;
    const t = this.transfer;
    return {
      enabled: true,
      online: this.gadget?.available ?? false,
      busy: this.busy,
      storage: {
        images,
        parts: { '': { size: this.space.size, free: this.space.free, writable: true } },
        downloading: t?.kind === 'downloading' ? { name: t.name, size: t.size, readed: t.written } : null,
        uploading: t?.kind === 'uploading' ? { name: t.name, size: t.size, written: t.written } : null,
      },
      drive: { image: selected && this.drive.image ? { name: this.drive.image, in_storage: true, ...info(selected) } : null, connected: this.drive.connected, cdrom: this.drive.cdrom, rw: this.drive.rw },
    };
  }

  private ready(): MsdGadget {
    if (!this.enabled || !this.gadget) throw hwError('BAD_REQUEST', 'MsdDisabledError', 'this board profile has no mass-storage gadget');
    if (!this.gadget.available) throw err.offline();
    if (this.busy) throw err.busy();
    return this.gadget;
  }

  /** Runs `fn` holding the drive busy; state is announced before and after. */
  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.ready();
    this.busy = true;
    this.changed();
    try {
      return await fn();
    } finally {
      this.busy = false;
      await this.reload().catch(() => undefined);
      this.changed();
    }
  }

  async setParams(p: { image?: string | undefined; cdrom?: boolean | undefined; rw?: boolean | undefined }): Promise<void> {
    this.ready();
    if (this.drive.connected) throw err.connected();
    if (p.image !== undefined && p.image !== '' && !this.images.has(p.image)) throw err.unknown();
    if (p.image !== undefined) this.drive.image = p.image === '' ? null : p.image;
    if (p.cdrom !== undefined) this.drive.cdrom = p.cdrom;
    if (p.rw !== undefined) this.drive.rw = p.rw;
    this.changed();
  }

  async setConnected(connected: boolean): Promise<void> {
    const gadget = this.ready();
    await this.exclusive(async () => {
      if (connected) {
        if (this.drive.connected) throw err.connected();
        if (!this.drive.image) throw err.notSelected();
        if (!this.images.has(this.drive.image)) throw err.unknown();
        await gadget.apply({ file: join(this.storageDir, this.drive.image), cdrom: this.drive.cdrom, rw: this.drive.rw });
      } else {
        if (!this.drive.connected) throw err.disconnected();
        await gadget.apply({ file: null, cdrom: this.drive.cdrom, rw: this.drive.rw });
      }
      this.drive.connected = connected;
    });
  }

  async remove(name: string): Promise<void> {
    await this.exclusive(async () => {
      if (!this.images.has(name)) throw err.unknown();
      if (this.drive.image === name && this.drive.connected) throw err.connected();
      await rm(join(this.storageDir, name), { force: true });
      if (this.drive.image === name) this.drive.image = null;
    });
  }

  async reset(): Promise<void> {
    const gadget = this.ready();
    await this.exclusive(async () => {
      await gadget.apply({ file: null, cdrom: false, rw: false });
      this.drive = { image: null, connected: false, cdrom: false, rw: false };
    });
  }

  /**
   * kvmd's msd/read: a stored image's bytes. It does not hold the drive busy (kvmd reads while
   * the drive is connected too); the file is opened before we answer, so a removal afterwards
   * cannot cut the read short.
   */
  async reader(name: string): Promise<{ size: number; stream: ReadStream }> {
    if (!this.enabled) throw hwError('BAD_REQUEST', 'MsdDisabledError', 'this board profile has no mass-storage gadget');
    await this.reload();
    if (!this.images.has(name)) throw err.unknown();
    const fh = await open(join(this.storageDir, name), 'r');
    const { size } = await fh.stat();
    return { size, stream: createReadStream('', { fd: fh, highWaterMark: 64 * 1024 }) };
  }

  /** Starts writing `name` of `size` bytes (0 = unknown); the drive stays busy until commit/abort. */
  async writer(name: string, size: number, kind: 'uploading' | 'downloading' = 'uploading'): Promise<MsdWriter> {
    this.ready();
    if (this.images.has(name)) throw err.exists();
    const max = this.config?.maxImageBytes ?? 0;
    if (size > max) throw hwError('BAD_REQUEST', 'MsdImageTooBigError', `the image is ${size} bytes; this board takes at most ${max}`);
    await this.reload();
    if (size > this.space.free) throw hwError('BAD_REQUEST', 'MsdStorageFullError', `not enough free space: ${size} bytes needed, ${this.space.free} free`);
    this.busy = true;
    const tmp = join(this.storageDir, incompleteName(name));
    let fh: FileHandle;
    try {
      fh = await open(tmp, 'wx', 0o600);
    } catch (e) {
      this.busy = false;
      throw e;
    }
    const t = (this.transfer = { kind, name, size, written: 0 });
    this.lastProgress = 0;
    this.changed();
    let done = false;
    const finish = async (keep: boolean): Promise<void> => {
      if (done) return;
      done = true;
      await fh.close().catch(() => undefined);
      if (keep) await rename(tmp, join(this.storageDir, name));
      else await rm(tmp, { force: true });
      this.transfer = undefined;
      this.busy = false;
      await this.reload().catch(() => undefined);
      this.changed();
    };
    return {
      name,
      get written() {
        return t.written;
      },
      write: async (data) => {
        if (t.written + data.length > max) throw hwError('BAD_REQUEST', 'MsdImageTooBigError', `the image grew past ${max} bytes`);
        await fh.write(data);
        t.written += data.length;
        const now = Date.now();
        if (now - this.lastProgress >= PROGRESS_EVERY_MS) {
          this.lastProgress = now;
          this.changed();
        }
      },
      commit: () => finish(true),
      abort: () => finish(false),
    };
  }
}
