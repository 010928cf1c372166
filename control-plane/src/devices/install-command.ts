import type { InstallCommand } from '@edgehook/shared';
import type { TlsInfo } from '../tls/tls.service.js';

/** Quotes for a POSIX shell only when needed, so the printed command can be pasted as is. */
export function shellWord(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function isLoopbackHost(server: string): boolean {
  const host = new URL(server).hostname;
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.') || host === '0.0.0.0';
}

/**
 * The one builder of the install command that `enroll-token create`, the console's "Add device"
 * dialog and the README show. The script asks for the token (or reads --token-file PATH), so it
 * never sits on a command line where `ps` shows it.
 */
export function buildInstallCommand(serverUrl: string, tls: TlsInfo | undefined): InstallCommand {
  const server = serverUrl.replace(/\/+$/, '');
  const pinned = tls?.selfSigned === true && server.startsWith('https:');
  // A self-signed certificate: curl checks the key pin instead of a CA (-k alone would trust anyone).
  const curl = pinned && tls ? `curl -fsSLk --pinnedpubkey ${shellWord(tls.publicKeyPin)}` : 'curl -fsSL';
  const args = ['--token-file', '-', ...(pinned && tls ? ['--server-fingerprint', tls.fingerprint] : [])];
  const warnings: string[] = [];
  if (isLoopbackHost(server)) warnings.push(`${server} is this machine's loopback address; on the device, use an address of this machine that it can reach (or start the server with --public-url).`);
  if (server.startsWith('http:')) warnings.push('plain HTTP: the token and the device secret cross the network in clear; serve with --tls self-signed or --tls-cert/--tls-key.');
  return {
    command: `${curl} ${shellWord(`${server}/install.sh`)} | sudo sh -s -- ${args.join(' ')}`,
    serverUrl: server,
    ...(pinned && tls ? { fingerprint: tls.fingerprint } : {}),
    warnings,
  };
}
