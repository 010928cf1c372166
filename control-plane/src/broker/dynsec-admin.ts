import { randomBytes } from 'node:crypto';
import { decodeJson, DynsecClientInfo, DynsecClientList, DynsecResponses, validate, type DynsecResponse, type Logger } from '@edgehook/shared';
import type { Transport } from '@edgehook/shared/transport';
import { BrokerAdminError, type BrokerAdmin } from './broker-admin.js';
import { CONTROL_PLANE_ROLE, controlPlaneAcls, deviceAcls, deviceRole, DEVICE_ROLE_PREFIX } from './device-acl.js';

const CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';
const RESPONSE_TOPIC = `${CONTROL_TOPIC}/response`;

type Command = Record<string, unknown> & { command: string };

interface Waiting {
  resolve: (r: DynsecResponse) => void;
  timer: NodeJS.Timeout;
}

const ALREADY_EXISTS = /already exists/i;
const NOT_FOUND = /not found/i;

export interface DynsecAdminDeps {
  transport: Transport;
  instanceId: string;
  log: Logger;
  timeoutMs?: number;
}

/**
 * Mosquitto 2's dynamic security plugin driven over `$CONTROL/dynamic-security/v1`. Every command
 * carries correlation data naming this replica, and its own response is checked: a refused or
 * unanswered command throws BrokerAdminError, so the API call that needed it fails.
 */
export class DynsecAdmin implements BrokerAdmin {
  readonly kind = 'mosquitto' as const;
  private readonly waiting = new Map<string, Waiting>();
  private seq = 0;

  constructor(private readonly deps: DynsecAdminDeps) {}

  async start(): Promise<void> {
    // Every replica receives every response; each keeps only the ones it is waiting for.
    await this.deps.transport.subscribe(RESPONSE_TOPIC, (_topic, payload) => this.onResponses(payload));
  }

  private onResponses(payload: Buffer): void {
    const decoded = decodeJson(DynsecResponses, payload);
    if (!decoded.ok) {
      this.deps.log.warn('malformed dynamic-security response', { error: decoded.error });
      return;
    }
    for (const r of decoded.value.responses) {
      const w = r.correlationData === undefined ? undefined : this.waiting.get(r.correlationData);
      if (!w || r.correlationData === undefined) continue;
      this.waiting.delete(r.correlationData);
      clearTimeout(w.timer);
      w.resolve(r);
    }
  }

