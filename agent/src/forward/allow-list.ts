import { BlockList, isIP, isIPv4 } from 'node:net';
import * as z from '@edgehook/shared/zod';
import { transformIssue } from '@edgehook/shared/zod';

/**
 * `--forward-allow`: which destinations this device forwards to. Comma-separated rules
 * `HOST[:PORTS]`; HOST is `*`, an address, a CIDR (`192.168.1.0/24`, `[fd00::/8]`) or a host name;
 * PORTS is `*` (the default), a port or a range `8000-8099`. An IPv6 address takes brackets when a
 * port follows. `off` allows nothing. Every check is on the RESOLVED address (a name in a rule is
 * resolved when checked), so a name that re-resolves elsewhere (DNS rebinding) gains nothing.
 */
export const DEFAULT_FORWARD_ALLOW = '127.0.0.0/8:*,[::1]:*';

export type HostRule = { kind: 'any' } | { kind: 'net'; text: string; list: BlockList } | { kind: 'name'; name: string };
export interface ForwardRule {
  readonly text: string;
  readonly host: HostRule;
  readonly ports: { from: number; to: number };
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$/;

function parsePorts(text: string): { from: number; to: number } | string {
  if (text === '*') return { from: 1, to: 65535 };
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!m) return `"${text}" is not a port, a range like 8000-8099 or *`;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < 1 || to > 65535 || from > to) return `"${text}": ports go from 1 to 65535, the range low to high`;
  return { from, to };
}

function parseHost(text: string): HostRule | string {
  if (text === '*') return { kind: 'any' };
  const [addr = '', prefixText, extra] = text.split('/');
  if (extra !== undefined) return `"${text}" has more than one /`;
  const family = isIP(addr);
  if (family === 0) {
    if (prefixText !== undefined) return `"${text}": a CIDR needs an IP address before the /`;
    if (!HOSTNAME.test(text)) return `"${text}" is not an IP address, a CIDR or a host name`;
    return { kind: 'name', name: text.toLowerCase() };
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const max = family === 4 ? 32 : 128;
  const list = new BlockList();
  if (prefixText === undefined) {
    list.addAddress(addr, type);
    return { kind: 'net', text, list };
  }
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return `"${text}": the prefix length must be 0 to ${max}`;
  list.addSubnet(addr, Number(prefixText), type);
  return { kind: 'net', text, list };
}

/** One rule, or the reason it is not one. */
export function parseRule(raw: string): ForwardRule | string {
  const text = raw.trim();
  let hostText: string;
  let portText = '*';
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return `"${text}": missing ]`;
    hostText = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return `"${text}": expected :PORT after ]`;
      portText = rest.slice(1);
    }
    if (isIP(hostText.split('/')[0] ?? '') !== 6) return `"${text}": brackets hold an IPv6 address or CIDR`;
  } else if ((text.match(/:/g) ?? []).length > 1) {
    // Bare IPv6 (several colons): the whole text is the address, any port.
    hostText = text;
  } else {
    const colon = text.lastIndexOf(':');
    hostText = colon < 0 ? text : text.slice(0, colon);
    if (colon >= 0) portText = text.slice(colon + 1);
  }
  if (hostText === '') return `"${text}": no host`;
  const host = parseHost(hostText);
  if (typeof host === 'string') return host;
  const ports = parsePorts(portText);
  if (typeof ports === 'string') return ports;
  return { text, host, ports };
}

/** The flag's value: `off`, or rules separated by commas. Errors name the rule at fault. */
export const ForwardAllow = z.pipe(z.string(), z.transform((value, ctx): ForwardRule[] => {
    if (value.trim() === 'off') return [];
    const rules: ForwardRule[] = [];
    for (const part of value.split(',')) {
      if (part.trim() === '') continue;
      const rule = parseRule(part);
      if (typeof rule === 'string') transformIssue(ctx, rule);
      else rules.push(rule);
    }
    if (rules.length === 0 && value.trim() !== '') transformIssue(ctx, 'no rules: give HOST[:PORT] rules separated by commas, or off');
    return rules;
  }));

/** `::ffff:10.0.0.1` is 10.0.0.1: checked as the IPv4 address it is. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address.toLowerCase();
}

export type ResolveName = (name: string) => Promise<string[]>;

/** True when some rule covers this resolved address and port. */
export async function isAllowed(rules: readonly ForwardRule[], address: string, port: number, resolveName: ResolveName): Promise<boolean> {
  const addr = normalizeAddress(address);
  const type = isIPv4(addr) ? 'ipv4' : 'ipv6';
  for (const rule of rules) {
    if (port < rule.ports.from || port > rule.ports.to) continue;
    const host = rule.host;
    if (host.kind === 'any') return true;
    if (host.kind === 'net' && host.list.check(addr, type)) return true;
    if (host.kind === 'name') {
      const resolved = await resolveName(host.name).catch(() => []);
      if (resolved.map(normalizeAddress).includes(addr)) return true;
    }
  }
  return false;
}

export function describeRules(rules: readonly ForwardRule[]): string {
  return rules.length === 0 ? 'off' : rules.map((r) => r.text).join(',');
}
