import { z } from 'zod';
import { DeviceView } from './device.js';

/** Events for operators on `/api/events`; also the payload of the control-plane events topic. */
export const FleetEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('device.online'), deviceId: z.string(), ts: z.number() }),
  z.object({ type: z.literal('device.offline'), deviceId: z.string(), ts: z.number() }),
  z.object({ type: z.literal('device.registered'), deviceId: z.string(), ts: z.number(), device: DeviceView }),
  z.object({ type: z.literal('device.updated'), deviceId: z.string(), ts: z.number(), device: DeviceView }),
  z.object({ type: z.literal('device.deleted'), deviceId: z.string(), ts: z.number() }),
]);
export type FleetEvent = z.infer<typeof FleetEvent>;
