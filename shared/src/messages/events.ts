import * as z from '../zod.js';
import { DeviceView } from './device.js';
import { PullProgress } from './pull-progress.js';
import { JobCounts, JobState } from './jobs.js';

/** Events for operators on `/api/events`; also the payload of the control-plane events topic. */
export const FleetEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('device.online'), deviceId: z.string(), ts: z.number() }),
  z.object({ type: z.literal('device.offline'), deviceId: z.string(), ts: z.number() }),
  z.object({ type: z.literal('device.registered'), deviceId: z.string(), ts: z.number(), device: DeviceView }),
  z.object({ type: z.literal('device.updated'), deviceId: z.string(), ts: z.number(), device: DeviceView }),
  z.object({ type: z.literal('device.deleted'), deviceId: z.string(), ts: z.number() }),
  /** An image pull on the device (topic containerPull); only to operators who may read its containers. */
  z.object({ type: z.literal('container.pull'), deviceId: z.string(), ts: z.number(), pull: PullProgress }),
  // A job's progress (control-plane/src/jobs/): sent as devices finish, at most a few per second per job.
  z.object({ type: z.literal('job.updated'), jobId: z.string(), ts: z.number(), state: JobState, counts: JobCounts }),
]);
export type FleetEvent = z.infer<typeof FleetEvent>;

/**
 * Revocations shared by every control-plane replica (topic `revocations`): each closes the live
 * sockets it holds for the session, user, role or device at once. `role` carries the role's new
 * permissions so a replica can re-check its sockets without a store round trip.
 */
export const Revocation = z.discriminatedUnion('type', [
  z.object({ type: z.literal('session'), sessionId: z.string(), reason: z.string().check(z.maxLength(120)) }),
  z.object({ type: z.literal('user'), userId: z.string(), reason: z.string().check(z.maxLength(120)) }),
  z.object({ type: z.literal('role'), roleId: z.string(), permissions: z.array(z.string()).check(z.maxLength(200)), reason: z.string().check(z.maxLength(120)) }),
  z.object({ type: z.literal('device'), deviceId: z.string(), reason: z.string().check(z.maxLength(120)) }),
]);
export type Revocation = z.infer<typeof Revocation>;
