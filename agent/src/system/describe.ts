import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { DeviceDescription } from '@edgehook/shared';

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).replace(/\0/g, '').trim();
  } catch {
    return undefined;
  }
}

async function osPrettyName(): Promise<string | undefined> {
  const text = await readOptional('/etc/os-release');
  const line = text?.split('\n').find((l) => l.startsWith('PRETTY_NAME='));
  return line?.slice('PRETTY_NAME='.length).replace(/^"|"$/g, '');
}

/** What the agent says about itself at enrollment and on every connect. */
export async function describeSystem(opts: { hostname: string; profile: string; agentVersion: string }): Promise<DeviceDescription> {
  const cpus = os.cpus();
  const model = await readOptional('/proc/device-tree/model');
  const prettyName = await osPrettyName();
  return {
    hostname: opts.hostname,
    profile: opts.profile,
    agentVersion: opts.agentVersion,
    hardware: {
      arch: os.arch(),
      platform: os.platform(),
      cpus: cpus.length,
      ...(cpus[0]?.model ? { cpuModel: cpus[0].model.slice(0, 200) } : {}),
      memTotalBytes: os.totalmem(),
      ...(model ? { model: model.slice(0, 200) } : {}),
    },
    system: {
      kernel: `${os.type()} ${os.release()}`.slice(0, 200),
      ...(prettyName ? { os: prettyName.slice(0, 200) } : {}),
      uptimeSec: Math.round(os.uptime()),
      nodeVersion: process.version,
      bootTime: Math.round(Date.now() / 1000 - os.uptime()),
    },
  };
}
