import type { ServeConfig } from '../config.js';
import { ensureSelfSigned, selfSignedNames } from './self-signed.js';
import { loadTlsMaterial, type TlsMaterial } from './tls-material.js';

/** What the rest of the control plane may know about the certificate it serves. */
export interface TlsInfo {
  fingerprint: string;
  publicKeyPin: string;
  selfSigned: boolean;
}

export interface ServingTls {
  readonly certFile: string;
  readonly keyFile: string;
  /** True when --tls self-signed made a new pair on this start. */
  readonly generated: boolean;
  current(): TlsMaterial;
  /** Reads the files again (SIGHUP); on any problem the old material stays and the error is thrown. */
  reload(now: number): Promise<TlsMaterial>;
}

export async function prepareTls(tls: NonNullable<ServeConfig['tls']>, config: Pick<ServeConfig, 'dataDir' | 'host' | 'publicUrl'>, now: () => number): Promise<ServingTls> {
  const files = tls.mode === 'files' ? { certFile: tls.certFile, keyFile: tls.keyFile, generated: false } : await ensureSelfSigned(config.dataDir, selfSignedNames({ host: config.host, publicUrl: config.publicUrl }));
  // The time after generating: a fresh certificate is valid from this second on.
  let material = await loadTlsMaterial(files.certFile, files.keyFile, now());
  return {
    ...files,
    current: () => material,
    async reload(at) {
      material = await loadTlsMaterial(files.certFile, files.keyFile, at);
      return material;
    },
  };
}

export function tlsInfo(m: TlsMaterial): TlsInfo {
  return { fingerprint: m.fingerprint, publicKeyPin: m.publicKeyPin, selfSigned: m.selfSigned };
}
