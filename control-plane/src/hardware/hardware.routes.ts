import { Hono, type Context } from 'hono';
import type { Kysely } from 'kysely';
import { HwChannel, HwClickBody, HwKeyBody, HwPowerBody, HwPrintBody, HwPulseBody, HwSerialExchangeBody, HwSwitchBody, InfoField, type Logger } from '@edgehook/shared';
import { z } from 'zod';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { requirePermission } from '../auth/auth.middleware.js';
import { jsonBody, parseValue } from '../http/validate.js';
import type { RpcClient } from '../devices/rpc.client.js';
import { callHardware, findTarget } from './device-hardware.js';

export interface HardwareRoutesDeps {
  db: Kysely<Database>;
  rpc: RpcClient;
  log: Logger;
}

const InfoFieldsQuery = z.array(InfoField);
const LogQuery = z.object({ seek: z.coerce.number().min(0).optional(), after: z.coerce.number().int().optional(), limit: z.coerce.number().int().min(1).max(10_000).optional() });

/**
 * Edgehook's own hardware API for the console and the CLI, mounted under /api/devices:
 * `/:id/hardware/...`, JSON bodies, `{error}` bodies. Same agent calls as the PiKVM facade.
 */
export function hardwareRoutes(deps: HardwareRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const read = requirePermission('devices.hardware.read');
  const write = requirePermission('devices.hardware.write');
  const power = requirePermission('devices.power');
  const device = (c: Context<AppEnv>) => findTarget(deps.db, c.req.param('id') ?? '');
  const channel = (c: Context<AppEnv>) => parseValue(HwChannel, c.req.param('channel'), 'channel');
  const audit = (c: Context<AppEnv>, what: string, fields: Record<string, unknown>) => deps.log.info(what, { by: c.get('principal').username, ...fields });

  app.get('/:id/hardware', read, async (c) => c.json(await callHardware(deps.rpc, await device(c), 'hw.snapshot', {})));
  app.get('/:id/hardware/info', read, async (c) => {
    const raw = c.req.query('fields');
    const fields = raw === undefined ? undefined : parseValue(InfoFieldsQuery, raw.split(',').map((f) => f.trim()), 'fields');
    return c.json(await callHardware(deps.rpc, await device(c), 'info', fields ? { fields } : {}));
  });
  app.get('/:id/hardware/log', read, async (c) => {
    const q = parseValue(LogQuery, c.req.query(), 'query');
    return c.json(await callHardware(deps.rpc, await device(c), 'log', { seekSec: q.seek, afterSeq: q.after, limit: q.limit }));
  });

  app.get('/:id/hardware/gpio', read, async (c) => c.json(await callHardware(deps.rpc, await device(c), 'gpio.state', {})));
  app.post('/:id/hardware/gpio/:channel/switch', write, async (c) => {
    const body = await jsonBody(c, HwSwitchBody);
    const d = await device(c);
    const result = await callHardware(deps.rpc, d, 'gpio.switch', { channel: channel(c), ...body });
    audit(c, 'gpio switch', { device: d.id, channel: c.req.param('channel'), state: body.state });
    return c.json(result);
  });
  app.post('/:id/hardware/gpio/:channel/pulse', write, async (c) => {
    const body = await jsonBody(c, HwPulseBody);
    const d = await device(c);
    const result = await callHardware(deps.rpc, d, 'gpio.pulse', { channel: channel(c), ...body });
    audit(c, 'gpio pulse', { device: d.id, channel: c.req.param('channel'), delay: body.delay });
    return c.json(result);
  });

  app.get('/:id/hardware/atx', read, async (c) => c.json(await callHardware(deps.rpc, await device(c), 'atx.state', {})));
  app.post('/:id/hardware/atx/power', power, async (c) => {
    const body = await jsonBody(c, HwPowerBody);
    const d = await device(c);
    const result = await callHardware(deps.rpc, d, 'atx.power', body);
    audit(c, 'atx power', { device: d.id, action: body.action });
    return c.json(result);
  });
  app.post('/:id/hardware/atx/click', power, async (c) => {
    const body = await jsonBody(c, HwClickBody);
    const d = await device(c);
    const result = await callHardware(deps.rpc, d, 'atx.click', body);
    audit(c, 'atx click', { device: d.id, button: body.button });
    return c.json(result);
  });

  app.get('/:id/hardware/hid', read, async (c) => c.json(await callHardware(deps.rpc, await device(c), 'hid.state', {})));
  app.post('/:id/hardware/hid/key', write, async (c) => c.json(await callHardware(deps.rpc, await device(c), 'hid.key', await jsonBody(c, HwKeyBody))));
  app.post('/:id/hardware/hid/print', write, async (c) => c.json(await callHardware(deps.rpc, await device(c), 'hid.print', await jsonBody(c, HwPrintBody))));
  app.post('/:id/hardware/hid/release', write, async (c) => c.json(await callHardware(deps.rpc, await device(c), 'hid.releaseAll', {})));
  app.get('/:id/hardware/hid/reports', read, async (c) => c.json(await callHardware(deps.rpc, await device(c), 'hid.reports', { clear: c.req.query('clear') === 'true' })));
  app.get('/:id/hardware/hid/mouse-reports', read, async (c) => c.json(await callHardware(deps.rpc, await device(c), 'hid.mouseReports', { clear: c.req.query('clear') === 'true' })));

  app.get('/:id/hardware/i2c', read, async (c) => c.json(await callHardware(deps.rpc, await device(c), 'i2c.read', {})));
  app.get('/:id/hardware/serial', read, async (c) => c.json(await callHardware(deps.rpc, await device(c), 'serial.list', {})));
  app.post('/:id/hardware/serial/:port/exchange', write, async (c) => {
    const body = await jsonBody(c, HwSerialExchangeBody);
    const port = parseValue(HwChannel, c.req.param('port'), 'port');
    return c.json(await callHardware(deps.rpc, await device(c), 'serial.exchange', { port, ...body }));
  });
  return app;
}
