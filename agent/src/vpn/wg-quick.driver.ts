import { execFile } from 'node:child_process';
import type { VpnDriver } from './vpn-driver.js';

const TIMEOUT_MS = 30_000;

/** Runs one wireguard-tools command; the error carries its stderr (wg-quick explains itself there). */
function run(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: TIMEOUT_MS, env, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const missing = 'code' in err && err.code === 'ENOENT';
      reject(new Error(missing ? `${bin} not found: install wireguard-tools (apt-get install wireguard-tools)` : `${bin} ${args[0] ?? ''} failed: ${stderr.trim().split('\n').slice(-3).join(' / ') || err.message}`));
    });
  });
}

/**
 * The real tunnel with Debian's wireguard-tools: `wg-quick up|down <file>` (the file holds the key,
 * argv only its path) and `wg show` for state and handshakes. Needs root (CAP_NET_ADMIN) and
 * WireGuard in the kernel, or wireguard-go, which wg-quick falls back to.
 */
export class WgQuickDriver implements VpnDriver {
  readonly kind = 'apply' as const;

  constructor(private readonly opts: { wgQuick?: string; wg?: string; env?: NodeJS.ProcessEnv } = {}) {}

  private get env(): NodeJS.ProcessEnv {
    return this.opts.env ?? process.env;
  }

  async up(confPath: string): Promise<void> {
    await run(this.opts.wgQuick ?? 'wg-quick', ['up', confPath], this.env);
  }

  async down(confPath: string): Promise<void> {
    await run(this.opts.wgQuick ?? 'wg-quick', ['down', confPath], this.env);
  }

  async isUp(ifname: string): Promise<boolean> {
    return run(this.opts.wg ?? 'wg', ['show', ifname, 'public-key'], this.env).then(
      () => true,
      () => false,
    );
  }

  async latestHandshake(ifname: string): Promise<number | null> {
    const out = await run(this.opts.wg ?? 'wg', ['show', ifname, 'latest-handshakes'], this.env).catch(() => '');
    let newest = 0;
    for (const line of out.split('\n')) {
      const ts = Number(line.split('\t')[1] ?? '0');
      if (Number.isFinite(ts) && ts > newest) newest = ts;
    }
    return newest > 0 ? newest : null;
  }
}
