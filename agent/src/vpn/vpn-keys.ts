import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WgKey } from '@edgehook/shared';
import { wgGenKeyPair, wgPublicKey } from '@edgehook/shared/wireguard';

/** A file only its owner reads, written whole (a crash leaves the old one or the new one). */
export async function writePrivate(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/**
 * The device's WireGuard key, made here and kept in `<state-dir>/vpn/private.key` (0600): only its
 * public half is ever sent to the control plane.
 */
export class VpnKeyStore {
  readonly dir: string;
  private readonly path: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'vpn');
    this.path = join(this.dir, 'private.key');
  }

  async ensureDir(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
  }

  async privateKey(): Promise<string | undefined> {
    const text = await readFile(this.path, 'utf8').catch(() => undefined);
    const parsed = WgKey.safeParse(text?.trim());
    return parsed.success ? parsed.data : undefined;
  }

  async publicKey(): Promise<string | undefined> {
    const priv = await this.privateKey();
    return priv === undefined ? undefined : wgPublicKey(priv);
  }

  /** The public key, making the pair first when there is none (or when `rotate`). */
  async ensure(rotate: boolean): Promise<string> {
    const existing = rotate ? undefined : await this.publicKey();
    if (existing) return existing;
    await this.ensureDir();
    const pair = wgGenKeyPair();
    await writePrivate(this.path, pair.privateKey + '\n');
    return pair.publicKey;
  }
}
