import { pbkdf2Sync, randomBytes } from 'node:crypto';

/**
 * The file `mosquitto_ctrl dynsec init <file> <admin>` writes (Mosquitto 2.0): one admin client whose
 * role may use `$CONTROL/dynamic-security` and subscribe to everything. The password is stored as
 * Mosquitto does: PBKDF2-SHA512 over a 12-byte salt, 101 iterations, 64 bytes, base64.
 */
export function dynsecInitialConfig(admin: { username: string; password: string }): unknown {
  const salt = randomBytes(12);
  const iterations = 101;
  const hash = pbkdf2Sync(admin.password, salt, iterations, 64, 'sha512');
  const acl = (acltype: string, topic: string) => ({ acltype, topic, allow: true });
  return {
    clients: [{ username: admin.username, textName: 'Edgehook control plane', password: hash.toString('base64'), salt: salt.toString('base64'), iterations, roles: [{ rolename: 'admin' }] }],
    roles: [
      {
        rolename: 'admin',
        acls: [
          acl('publishClientSend', '$CONTROL/dynamic-security/#'),
          acl('publishClientReceive', '$CONTROL/dynamic-security/#'),
          acl('subscribePattern', '$CONTROL/dynamic-security/#'),
          acl('publishClientReceive', '$SYS/#'),
          acl('subscribePattern', '$SYS/#'),
          acl('publishClientReceive', '#'),
          acl('subscribePattern', '#'),
          acl('unsubscribePattern', '#'),
        ],
      },
    ],
    defaultACLAccess: { publishClientSend: false, publishClientReceive: true, subscribe: false, unsubscribe: true },
  };
}
