import type { Kysely } from 'kysely';
import { EdgehookError, type Clock, type DeviceVpnView, type Logger, type VpnAgentStatus, type VpnHubView } from '@edgehook/shared';
import { renderWgQuick, wgGenKeyPair } from '@edgehook/shared/wireguard';
import type { Database } from '../db/database.js';
import type { RpcClient } from '../devices/rpc.client.js';
import { findDeviceByRef } from '../devices/devices.repository.js';
import type { AddressPool } from './address-pool.js';
import { allocateVpnAddress, countVpnPeers, findVpnPeer, listVpnPeers, recordVpnStatus, setVpnPeerKey, storedVpnStatus, type VpnPeerRow } from './vpn.repository.js';

/** The hub as configured: `--vpn-endpoint`, `--vpn-subnet` and the key pair in the data dir. */
export interface VpnHub {
  endpoint: string;
  pool: AddressPool;
  publicKey: string;
  privateKey: string;
  /** Where the private key lives, named in hub.conf's placeholder. */
  keyPath: string;
}

export interface VpnServiceDeps {
  db: Kysely<Database>;
  rpc: RpcClient;
  clock: Clock;
  log: Logger;
  /** Undefined: the VPN is off (no --vpn-endpoint). */
  hub: VpnHub | undefined;
}

const KEEPALIVE_S = 25;
const RPC = { timeoutMs: 15_000 };
const STATUS_RPC = { timeoutMs: 3000 };

/**
 * One WireGuard hub and a peer per device. Agents make their key on the device (`vpn.key` answers
 * only the public key); WSI backends get a server-made config through `wireguardConfigForBackend`.
 * No device private key is ever stored.
 */
export class VpnService {
  constructor(private readonly deps: VpnServiceDeps) {}

  get enabled(): boolean {
    return this.deps.hub !== undefined;
  }

  private hub(): VpnHub {
    if (!this.deps.hub) throw new EdgehookError('CONFLICT', 'the VPN is off: start the control plane with --vpn-endpoint host:port (and --vpn-subnet), see docs/vpn.md');
    return this.deps.hub;
  }

  private view(deviceId: string, name: string, row: VpnPeerRow | undefined, live?: VpnAgentStatus & { reportedAt: string }): DeviceVpnView {
    const current = row && this.deps.hub && row.subnet === this.deps.hub.pool.cidr ? row : undefined;
    return {
      deviceId,
      name,
      enabled: current?.public_key != null,
      address: current?.address ?? null,
      publicKey: current?.public_key ?? null,
      keySource: current?.key_source === 'device' || current?.key_source === 'server' ? current.key_source : null,
      issuedAt: current?.issued_at ?? null,
      status: live ?? (row ? storedVpnStatus(row) : null),
    };
  }

  async hubView(): Promise<VpnHubView> {
    const hub = this.deps.hub;
    const rows = await listVpnPeers(this.deps.db);
    return {
      enabled: hub !== undefined,
      endpoint: hub?.endpoint ?? null,
      subnet: hub?.pool.cidr ?? null,
      hubAddress: hub?.pool.hubAddress ?? null,
      hubPublicKey: hub?.publicKey ?? null,
      capacity: hub?.pool.capacity ?? 0,
      used: hub ? await countVpnPeers(this.deps.db, hub.pool.cidr) : 0,
      peers: rows.map((r) => this.view(r.device_id, r.name, r)),
    };
  }

  /** The hub side as wg-quick reads it: every issued peer with its /32. */
  async hubConf(withPrivateKey: boolean): Promise<string> {
    const hub = this.hub();
    const port = Number(hub.endpoint.slice(hub.endpoint.lastIndexOf(':') + 1));
    const peers = (await listVpnPeers(this.deps.db)).filter((r) => r.subnet === hub.pool.cidr && r.public_key !== null);
    return renderWgQuick({
      header: [
        'Edgehook VPN hub: wg-quick config for the WireGuard server at ' + hub.endpoint,
        `Pool ${hub.pool.cidr}, hub ${hub.pool.hubAddress}, ${peers.length} peer(s). Fetch it again after enabling devices.`,
        ...(withPrivateKey ? [] : ['The hub private key is left out (it needs the vpn.hub.secret permission): put it in place of the PrivateKey comment.']),
      ],
      iface: {
        ...(withPrivateKey ? { privateKey: hub.privateKey } : { privateKeyNote: `<the hub private key: ${hub.keyPath} on the control plane>` }),
        address: [`${hub.pool.hubAddress}/${hub.pool.prefix}`],
        listenPort: port,
      },
      peers: peers.map((r) => ({ publicKey: r.public_key ?? '', allowedIps: [`${r.address}/32`], comment: `${r.name} (${r.device_id}, ${r.key_source === 'server' ? 'WSI backend' : 'agent'})` })),
    });
  }

