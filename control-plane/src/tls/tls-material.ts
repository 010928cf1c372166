import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fingerprintOf } from '@edgehook/shared/transport';

/** A certificate and key checked to belong together and to be valid now. */
export interface TlsMaterial {
  cert: string;
  key: string;
  /** `sha256:<hex>` of the leaf certificate: what devices pin with --server-fingerprint. */
  fingerprint: string;
  /** curl's --pinnedpubkey form (`sha256//<base64 of the SPKI hash>`), for the install command. */
  publicKeyPin: string;
  /** Issuer == subject and the certificate verifies itself: devices must pin it. */
  selfSigned: boolean;
  names: string[];
  validTo: string;
}

export class TlsConfigError extends Error {}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new TlsConfigError(`cannot read the TLS ${what} ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Reads and checks a PEM certificate (chain) and key; every problem is a clear message at startup. */
export async function loadTlsMaterial(certFile: string, keyFile: string, now: number): Promise<TlsMaterial> {
  const [cert, key] = await Promise.all([readText(certFile, 'certificate'), readText(keyFile, 'key')]);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new TlsConfigError(`${certFile} is not a PEM certificate (${err instanceof Error ? err.message : String(err)})`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new TlsConfigError(`${keyFile} is not a PEM private key, or it is encrypted (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!x509.checkPrivateKey(privateKey)) throw new TlsConfigError(`the key ${keyFile} does not match the certificate ${certFile}`);
  if (Date.parse(x509.validTo) <= now) throw new TlsConfigError(`the certificate ${certFile} expired on ${x509.validTo}; renew it`);
  if (Date.parse(x509.validFrom) > now) throw new TlsConfigError(`the certificate ${certFile} is not valid before ${x509.validFrom} (check the clock)`);
  const spki = x509.publicKey.export({ type: 'spki', format: 'der' });
  return {
    cert,
    key,
    fingerprint: fingerprintOf(x509),
    publicKeyPin: `sha256//${createHash('sha256').update(spki).digest('base64')}`,
    selfSigned: x509.issuer === x509.subject && x509.verify(x509.publicKey),
    names: (x509.subjectAltName ?? '').split(', ').filter(Boolean),
    validTo: x509.validTo,
  };
}
