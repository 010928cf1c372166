import type { ConnectionOptions, DetailedPeerCertificate } from 'node:tls';
import { isIP } from 'node:net';
import { nodeTls } from '../node-builtins.lazy.js';
import * as z from '../zod.js';

/**
 * How a client decides to trust a TLS server, for any link (MQTT over TLS or wss, HTTPS): the
 * system CAs (nothing set), a CA file's PEM, or a pinned SHA-256 certificate fingerprint, which
 * lets a device trust a self-signed control plane without ever turning verification off.
 */
export interface TlsTrust {
  /** PEM text of the CA (or the server's own certificate) to trust instead of the system CAs. */
  ca?: string | undefined;
  /** `sha256:<64 hex>` as printed by `edgehook serve`. */
  fingerprint?: string | undefined;
}

/** `sha256:` and 64 hex digits, colons allowed (as openssl prints them); normalized to lowercase, no colons. */
export const ServerFingerprint = z.pipe(z.pipe(z.string(), z.transform((s) => s.trim())).check(z.refine((s) => /^sha256:([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$/.test(s), 'must be sha256: followed by 64 hex digits (the fingerprint `edgehook serve` prints)')), z.transform((s) => `sha256:${s.slice(7).replace(/:/g, '').toLowerCase()}`));

/** Node's `AB:CD:...` fingerprint256 in our `sha256:abcd...` form. */
export function fingerprintOf(cert: { fingerprint256: string }): string {
  return `sha256:${cert.fingerprint256.replace(/:/g, '').toLowerCase()}`;
}

export class TlsTrustError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsTrustError';
  }
}

function codeOf(err: unknown): string {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : '';
}

const UNTRUSTED = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED']);

/**
 * A TLS failure in words a user can act on, or undefined when it is not a TLS problem
 * (connection refused and friends are reported by the caller).
 */
export function describeTlsError(err: unknown, where: string): string | undefined {
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof TlsTrustError) return err.message;
  if (/wrong version number|packet length too long|http request/i.test(message) || code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return `${where}: the server speaks plain HTTP (or another plain protocol), not TLS; use an http:// / mqtt:// URL or the server's TLS port`;
  }
  if (UNTRUSTED.has(code)) return `${where}: the server's certificate is not trusted (${code}); pass --ca FILE with its CA, or pin it with --server-fingerprint sha256:... (printed by \`edgehook serve\`)`;
  if (code === 'CERT_HAS_EXPIRED') return `${where}: the server's certificate has expired; renew it on the server`;
  if (code === 'CERT_NOT_YET_VALID') return `${where}: the server's certificate is not valid yet (check the clocks)`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `${where}: the server's certificate is not for this host name (${message}); use a name the certificate lists, or pin it with --server-fingerprint`;
  if (/^ERR_SSL|^ERR_TLS|CERT|EPROTO/.test(code)) return `${where}: TLS handshake failed: ${message}`;
  return undefined;
}

function pem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

/** The chain the server presents, unverified: only to read what to pin against. */
function peerChain(host: string, port: number, servername: string | undefined, timeoutMs: number): Promise<DetailedPeerCertificate[]> {
  return new Promise((resolve, reject) => {
    const socket = nodeTls().connect({ host, port, rejectUnauthorized: false, ...(servername ? { servername } : {}) });
    const timer = setTimeout(() => socket.destroy(new Error(`no TLS handshake within ${timeoutMs / 1000} s`)), timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const chain: DetailedPeerCertificate[] = [];
      // A self-signed certificate is its own issuer: stop at the first repeat.
      for (let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true); cert?.raw && !chain.some((c) => c.fingerprint256 === cert?.fingerprint256); cert = cert.issuerCertificate) {
        chain.push(cert);
      }
      socket.destroy();
      resolve(chain);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * Options for tls.connect / https / ws / mqtt.js that enforce the trust. A pin first reads the
 * server's chain, refuses it unless the leaf matches, then trusts exactly that chain and checks
 * the pin again on the real connection (so the certificate cannot change between the two).
 */
export async function tlsOptionsFor(trust: TlsTrust, target: { host: string; port: number }, timeoutMs = 10_000): Promise<ConnectionOptions> {
  const servername = isIP(target.host) === 0 ? target.host : undefined;
  const where = `${target.host}:${target.port}`;
  if (trust.fingerprint) {
    const pin = trust.fingerprint;
    const chain = await peerChain(target.host, target.port, servername, timeoutMs);
    const leaf = chain[0];
    if (!leaf) throw new TlsTrustError(`${where}: the server presented no certificate`);
    const seen = fingerprintOf(leaf);
    if (seen !== pin) throw new TlsTrustError(`${where}: the server's certificate fingerprint is ${seen}, not the pinned ${pin}; refusing to connect (another server, or its certificate was replaced: check it on the server)`);
    return {
      ca: [...nodeTls().rootCertificates, ...chain.map((c) => pem(c.raw))],
      rejectUnauthorized: true,
      ...(servername ? { servername } : {}),
      // The pin names the server; its host name need not be in a self-signed certificate.
      checkServerIdentity: (_host, cert) => (fingerprintOf(cert) === pin ? undefined : new TlsTrustError(`${where}: the server's certificate fingerprint is ${fingerprintOf(cert)}, not the pinned ${pin}`)),
    };
  }
  return { ...(trust.ca ? { ca: trust.ca } : {}), rejectUnauthorized: true, ...(servername ? { servername } : {}) };
}

/** host and port of an https://, wss:// or mqtts:// URL. */
export function tlsTarget(url: string): { host: string; port: number } | undefined {
  const u = new URL(url);
  const defaults: Record<string, number> = { 'https:': 443, 'wss:': 443, 'mqtts:': 8883 };
  const port = defaults[u.protocol];
  if (port === undefined) return undefined;
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : port };
}
