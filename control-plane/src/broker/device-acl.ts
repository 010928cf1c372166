import { TOPIC_ROOT, Topics } from '@edgehook/shared';

export interface DynsecAcl {
  acltype: 'publishClientSend' | 'publishClientReceive' | 'subscribePattern' | 'subscribeLiteral' | 'unsubscribePattern';
  topic: string;
  allow: boolean;
  priority?: number;
}

/** Mosquitto 2.0.11's dynsec has no %u/%c substitution in ACLs: each device gets its own role. */
export const DEVICE_ROLE_PREFIX = 'edgehook-device-';
export const CONTROL_PLANE_ROLE = 'edgehook-control-plane';

export function deviceRole(deviceId: string): string {
  return `${DEVICE_ROLE_PREFIX}${deviceId}`;
}

/**
 * Exactly what the embedded broker's policy (broker-policy.ts) allows a device: publish only the
 * device->cp topics of the protocol map under its own prefix, subscribe to and receive only its
 * own prefix. Payload schemas are checked by the replicas that consume them (payload-guard.ts).
 */
export function deviceAcls(deviceId: string): DynsecAcl[] {
  const prefix = `${TOPIC_ROOT}/d/${deviceId}/`;
  const sends = Object.values(Topics)
    .filter((t) => t.direction === 'device->cp' && t.pattern.startsWith('d/{deviceId}/'))
    .map((t) => `${TOPIC_ROOT}/${t.pattern.replace('{deviceId}', deviceId).replace(/\{\w+\}/g, '+')}`);
  return [
    ...[...new Set(sends)].map((topic): DynsecAcl => ({ acltype: 'publishClientSend', topic, allow: true })),
    { acltype: 'subscribePattern', topic: `${prefix}#`, allow: true },
    { acltype: 'publishClientReceive', topic: `${prefix}#`, allow: true },
    { acltype: 'unsubscribePattern', topic: `${prefix}#`, allow: true },
  ];
}

/** The replicas' own account: the whole protocol root (they publish to every device and to each other). */
export function controlPlaneAcls(): DynsecAcl[] {
  const all = `${TOPIC_ROOT}/#`;
  return [
    { acltype: 'publishClientSend', topic: all, allow: true },
    { acltype: 'publishClientReceive', topic: all, allow: true },
    { acltype: 'subscribePattern', topic: all, allow: true },
    { acltype: 'unsubscribePattern', topic: all, allow: true },
  ];
}
