import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WgKey } from '@edgehook/shared';
import { wgGenKeyPair, wgPublicKey, type WgKeyPair } from '@edgehook/shared/wireguard';

/**
 * The hub's key pair: the private key in `<data-dir>/vpn/hub.key` (0600, in a 0700 directory),
 * made on the first start with the VPN on. Written with `wx`, so two starts never make two keys.
 * It is never logged; hub.conf shows it only to callers with vpn.hub.secret.
 */
export async function loadOrCreateHubKeys(dataDir: string): Promise<WgKeyPair & { path: string }> {
  const dir = join(dataDir, 'vpn');
  const path = join(dir, 'hub.key');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const fresh = wgGenKeyPair();
  await writeFile(path, fresh.privateKey + '\n', { mode: 0o600, flag: 'wx' }).catch((err: unknown) => {
    if (!(err instanceof Error && 'code' in err && err.code === 'EEXIST')) throw err;
  });
  await chmod(path, 0o600);
  const text = (await readFile(path, 'utf8')).trim();
  const parsed = WgKey.safeParse(text);
  if (!parsed.success) throw new Error(`${path} does not hold a WireGuard private key (one line of base64, as wg genkey prints): fix or delete it`);
  return { privateKey: parsed.data, publicKey: wgPublicKey(parsed.data), path };
}
