import type { NetworkInterfaceInfo } from 'node:os';

const bracket = (host: string) => (host.includes(':') ? `[${host}]` : host);

/**
 * The URLs a device on the network can use to reach a server listening on `host`: for a wildcard
 * (0.0.0.0, ::) every non-internal interface address (IPv4 first; IPv6 link-local left out, it
 * needs a zone id), else the host itself. 127.0.0.1 is last, for this machine.
 */
export function reachableUrls(host: string, port: number, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>, scheme: 'http' | 'https' = 'http'): string[] {
  if (host !== '0.0.0.0' && host !== '::') return [`${scheme}://${bracket(host)}:${port}`];
  const all = Object.values(interfaces).flatMap((list) => list ?? []);
  const external = all.filter((a) => !a.internal && !(a.family === 'IPv6' && /^fe80:/i.test(a.address)));
  const v4 = external.filter((a) => a.family === 'IPv4').map((a) => a.address);
  const v6 = host === '::' ? external.filter((a) => a.family === 'IPv6').map((a) => a.address) : [];
  return [...new Set([...v4, ...v6])].map((a) => `${scheme}://${bracket(a)}:${port}`).concat(`${scheme}://127.0.0.1:${port}`);
}
