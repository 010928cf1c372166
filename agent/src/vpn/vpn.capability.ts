import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EdgehookError, VpnApplyParams, decodeJson, type Logger, type VpnAgentStatus, type VpnMode } from '@edgehook/shared';
import { renderWgQuick } from '@edgehook/shared/wireguard';
import type { Capability } from '../capability.js';
import type { VpnInterface } from '../telemetry/collectors.js';
import type { VpnDriver } from './vpn-driver.js';
import { VpnKeyStore, writePrivate } from './vpn-keys.js';

export interface VpnCapability extends Capability {
  /** The tunnel this agent manages, for `vpn_status` telemetry (undefined: none configured). */
  managedInterface(): Promise<VpnInterface | undefined>;
}

export interface VpnDeps {
  mode: VpnMode;
  stateDir: string;
  ifname: string;
  log: Logger;
  /** The driver for `apply` / `simulate`; main.ts loads the real one lazily. */
  driver: () => Promise<VpnDriver>;
}

const OFF = 'the VPN is off on this agent: start it with --vpn apply (wireguard-tools) or --vpn simulate';

/**
 * WireGuard on the device: `vpn.key` makes (or rotates) the key pair here and answers the public
 * key; `vpn.apply` writes `<state-dir>/vpn/<ifname>.conf` (0600) from the control plane's address,
 * hub key and endpoint plus our private key, and brings it up (down and up again when it was up);
 * `vpn.status` reports it. With `--vpn off` every call says how to turn it on.
 */
export async function startVpn(deps: VpnDeps): Promise<VpnCapability> {
  const keys = new VpnKeyStore(deps.stateDir);
  const confPath = join(keys.dir, `${deps.ifname}.conf`);
  const appliedPath = join(keys.dir, `${deps.ifname}.applied.json`);
  let applied: VpnApplyParams | undefined;
  let lastError: string | undefined;
  let driver: VpnDriver | undefined;
  const getDriver = async (): Promise<VpnDriver> => (driver ??= await deps.driver());
  // One change at a time: an apply racing another would leave the interface in either's state.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };

  const status = async (): Promise<VpnAgentStatus> => {
    if (deps.mode === 'off') return { mode: 'off', state: 'down', ifname: null, address: null, publicKey: null, latestHandshake: null };
    const d = await getDriver();
    const up = applied !== undefined && (await d.isUp(deps.ifname));
    return {
      mode: deps.mode,
      state: lastError !== undefined ? 'error' : up ? 'up' : 'down',
      ifname: deps.ifname,
      address: applied?.address ?? null,
      publicKey: (await keys.publicKey()) ?? null,
      latestHandshake: up ? await d.latestHandshake(deps.ifname) : null,
      ...(lastError !== undefined ? { error: lastError } : {}),
    };
  };

  const bringUp = async (): Promise<void> => {
    const d = await getDriver();
    if (await d.isUp(deps.ifname)) await d.down(confPath, deps.ifname);
    await d.up(confPath, deps.ifname);
  };

  if (deps.mode !== 'off') {
    // A tunnel applied before a restart comes back (the real one may still be up in the kernel).
    const saved = await readFile(appliedPath, 'utf8').catch(() => undefined);
    const parsed = saved === undefined ? undefined : decodeJson(VpnApplyParams, saved);
    if (parsed?.ok) {
      applied = parsed.value;
      try {
        const d = await getDriver();
        if (!(await d.isUp(deps.ifname))) await d.up(confPath, deps.ifname);
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
        deps.log.warn('the VPN could not be brought back up', { err: lastError });
      }
    }
  }

  const requireOn = (): void => {
    if (deps.mode === 'off') throw new EdgehookError('UNKNOWN_METHOD', OFF);
  };

  return {
    name: 'vpn',
    streamKinds: {},
    handlers: {
      'vpn.key': async ({ rotate }) => {
        requireOn();
        return serial(async () => ({ publicKey: await keys.ensure(rotate) }));
      },
      'vpn.apply': async (params) => {
        requireOn();
        return serial(async () => {
          const privateKey = await keys.privateKey();
          if (privateKey === undefined || (await keys.publicKey()) !== params.publicKey) throw new EdgehookError('CONFLICT', "this config is for another key than this device's: issue it again (edgehook vpn enable <device>)");
          const text = renderWgQuick({
            header: ['Edgehook VPN, written by edgehook-agent: edits are replaced on the next issue'],
            iface: { privateKey, address: [params.address] },
            peers: [{ publicKey: params.hubPublicKey, allowedIps: params.allowedIps, endpoint: params.endpoint, persistentKeepalive: params.persistentKeepalive, comment: 'Edgehook VPN hub' }],
          });
          await keys.ensureDir();
          await writePrivate(confPath, text);
          await writePrivate(appliedPath, JSON.stringify(params));
          applied = params;
          try {
            await bringUp();
            lastError = undefined;
            deps.log.info('VPN up', { ifname: deps.ifname, address: params.address, endpoint: params.endpoint, mode: deps.mode });
          } catch (err) {
            lastError = err instanceof Error ? err.message : String(err);
            deps.log.warn('VPN apply failed', { ifname: deps.ifname, err: lastError });
          }
          return status();
        });
      },
      'vpn.status': async () => status(),
    },
    async managedInterface() {
      if (deps.mode === 'off' || applied === undefined) return undefined;
      const s = await status();
      return { ifname: deps.ifname, up: s.state === 'up', endpoint: applied.endpoint, lastHandshake: s.latestHandshake, address: applied.address.replace(/\/\d+$/, '') };
    },
    close: () => undefined,
  };
}
