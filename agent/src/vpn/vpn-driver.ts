import { readFile, stat } from 'node:fs/promises';

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
    const info = await stat(confPath);
    if ((info.mode & 0o077) !== 0) throw new Error(`${confPath} is readable by others (mode ${(info.mode & 0o777).toString(8)})`);
    const text = await readFile(confPath, 'utf8');
    if (!/^\[Interface\]$/m.test(text) || !/^PrivateKey = \S+$/m.test(text) || !/^\[Peer\]$/m.test(text)) throw new Error(`${confPath} is not a complete wg-quick config`);
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
