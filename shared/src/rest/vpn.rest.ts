import { DeviceVpnView, VpnHubView, VpnIssueBody } from '../messages/vpn.js';
import { DeviceIdParam, RawText, route, SIGNED_IN } from './route.js';

const dev = { id: DeviceIdParam };

/** The WireGuard hub and each device's VPN (docs/vpn.md). */
export const VpnRoutes = {
  vpnHub: route({ method: 'GET', path: '/api/vpn', summary: 'The VPN hub: endpoint, subnet, public key, pool use and every peer', tag: 'vpn', auth: SIGNED_IN, permission: 'devices.vpn.read', result: VpnHubView }),
  vpnHubConf: route({ method: 'GET', path: '/api/vpn/hub.conf', summary: "The hub's wg-quick config (its private key only with vpn.hub.secret)", tag: 'vpn', auth: SIGNED_IN, permission: 'devices.vpn.read', result: RawText, resultKind: 'text' }),
  deviceVpnGet: route({ method: 'GET', path: '/api/devices/:id/vpn', summary: "A device's VPN address, public key and state", tag: 'vpn', auth: SIGNED_IN, permission: 'devices.vpn.read', device: 'any', params: dev, result: DeviceVpnView }),
  deviceVpnIssue: route({ method: 'POST', path: '/api/devices/:id/vpn', summary: 'Enable the VPN on a device, or issue its config again (rotate: a new key)', tag: 'vpn', auth: SIGNED_IN, permission: 'devices.vpn.write', device: 'online', params: dev, body: VpnIssueBody, result: DeviceVpnView }),
} as const;
