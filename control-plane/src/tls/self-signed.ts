import { execFile } from 'node:child_process';
import { chmod, mkdir, rename, rm, stat } from 'node:fs/promises';
import { networkInterfaces, hostname as osHostname } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TlsConfigError } from './tls-material.js';

const run = promisify(execFile);

/** The names a self-signed certificate should carry: the configured ones and this machine's. */
export function selfSignedNames(opts: { host: string; publicUrl: string | undefined; hostname?: string; addresses?: string[] }): string[] {
  const names = new Set<string>(['localhost', '127.0.0.1', '::1', opts.hostname ?? osHostname()]);
  if (opts.host !== '0.0.0.0' && opts.host !== '::') names.add(opts.host);
  if (opts.publicUrl) names.add(new URL(opts.publicUrl).hostname.replace(/^\[|\]$/g, ''));
  const addresses = opts.addresses ?? Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address.split('%')[0] ?? a.address));
  for (const a of addresses) names.add(a);
  return [...names].filter((n) => n.length > 0 && /^[A-Za-z0-9.:*-]+$/.test(n));
}

function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * A key and certificate generated once into <data-dir>/tls (as PiKVM does), kept across
 * restarts so pinned devices stay valid. openssl does the X.509 work (Debian's openssl package).
 */
export async function ensureSelfSigned(dataDir: string, names: string[]): Promise<{ certFile: string; keyFile: string; generated: boolean }> {
  const dir = join(dataDir, 'tls');
  const certFile = join(dir, 'self-signed.crt');
  const keyFile = join(dir, 'self-signed.key');
  if ((await exists(certFile)) && (await exists(keyFile))) return { certFile, keyFile, generated: false };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const san = names.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  const tmpKey = `${keyFile}.tmp`;
  const tmpCert = `${certFile}.tmp`;
  try {
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-sha256', '-days', '3650', '-subj', '/CN=edgehook control plane', '-addext', `subjectAltName=${san}`, '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'keyUsage=critical,digitalSignature', '-addext', 'extendedKeyUsage=serverAuth', '-keyout', tmpKey, '-out', tmpCert], { timeout: 60_000 });
  } catch (err) {
    await rm(tmpKey, { force: true });
    await rm(tmpCert, { force: true });
    const missing = err instanceof Error && 'code' in err && err.code === 'ENOENT';
    throw new TlsConfigError(missing ? '--tls self-signed needs the openssl command (Debian package openssl)' : `openssl could not generate the certificate: ${err instanceof Error ? err.message : String(err)}`);
  }
  await chmod(tmpKey, 0o600);
  await rename(tmpKey, keyFile);
  await rename(tmpCert, certFile);
  return { certFile, keyFile, generated: true };
}
