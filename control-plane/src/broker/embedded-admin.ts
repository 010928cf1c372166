import type { BrokerAdmin } from './broker-admin.js';

export interface EmbeddedAdminDeps {
  /** The embedded broker's own connection handling. */
  broker: { disconnect(clientId: string): Promise<void>; connectedCount(): number };
  /** Device ids with credentials in the store: the store is the embedded broker's identity source. */
  storedDeviceIds(): Promise<string[]>;
}

/**
 * The embedded broker authenticates devices against the store (broker-policy.ts), so provisioning
 * is the store insert the enrollment route does anyway. Removal and disabling also refuse the
 * device in memory until the store agrees, so it cannot reconnect in between.
 */
export function createEmbeddedAdmin(deps: EmbeddedAdminDeps): BrokerAdmin & { refuses(deviceId: string): boolean } {
  const refused = new Set<string>();
  const disabled = new Set<string>();
  return {
    kind: 'embedded',
    refuses: (deviceId) => refused.has(deviceId),
    async provisionDevice(deviceId) {
      refused.delete(deviceId);
      disabled.delete(deviceId);
    },
    async removeDevice(deviceId) {
      refused.add(deviceId);
      disabled.delete(deviceId);
      await deps.broker.disconnect(deviceId);
    },
    async disableDevice(deviceId) {
      refused.add(deviceId);
      disabled.add(deviceId);
      await deps.broker.disconnect(deviceId);
    },
    async identity(deviceId) {
      if (disabled.has(deviceId)) return 'disabled';
      if (refused.has(deviceId)) return 'missing';
      return (await deps.storedDeviceIds()).includes(deviceId) ? 'present' : 'missing';
    },
    async listDevices() {
      const ids = await deps.storedDeviceIds();
      return ids.filter((id) => !refused.has(id));
    },
    disconnect: (clientId) => deps.broker.disconnect(clientId),
    connectedCount: () => deps.broker.connectedCount(),
  };
}
