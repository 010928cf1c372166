import { Hono, type Context } from 'hono';
import type { Kysely } from 'kysely';
import type { Logger } from '@edgehook/shared';
import { DeviceRoutes as R } from '@edgehook/shared/rest';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { routeMounter } from '../http/rest-route.js';
import type { RpcClient } from '../devices/rpc.client.js';
import { callHardware } from './device-hardware.js';

export interface HardwareRoutesDeps {
  db: Kysely<Database>;
  rpc: RpcClient;
  log: Logger;
}

/**
 * Edgehook's own hardware API for the console and the CLI, mounted under /api/devices:
 * `/:id/hardware/...`, JSON bodies, `{error}` bodies. Same agent calls as the PiKVM facade.
 * Paths, permissions and schemas come from the route map (shared/src/rest/devices.rest.ts).
 */
export function hardwareRoutes(deps: HardwareRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db, rpc } = deps;
  const mount = routeMounter(app, '/api/devices', db);
  const audit = (c: Context<AppEnv>, what: string, fields: Record<string, unknown>) => deps.log.info(what, { by: c.get('principal').username, ...fields });

  mount(R.hwSnapshot, ({ device }) => callHardware(rpc, device, 'hw.snapshot', {}));
  mount(R.hwInfo, ({ device, query }) => callHardware(rpc, device, 'info', query.fields ? { fields: query.fields } : {}));
  mount(R.hwLog, ({ device, query }) => callHardware(rpc, device, 'log', { seekSec: query.seek, afterSeq: query.after, limit: query.limit }));

  mount(R.gpioState, ({ device }) => callHardware(rpc, device, 'gpio.state', {}));
  mount(R.gpioSwitch, async ({ c, device, params, body }) => {
    const result = await callHardware(rpc, device, 'gpio.switch', { channel: params.channel, ...body });
    audit(c, 'gpio switch', { device: device.id, channel: params.channel, state: body.state });
    return result;
  });
  mount(R.gpioPulse, async ({ c, device, params, body }) => {
    const result = await callHardware(rpc, device, 'gpio.pulse', { channel: params.channel, ...body });
    audit(c, 'gpio pulse', { device: device.id, channel: params.channel, delay: body.delay });
    return result;
  });

  mount(R.atxState, ({ device }) => callHardware(rpc, device, 'atx.state', {}));
  mount(R.atxPower, async ({ c, device, body }) => {
    const result = await callHardware(rpc, device, 'atx.power', body);
    audit(c, 'atx power', { device: device.id, action: body.action });
    return result;
  });
  mount(R.atxClick, async ({ c, device, body }) => {
    const result = await callHardware(rpc, device, 'atx.click', body);
    audit(c, 'atx click', { device: device.id, button: body.button });
    return result;
  });

  mount(R.hidState, ({ device }) => callHardware(rpc, device, 'hid.state', {}));
  mount(R.hidKey, ({ device, body }) => callHardware(rpc, device, 'hid.key', body));
  mount(R.hidPrint, ({ device, body }) => callHardware(rpc, device, 'hid.print', body));
  mount(R.hidRelease, ({ device }) => callHardware(rpc, device, 'hid.releaseAll', {}));
  mount(R.hidReports, ({ device, query }) => callHardware(rpc, device, 'hid.reports', { clear: query.clear }));
  mount(R.hidMouseReports, ({ device, query }) => callHardware(rpc, device, 'hid.mouseReports', { clear: query.clear }));

  mount(R.i2c, ({ device }) => callHardware(rpc, device, 'i2c.read', {}));
  mount(R.serialList, ({ device }) => callHardware(rpc, device, 'serial.list', {}));
  mount(R.serialExchange, ({ device, params, body }) => callHardware(rpc, device, 'serial.exchange', { port: params.port, ...body }));
  return app;
}
