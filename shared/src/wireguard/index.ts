import { nodeCrypto } from '../node-builtins.lazy.js';

/**
 * WireGuard keys and wg-quick configs, for the agent (its own key, written on the device) and the
 * control plane (the hub, WSI backends). Keys are raw Curve25519 in base64, as `wg genkey` and
 * `wg pubkey` print them; node:crypto's X25519 does the scalar multiplication. A subpath export
 * (`@edgehook/shared/wireguard`): the web console imports the package index and has no node:crypto.
 */

// PKCS#8 header of an X25519 private key (RFC 8410): the 32 raw bytes follow it.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** A base64 32-byte key as WireGuard prints it (44 characters, one `=`). */
export const WG_KEY_PATTERN = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export interface WgKeyPair {
  privateKey: string;
  publicKey: string;
}

function rawKey(base64: string): Buffer {
  if (!WG_KEY_PATTERN.test(base64)) throw new Error('not a WireGuard key (32 bytes of base64)');
  return Buffer.from(base64, 'base64');
}

/** `wg pubkey`: the public key of a base64 private key. */
export function wgPublicKey(privateKey: string): string {
  const key = nodeCrypto().createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, rawKey(privateKey)]), format: 'der', type: 'pkcs8' });
  const jwk = nodeCrypto().createPublicKey(key).export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('X25519 public key export gave no key');
  return Buffer.from(jwk.x, 'base64url').toString('base64');
}

/** `wg genkey | tee priv | wg pubkey`: 32 random bytes clamped as Curve25519 wants (as wg does). */
export function wgGenKeyPair(): WgKeyPair {
  const raw = nodeCrypto().randomBytes(32);
  raw[0] = (raw[0] ?? 0) & 248;
  raw[31] = ((raw[31] ?? 0) & 127) | 64;
  const privateKey = raw.toString('base64');
  raw.fill(0);
  return { privateKey, publicKey: wgPublicKey(privateKey) };
}

export interface WgInterfaceSection {
  /** Absent: a `# PrivateKey = ...` placeholder line with `privateKeyNote` is written instead. */
  privateKey?: string | undefined;
  privateKeyNote?: string;
  address?: readonly string[];
  listenPort?: number;
}

export interface WgPeerSection {
  publicKey: string;
  allowedIps: readonly string[];
  endpoint?: string;
  persistentKeepalive?: number;
  /** Written as a comment above the peer (a device's name and id). */
  comment?: string;
}

/** A value written into the file: a newline would let it start a line of its own. */
function value(v: string | number): string {
  const s = String(v);
  if (/[\r\n\0]/.test(s)) throw new Error('a WireGuard config value may not contain line breaks');
  return s;
}

/** Comments are free text from names: control characters become spaces. */
function comment(text: string): string {
  return `# ${text.replace(/[\u0000-\u001f\u007f]/g, ' ')}`;
}

/** A wg-quick configuration (`[Interface]` then one `[Peer]` per peer), as `wg-quick up` reads it. */
export function renderWgQuick(conf: { header?: readonly string[]; iface: WgInterfaceSection; peers: readonly WgPeerSection[] }): string {
  const lines: string[] = [...(conf.header ?? []).map(comment)];
  lines.push('[Interface]');
  if (conf.iface.privateKey !== undefined) lines.push(`PrivateKey = ${value(conf.iface.privateKey)}`);
  else lines.push(comment(`PrivateKey = ${conf.iface.privateKeyNote ?? '(not included)'}`));
  if (conf.iface.address && conf.iface.address.length > 0) lines.push(`Address = ${conf.iface.address.map(value).join(', ')}`);
  if (conf.iface.listenPort !== undefined) lines.push(`ListenPort = ${value(conf.iface.listenPort)}`);
  for (const peer of conf.peers) {
    lines.push('');
    if (peer.comment !== undefined) lines.push(comment(peer.comment));
    lines.push('[Peer]', `PublicKey = ${value(peer.publicKey)}`);
    if (peer.allowedIps.length > 0) lines.push(`AllowedIPs = ${peer.allowedIps.map(value).join(', ')}`);
    if (peer.endpoint !== undefined) lines.push(`Endpoint = ${value(peer.endpoint)}`);
    if (peer.persistentKeepalive !== undefined && peer.persistentKeepalive > 0) lines.push(`PersistentKeepalive = ${value(peer.persistentKeepalive)}`);
  }
  return lines.join('\n') + '\n';
}
