import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface LunSetting {
  /** Absolute image path, or null for no medium. */
  file: string | null;
  cdrom: boolean;
  rw: boolean;
}

/** The USB mass-storage function the host sees. */
export interface MsdGadget {
  readonly kind: 'configfs' | 'simulated';
  /** The function exists (the gadget is configured on an OTG port). */
  readonly available: boolean;
  apply(setting: LunSetting): Promise<void>;
}

/**
 * Real: the configfs LUN of the kernel's mass-storage function
 * (`.../functions/mass_storage.usb0/lun.0`). The medium is ejected before the type changes,
 * because the kernel refuses `cdrom`/`ro` while a file is attached.
 */
export class ConfigfsGadget implements MsdGadget {
  readonly kind = 'configfs';
  constructor(private readonly lunDir: string) {}

  get available(): boolean {
    return existsSync(join(this.lunDir, 'file'));
  }

  async apply(s: LunSetting): Promise<void> {
    const put = (name: string, value: string) => writeFile(join(this.lunDir, name), value + '\n');
    // forced_eject detaches even while the host holds the medium locked.
    if (existsSync(join(this.lunDir, 'forced_eject'))) await put('forced_eject', '1');
    else await put('file', '');
    if (s.file === null) return;
    await put('cdrom', s.cdrom ? '1' : '0');
    await put('ro', s.rw && !s.cdrom ? '0' : '1');
    await put('file', s.file);
  }
}

/** Simulated: remembers what the host would see, for tests. */
export class SimMsdGadget implements MsdGadget {
  readonly kind = 'simulated';
  readonly available = true;
  current: LunSetting = { file: null, cdrom: false, rw: false };
  readonly history: LunSetting[] = [];

  /** As the kernel: a cdrom is read-only whatever was asked. */
  async apply(s: LunSetting): Promise<void> {
    this.current = { ...s, rw: s.rw && !s.cdrom };
    this.history.push({ ...this.current });
  }
}
