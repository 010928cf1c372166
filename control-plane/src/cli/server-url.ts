import { CliError } from './errors.js';

/**
 * Canonical form of a server address: scheme, host, port and an optional path prefix (for a
 * reverse proxy), without a trailing slash. A bare `host:port` means http://host:port.
 */
export function normalizeServerUrl(raw: string): string {
  const text = raw.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(`invalid server URL ${JSON.stringify(raw)}: expected e.g. http://192.168.1.10:8080`, 2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`invalid server URL ${raw}: use http:// or https://`, 2);
  // Credentials in the URL would end up in the credentials file and in every error message.
  if (url.username || url.password) throw new CliError(`invalid server URL: do not put a user or password in it; use --username and EDGEHOOK_PASSWORD`, 2);
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/** True when the URL names this machine, so a device elsewhere cannot use it as is. */
export function isLoopback(server: string): boolean {
  const host = new URL(server).hostname;
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.') || host === '0.0.0.0';
}