  /** A device's state; the agent is asked live when it is online (its stored report otherwise). */
  async deviceView(device: { id: string; name: string; online: boolean }): Promise<DeviceVpnView> {
    const row = await findVpnPeer(this.deps.db, device.id);
    let live: (VpnAgentStatus & { reportedAt: string }) | undefined;
    if (device.online && row) {
      const status = await this.deps.rpc.call(device.id, 'vpn.status', {}, STATUS_RPC).catch(() => undefined);
      if (status) {
        const now = this.deps.clock.now();
        await recordVpnStatus(this.deps.db, device.id, status, now);
        live = { ...status, reportedAt: new Date(now).toISOString() };
      }
    }
    return this.view(device.id, device.name, row, live);
  }

  /**
   * Enables (or re-issues) the VPN on an agent: an address from the pool, the device's public key
   * (made on the device: `rotate` asks for a new pair), then the config without any private key.
   */
  async issueForAgent(device: { id: string; name: string }, opts: { rotate: boolean }): Promise<DeviceVpnView> {
    const hub = this.hub();
    const { db, rpc, clock } = this.deps;
    // The key first: an agent with --vpn off answers before an address is spent on it.
    const { publicKey } = await rpc.call(device.id, 'vpn.key', { rotate: opts.rotate }, RPC);
    const peer = await allocateVpnAddress(db, device.id, hub.pool, clock.now());
    await setVpnPeerKey(db, device.id, publicKey, 'device', clock.now());
    const status = await rpc.call(device.id, 'vpn.apply', { address: `${peer.address}/32`, hubPublicKey: hub.publicKey, endpoint: hub.endpoint, allowedIps: [hub.pool.cidr], persistentKeepalive: KEEPALIVE_S, publicKey }, RPC);
    await recordVpnStatus(db, device.id, status, clock.now());
    this.deps.log.info('VPN issued', { deviceId: device.id, address: peer.address, state: status.state });
    return this.view(device.id, device.name, await findVpnPeer(db, device.id));
  }

  /**
   * Quix `get_vpn_conf` for a WSI backend (it runs no agent, so the server makes its key pair, as
   * the seed shows): a complete wg-quick config. Each call issues a fresh pair; only the public key
   * is kept, so the previous config stops working and the private key exists only in the answer.
   */
  async wireguardConfigForBackend(deviceId: string): Promise<string> {
    const hub = this.hub();
    const { db, clock } = this.deps;
    const device = await findDeviceByRef(db, deviceId);
    if (!device) throw new EdgehookError('NOT_FOUND', `no device ${deviceId}`);
    const existing = await findVpnPeer(db, device.id);
    // An agent's own key must not be replaced by a server-made one it does not have.
    if (existing?.key_source === 'device' && existing.subnet === hub.pool.cidr) throw new EdgehookError('CONFLICT', `${device.name} runs an agent that made its own VPN key: enable it with POST /api/devices/${device.id}/vpn`);
    const peer = await allocateVpnAddress(db, device.id, hub.pool, clock.now());
    const keys = wgGenKeyPair();
    await setVpnPeerKey(db, device.id, keys.publicKey, 'server', clock.now());
    this.deps.log.info('VPN config issued to a WSI backend', { deviceId: device.id, address: peer.address });
    return renderWgQuick({
      header: [`Edgehook VPN: ${device.name} (${device.id})`],
      iface: { privateKey: keys.privateKey, address: [`${peer.address}/32`] },
      peers: [{ publicKey: hub.publicKey, allowedIps: [hub.pool.cidr], endpoint: hub.endpoint, persistentKeepalive: KEEPALIVE_S, comment: 'Edgehook VPN hub' }],
    });
  }
}
