import { readFile } from 'node:fs/promises';

/**
 * What brings a wg-quick config up and down. Real: wireguard-tools (`wg-quick`, `wg`), loaded only
 * with `--vpn apply` (wg-quick.driver.ts). Simulated: the same checks and states with no kernel,
 * for tests and boards without WireGuard. Keys only ever travel in the 0600 config file, never argv.
 */
export interface VpnDriver {
  readonly kind: 'apply' | 'simulate';
  /** Brings the interface named by the file (`<ifname>.conf`) up with that config. */
  up(confPath: string, ifname: string): Promise<void>;
  down(confPath: string, ifname: string): Promise<void>;
  isUp(ifname: string): Promise<boolean>;
  /** Epoch seconds of the newest peer handshake, null when none (or not knowable). */
  latestHandshake(ifname: string): Promise<number | null>;
}

/** wg-quick's own rule for interface names (its config file's base name). */
export const IFNAME_PATTERN = /^[a-zA-Z0-9_=+.-]{1,15}$/;

/** The simulated tunnel: checks the file as wg-quick would (private, parseable), keeps the state in memory. */
export class SimulatedVpnDriver implements VpnDriver {
  readonly kind = 'simulate' as const;
  private readonly up_ = new Set<string>();

  async up(confPath: string, ifname: string): Promise<void> {
    const problem = configProblem(await readFile(confPath, 'utf8'));
    if (problem) throw new Error(`${confPath}: ${problem}`);
    if (this.up_.has(ifname)) throw new Error(`wg-quick: \`${ifname}' already exists`);
    this.up_.add(ifname);
  }

  async down(_confPath: string, ifname: string): Promise<void> {
    if (!this.up_.delete(ifname)) throw new Error(`wg-quick: \`${ifname}' is not a WireGuard interface`);
  }

  async isUp(ifname: string): Promise<boolean> {
    return this.up_.has(ifname);
  }

  async latestHandshake(): Promise<number | null> {
    return null;
  }
}

// The keys wg-quick and wg setconf know, per section; anything else makes them refuse the file.
const KNOWN: Record<string, ReadonlySet<string>> = {
  interface: new Set(['privatekey', 'listenport', 'fwmark', 'address', 'dns', 'mtu', 'table', 'preup', 'postup', 'predown', 'postdown', 'saveconfig']),
  peer: new Set(['publickey', 'presharedkey', 'allowedips', 'endpoint', 'persistentkeepalive']),
};

/** Why wg-quick would refuse this config (the simulated driver's stand-in for its parser), or undefined. */
export function configProblem(text: string): string | undefined {
  let section: string | undefined;
  let interfaces = 0;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1]?.toLowerCase();
      if (section === 'interface') interfaces++;
      if (section !== 'interface' && section !== 'peer') return `unknown section [${header[1] ?? ''}]`;
      continue;
    }
    const kv = /^([A-Za-z]+)\s*=\s*(.*)$/.exec(line);
    if (!kv || section === undefined || !KNOWN[section]?.has((kv[1] ?? '').toLowerCase())) return `Line unrecognized: \`${line}'`;
  }
  return interfaces === 1 ? undefined : 'a config needs exactly one [Interface]';
}
