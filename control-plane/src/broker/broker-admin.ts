/**
 * What the control plane needs from "the broker", embedded (aedes, identities in the store) or
 * external (Mosquitto, identities in its dynamic security plugin). One contract suite runs over both
 * (control-plane/test/broker/broker-admin.contract.test.ts).
 */
export interface BrokerAdmin {
  readonly kind: 'embedded' | 'mosquitto';
  /**
   * Gives a device its broker identity: username = client id = device id, `secret` as password,
   * access to its own topics only. Called again for the same device it replaces the password and
   * re-enables it (credentials re-issued).
   */
  provisionDevice(deviceId: string, secret: string): Promise<void>;
  /** Removes the identity; a live connection is dropped at once. Unknown devices are fine. */
  removeDevice(deviceId: string): Promise<void>;
  /** Keeps the identity but refuses it from now on (a device that published garbage); drops its connection. */
  disableDevice(deviceId: string, reason: string): Promise<void>;
  /**
   * What the broker holds for one device: a usable identity, one that was disabled (a device that
   * published garbage), or none (lost with the broker's data, or never provisioned).
   */
  identity(deviceId: string): Promise<'present' | 'disabled' | 'missing'>;
  /** Device ids the broker holds an identity for (reconciliation at start). */
  listDevices(): Promise<string[]>;
  /** Drops a device's connection at once (after its credentials are revoked in the store). */
  disconnect(clientId: string): Promise<void>;
  /** Live MQTT connections this control plane can see (-1: the broker does not tell). */
  connectedCount(): number;
}

export class BrokerAdminError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrokerAdminError';
  }
}
