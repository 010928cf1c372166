import * as z from '../zod.js';

/**
 * WireGuard VPN delivery (issue 18, Quix `get_vpn_conf`): one hub run by the operator, an address
 * and a key per device. An agent makes its own key pair and sends only the public key; the control
 * plane hands it the interface address, the hub's public key, endpoint and allowed IPs.
 */

/** A WireGuard key as `wg` prints it: 32 bytes of base64 (44 characters). */
export const WgKey = z.string().check(z.regex(/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/, 'must be a WireGuard key (32 bytes of base64, as wg prints it)'));

const octet = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const ipv4 = `${octet}(\\.${octet}){3}`;
export const Ipv4Address = z.string().check(z.regex(new RegExp(`^${ipv4}$`), 'must be an IPv4 address like 10.87.0.2'));
export const Ipv4Cidr = z.string().check(z.regex(new RegExp(`^${ipv4}/(3[0-2]|[12]?\\d)$`), 'must be an IPv4 CIDR like 10.87.0.0/24'));
/** `host:port` (a DNS name, an IPv4 address or a bracketed IPv6 one), as WireGuard's Endpoint. */
export const VpnEndpoint = z.string().check(z.maxLength(260), z.regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):([1-9]\d{0,4})$/, 'must be host:port, e.g. vpn.example.com:51820'), z.refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'the port must be 1-65535'));

/** How the agent runs the tunnel: not at all, really (wg-quick), or simulated (same states, no kernel). */
export const VpnMode = z.enum(['off', 'apply', 'simulate']);
export type VpnMode = z.infer<typeof VpnMode>;

/** `vpn.key`: the device's public key, made on first use (or anew with `rotate`). */
export const VpnKeyParams = z.strictObject({ rotate: z._default(z.boolean(), false) });
export const VpnKeyResult = z.object({ publicKey: WgKey });

/** `vpn.apply`: everything but the private key, which stays on the device. */
export const VpnApplyParams = z.strictObject({
    address: Ipv4Cidr.check(z.describe("the device's interface address, e.g. 10.87.0.2/32")),
    hubPublicKey: WgKey,
    endpoint: VpnEndpoint,
    allowedIps: z.array(Ipv4Cidr).check(z.minLength(1), z.maxLength(16)),
    persistentKeepalive: z._default(z.number().check(z.int(), z.gte(0), z.lte(65535)), 25),
    /** The public key the control plane recorded: the device refuses a config for another key. */
    publicKey: WgKey,
  });
export type VpnApplyParams = z.infer<typeof VpnApplyParams>;

/** What the agent reports (the `vpn.status` RPC, `vpn.apply`'s answer). */
export const VpnAgentStatus = z.object({
  mode: VpnMode,
  state: z.enum(['down', 'up', 'error']),
  ifname: z.nullable(z.string().check(z.maxLength(15))),
  address: z.nullable(Ipv4Cidr),
  publicKey: z.nullable(WgKey),
  /** Epoch seconds of the latest handshake with the hub (real tunnels only; null: none yet). */
  latestHandshake: z.nullable(z.number().check(z.int(), z.nonnegative())),
  error: z.optional(z.string().check(z.maxLength(1000))),
});
export type VpnAgentStatus = z.infer<typeof VpnAgentStatus>;

/** Who made the device's key: the agent (private key never leaves it) or the server (WSI backends). */
export const VpnKeySource = z.enum(['device', 'server']);

/** One device's VPN state in the REST API. Never carries a private key. */
export const DeviceVpnView = z.object({
  deviceId: z.string(),
  name: z.string(),
  enabled: z.boolean(),
  address: z.nullable(Ipv4Address),
  publicKey: z.nullable(WgKey),
  keySource: z.nullable(VpnKeySource),
  issuedAt: z.nullable(z.string()),
  /** The agent's last report (live when the device is online), null before any. */
  status: z.nullable(z.extend(VpnAgentStatus, { reportedAt: z.string() })),
});
export type DeviceVpnView = z.infer<typeof DeviceVpnView>;

export const VpnHubView = z.object({
  enabled: z.boolean(),
  endpoint: z.nullable(z.string()),
  subnet: z.nullable(Ipv4Cidr),
  hubAddress: z.nullable(Ipv4Address),
  hubPublicKey: z.nullable(WgKey),
  /** Device addresses in the pool, and how many are taken. */
  capacity: z.number().check(z.int(), z.nonnegative()),
  used: z.number().check(z.int(), z.nonnegative()),
  peers: z.array(DeviceVpnView),
});
export type VpnHubView = z.infer<typeof VpnHubView>;

export const VpnIssueBody = z.strictObject({ rotate: z.optional(z.boolean()).check(z.describe('make a new key pair on the device')) });