  /** Sends commands in one message; resolves with their responses in order. */
  async run(commands: Command[]): Promise<DynsecResponse[]> {
    const timeoutMs = this.deps.timeoutMs ?? 10_000;
    const tagged = commands.map((c) => ({ ...c, correlationData: `${this.deps.instanceId}-${++this.seq}-${randomBytes(3).toString('hex')}` }));
    const answers = tagged.map(
      (c) =>
        new Promise<DynsecResponse>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.waiting.delete(c.correlationData);
            reject(new BrokerAdminError(`the broker did not answer ${c.command} within ${timeoutMs} ms (is the dynamic security plugin loaded, and may this account use $CONTROL?)`));
          }, timeoutMs);
          this.waiting.set(c.correlationData, { resolve, timer });
        }),
    );
    // The publish may wait for its acknowledgement longer than the answers (the broker drops us
    // when our own roles change): their rejection must not go unhandled meanwhile.
    const all = Promise.all(answers);
    all.catch(() => undefined);
    // A QoS 1 publish cut off by a disconnect is never acknowledged on a clean session: the answers
    // (or their timeouts) decide, not the publish's own completion.
    const published = this.deps.transport.publish(CONTROL_TOPIC, JSON.stringify({ commands: tagged }), { qos: 1 }).catch((err: unknown) => {
      for (const c of tagged) {
        const w = this.waiting.get(c.correlationData);
        if (w) clearTimeout(w.timer);
        this.waiting.delete(c.correlationData);
      }
      throw new BrokerAdminError(`cannot reach the broker: ${err instanceof Error ? err.message : String(err)}`);
    });
    published.catch(() => undefined);
    return Promise.race([published.then(() => all), all]);
  }

  /** Runs commands; any error not matched by `tolerate` fails the whole call. */
  private async runChecked(commands: Command[], tolerate: RegExp[] = []): Promise<DynsecResponse[]> {
    const responses = await this.run(commands);
    const failed = responses.filter((r) => r.error !== undefined && !tolerate.some((t) => t.test(r.error ?? '')));
    if (failed.length > 0) throw new BrokerAdminError(`the broker refused ${failed.map((r) => `${r.command}: ${r.error}`).join('; ')}`);
    return responses;
  }

  async provisionDevice(deviceId: string, secret: string): Promise<void> {
    const rolename = deviceRole(deviceId);
    const [, created] = await this.runChecked(
      [
        { command: 'createRole', rolename, acls: deviceAcls(deviceId) },
        { command: 'createClient', username: deviceId, password: secret, clientid: deviceId, roles: [{ rolename }] },
      ],
      [ALREADY_EXISTS],
    );
    if (created?.error === undefined) return;
    // Re-issued credentials: the client exists, so it gets the new password and is enabled again.
    await this.runChecked(
      [
        { command: 'setClientPassword', username: deviceId, password: secret },
        { command: 'setClientId', username: deviceId, clientid: deviceId },
        { command: 'enableClient', username: deviceId },
      ],
      [ALREADY_EXISTS],
    );
  }

  async removeDevice(deviceId: string): Promise<void> {
    // Deleting the client kicks its connection at once.
    await this.runChecked(
      [
        { command: 'deleteClient', username: deviceId },
        { command: 'deleteRole', rolename: deviceRole(deviceId) },
      ],
      [NOT_FOUND],
    );
  }

  async disableDevice(deviceId: string, reason: string): Promise<void> {
    this.deps.log.warn('device disabled at the broker', { deviceId, reason });
    await this.runChecked([{ command: 'disableClient', username: deviceId }], [NOT_FOUND]);
  }

  async identity(deviceId: string): Promise<'present' | 'disabled' | 'missing'> {
    const [r] = await this.runChecked([{ command: 'getClient', username: deviceId }], [NOT_FOUND]);
    if (r?.error !== undefined) return 'missing';
    const info = validate(DynsecClientInfo, r?.data);
    if (!info.ok) throw new BrokerAdminError(`unexpected getClient answer: ${info.error}`);
    return info.value.client.disabled === true ? 'disabled' : 'present';
  }

  async listDevices(): Promise<string[]> {
    const [r] = await this.runChecked([{ command: 'listClients', verbose: true, count: -1 }]);
    const list = validate(DynsecClientList, r?.data);
    if (!list.ok) throw new BrokerAdminError(`unexpected listClients answer: ${list.error}`);
    const ids: string[] = [];
    for (const c of list.value.clients) {
      if (typeof c === 'string') continue;
      if (c.roles?.some((role) => role.rolename === `${DEVICE_ROLE_PREFIX}${c.username}`)) ids.push(c.username);
    }
    return ids;
  }

  async disconnect(clientId: string): Promise<void> {
    // Mosquitto 2.0 has no "kick" command; disabling then enabling drops the connection.
    await this.runChecked([{ command: 'disableClient', username: clientId }, { command: 'enableClient', username: clientId }], [NOT_FOUND]);
  }

  connectedCount(): number {
    return -1;
  }

  /**
   * Makes sure this replica's own account may use the protocol topics. The broker drops a client
   * whose roles change, so after adding the role the answer may be lost: check again once back.
   */
  async ensureControlPlaneRole(username: string, deadlineMs = 20_000): Promise<void> {
    await this.runChecked([{ command: 'createRole', rolename: CONTROL_PLANE_ROLE, acls: controlPlaneAcls() }], [ALREADY_EXISTS]);
    const deadline = Date.now() + deadlineMs;
    let added = false;
    for (;;) {
      try {
        const [r] = await this.runChecked([{ command: 'getClient', username }]);
        const info = validate(DynsecClientInfo, r?.data);
        if (!info.ok) throw new BrokerAdminError(`unexpected getClient answer: ${info.error}`);
        if (info.value.client.roles?.some((role) => role.rolename === CONTROL_PLANE_ROLE)) return;
        if (!added) {
          this.deps.log.info('giving the broker account its control-plane role (the broker reconnects us once)', { username, role: CONTROL_PLANE_ROLE });
          added = true;
          void this.run([{ command: 'addClientRole', username, rolename: CONTROL_PLANE_ROLE }]).catch(() => undefined);
        }
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
      if (Date.now() > deadline) throw new BrokerAdminError(`the broker account ${username} could not be given the ${CONTROL_PLANE_ROLE} role`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  cancelAll(): void {
    for (const w of this.waiting.values()) clearTimeout(w.timer);
    this.waiting.clear();
  }
}
