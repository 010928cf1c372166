// The HTTP API in memory (hono's `app.request`), for route tests that need no broker, no agent
// and no socket: real SQLite and real services, but no listener, no MQTT and no TLS.
import { systemClock, type Clock } from '@edgehook/shared';
import { MemoryBroker } from '@edgehook/shared/transport';
import { buildApp } from '../../src/app.js';
import { VERSION } from '../../src/version.js';
import { loadServeConfig } from '../../src/config.js';
import { migrateToLatest, openDatabase } from '../../src/db/dialect.js';
import { createAuthenticator } from '../../src/auth/authenticator.js';
import { LiveSockets } from '../../src/auth/live-sockets.js';
import { Revocations } from '../../src/auth/revocations.js';
import { createEmbeddedAdmin } from '../../src/broker/embedded-admin.js';
import { FleetEvents } from '../../src/events/fleet-events.js';
import { DeviceTransportKinds } from '../../src/devices/device-transport.js';
import { RpcClient } from '../../src/devices/rpc.client.js';
import { bootstrapUsers } from '../../src/users/bootstrap.js';
import { VpnService } from '../../src/vpn/vpn.service.js';
import { AuditWriter } from '../../src/audit/audit-writer.js';
import { ADMIN_PASSWORD, memoryLogger } from './harness.js';

export interface MemoryControlPlane {
  /** A made-up origin: requests to it go to the app in memory. */
  url: string;
  /** `fetch` for this app: takes `url + path` as the global fetch takes a real control plane's. */
  fetch: typeof fetch;
  logs: string[];
  close(): Promise<void>;
}

/**
 * buildApp over SQLite (`:memory:` unless a file is given) with the admin bootstrapped, as
 * startTestControlPlane does, and the same check of every 2xx JSON answer against its declared result.
 */
export async function memoryControlPlane(opts: { clock?: Clock; args?: string[] } = {}): Promise<MemoryControlPlane> {
  const clock = opts.clock ?? systemClock;
  const { log, lines } = memoryLogger();
  // `serve`'s own defaults (token lifetimes, limits), so answers match a started control plane's.
  const config = loadServeConfig(['--database', ':memory:', ...(opts.args ?? [])], {});
  const db = await openDatabase(config.store);
  await migrateToLatest(db);
  // Pub/sub stays in this process: revocations and fleet events still travel as they do over MQTT.
  const transport = new MemoryBroker().connect();
  const events = new FleetEvents(transport, log);
  await events.start();
  const kinds = new DeviceTransportKinds(db);
  await kinds.load();
  const rpc = new RpcClient({ transport, instanceId: 'cp-memory', clock, log, defaultTimeoutMs: 1000, kinds });
  await rpc.start();
  const sockets = new LiveSockets(clock);
  const revocations = new Revocations({ transport, sockets, events, log });
  await revocations.start();
  const auth = createAuthenticator({ db, clock });
  revocations.onApply((r) => auth.forget(r));
  const auditWriter = new AuditWriter({ db, log });
  const broker = createEmbeddedAdmin({ broker: { disconnect: () => Promise.resolve(), connectedCount: () => 0 }, storedDeviceIds: async () => [] });
  const app = buildApp({
    db,
    clock,
    log,
    auth,
    rpc,
    broker,
    transport,
    events,
    revocations,
    sockets,
    vpn: new VpnService({ db, rpc, clock, log, hub: undefined }),
    audit: { clock, writer: auditWriter, replica: 'cp-memory' },
    config: {
      tokens: { accessTtlMs: config.accessTtlMs, refreshTtlMs: config.refreshTtlMs },
      secureCookies: config.secureCookies,
      mqtt: { port: config.mqttPort },
      version: VERSION,
      limits: config.limits,
      encedeusPrefix: config.encedeusPrefix,
      webDir: config.webDir,
      checkResponses: true,
    },
  });
  await bootstrapUsers({ db, log, now: clock.now() }, ADMIN_PASSWORD);
  const url = 'http://edgehook.test';
  return {
    url,
    fetch: (input, init) => Promise.resolve(app.request(input instanceof Request ? input : String(input), init)),
    logs: lines,
    async close() {
      rpc.cancelAll('closing');
      await transport.close();
      await auditWriter.flush();
      await db.destroy();
    },
  };
}
