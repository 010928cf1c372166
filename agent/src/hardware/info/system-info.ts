import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { Profile } from '@edgehook/firmware-profiles';
import type { Info, InfoFields } from '@edgehook/shared';
import { KVMD_COMPAT_VERSION } from '@edgehook/shared';

type Field = (typeof InfoFields)[number];

export interface InfoDeps {
  profile: Profile;
  hostname: string;
  agentVersion: string;
  /** Runs a command and returns stdout (vcgencmd); injected for tests. */
  run?: (cmd: string, args: string[]) => Promise<string>;
  now?: () => number;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).replace(/\0/g, '').trim();
  } catch {
    return undefined;
  }
}

function runCommand(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 2000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

/** `vcgencmd get_throttled` -> kvmd's throttling object (bits 0-2 now, 16-18 since boot). */
export function parseThrottled(stdout: string): NonNullable<NonNullable<Info['hw']>['health']['throttling']> | null {
  const m = /throttled=(0x[0-9a-fA-F]+)/.exec(stdout);
  if (!m?.[1]) return null;
  const raw = Number.parseInt(m[1], 16);
  const flag = (bit: number) => ({ now: (raw & (1 << bit)) !== 0, past: (raw & (1 << (bit + 16))) !== 0 });
  return { raw_flags: raw, parsed_flags: { undervoltage: flag(0), freq_capped: flag(1), throttled: flag(2) } };
}

/** Temperature of one thermal zone in C; sim:// zones report a steady simulated value. */
async function zoneTemp(zone: Profile['thermalZones'][number], now: number): Promise<number | null> {
  if (zone.path.startsWith('sim://')) return Math.round((45 + Math.sin(now / 30_000) * 2) * 1000) / 1000;
  const text = await readText(zone.path);
  const v = Number(text);
  return text === undefined || text === '' || !Number.isFinite(v) ? null : Math.round(v * zone.scale * 1000) / 1000;
}

/** PiKVM `info`: the categories asked for (all by default). */
export async function systemInfo(deps: InfoDeps, fields: Field[] = ['system', 'hw', 'meta', 'extras']): Promise<Info> {
  const { profile } = deps;
  const now = (deps.now ?? Date.now)();
  const info: Info = {};
  if (fields.includes('hw')) {
    const temp: Record<string, number | null> = {};
    for (const z of profile.thermalZones) temp[z.name] = await zoneTemp(z, now);
    let throttling = null;
    if (profile.throttling.vcgencmd) {
      throttling = await (deps.run ?? runCommand)('vcgencmd', ['get_throttled']).then(parseThrottled, () => null);
    }
    const model = profile.platform.type === 'simulated' ? undefined : await readText('/proc/device-tree/model');
    info.hw = {
      platform: { type: profile.platform.type, base: model ?? profile.platform.model ?? null, profile: profile.id },
      health: { temp, throttling },
    };
  }
  if (fields.includes('system')) {
    info.system = {
      kvmd: { version: KVMD_COMPAT_VERSION },
      edgehook: { agent: deps.agentVersion, node: process.version },
      streamer: null,
      kernel: { system: os.type(), release: os.release(), version: os.version(), machine: os.machine() },
    };
  }
  if (fields.includes('meta')) info.meta = { server: { host: deps.hostname }, kvm: {} };
  if (fields.includes('extras')) info.extras = {};
  return info;
}
