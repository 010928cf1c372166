import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Debian's wireguard-tools as the judge of our configs: `wg genkey`/`wg pubkey` for keys,
 * `wg-quick strip` for wg-quick files and, where an interface can be made (root, /dev/net/tun,
 * wireguard-go), `wg setconf` on a real interface, which refuses any line it does not know.
 */
export function run(bin: string, args: string[], input?: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${bin} ${args.join(' ')} exited ${code}: ${err.trim()}`))));
    if (input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
}

const which = (bin: string): Promise<boolean> => new Promise((resolve) => execFile('sh', ['-c', `command -v ${bin}`], (err) => resolve(!err)));

/** wireguard-tools are required (the CI installs them); a userspace interface only where the machine allows. */
export async function wgTools(): Promise<{ userspace: boolean }> {
  for (const bin of ['wg', 'wg-quick']) if (!(await which(bin))) throw new Error(`${bin} is missing: apt-get install wireguard-tools`);
  const userspace = process.getuid?.() === 0 && existsSync('/dev/net/tun') && (await which('wireguard-go')) && (await which('ip'));
  return { userspace };
}

/** wireguard-go would otherwise refuse to start where the kernel claims WireGuard support. */
export const WG_ENV = { ...process.env, WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1' };

export const wgPubkey = async (privateKey: string): Promise<string> => (await run('wg', ['pubkey'], privateKey + '\n')).trim();
export const wgGenkey = async (): Promise<string> => (await run('wg', ['genkey'])).trim();

export const uniqueIfname = (prefix: string): string => `${prefix}${Math.random().toString(36).slice(2, 8)}`;

/**
 * Checks a wg-quick config with the real tools and answers `wg showconf`'s view of it (or the
 * stripped text where no interface can be made): `wg-quick strip`, then `wg setconf`.
 */
export async function wgCheck(text: string): Promise<{ stripped: string; shown: string | undefined }> {
  const dir = await mkdtemp(join(tmpdir(), 'edgehook-wg-'));
  const ifname = uniqueIfname('ehc');
  try {
    const file = join(dir, `${ifname}.conf`);
    await writeFile(file, text, { mode: 0o600 });
    await chmod(file, 0o600);
    const stripped = await run('wg-quick', ['strip', file]);
    const { userspace } = await wgTools();
    if (!userspace) return { stripped, shown: undefined };
    const strippedFile = join(dir, 'stripped.conf');
    await writeFile(strippedFile, stripped, { mode: 0o600 });
    await run('wireguard-go', [ifname], undefined, WG_ENV);
    try {
      await run('wg', ['setconf', ifname, strippedFile]);
      return { stripped, shown: await run('wg', ['showconf', ifname]) };
    } finally {
      await run('ip', ['link', 'del', ifname]).catch(() => undefined);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The value of the first `Key = value` line (wg-quick's syntax), or undefined. */
export function confValue(text: string, key: string): string | undefined {
  return new RegExp(`^${key}\\s*=\\s*(.+)$`, 'm').exec(text)?.[1]?.trim();
}
