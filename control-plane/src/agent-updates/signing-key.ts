import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageSignedText } from '@edgehook/shared';

/** The control plane's ed25519 key for agent packages: devices pin its public half at enrollment. */
export interface PackageSigner {
  /** Base64 of the public key's SPKI DER, as devices pin it. */
  readonly publicKey: string;
  /** The signature (base64) over `packageSignedText(version, sha256)`. */
  sign(version: string, sha256: string): string;
}

export function signerFrom(privateKey: KeyObject): PackageSigner {
  const publicKey = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).toString('base64');
  return {
    publicKey,
    sign: (version, sha256) => sign(null, Buffer.from(packageSignedText(version, sha256)), privateKey).toString('base64'),
  };
}

/**
 * `<data-dir>/agent-signing-key.pem`, generated once (mode 0600, written beside and renamed in, so
 * a crash never leaves half a key). Losing it means devices refuse every new package: they pinned it.
 */
export async function loadOrCreateSigningKey(dataDir: string): Promise<PackageSigner> {
  const path = join(dataDir, 'agent-signing-key.pem');
  let pem: string | undefined;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    if (!(err instanceof Error && 'code' in err && err.code === 'ENOENT')) throw err;
  }
  if (pem === undefined) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const tmp = `${path}.tmp`;
    await writeFile(tmp, pem, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  }
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${path} is not an ed25519 key`);
  return signerFrom(key);
}
