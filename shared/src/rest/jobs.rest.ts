import * as z from '../zod.js';
import { JobCreate, JobDetail, JobListQuery, JobView } from '../messages/jobs.js';
import { route, SIGNED_IN } from './route.js';

const job = { id: z.string().check(z.minLength(1), z.maxLength(64), z.describe('job id')) };

/** Jobs: one operation on many devices with a rollout (control-plane/src/jobs/, docs/jobs.md). */
export const JobRoutes = {
  jobCreate: route({ method: 'POST', path: '/api/jobs', summary: 'Start a job on the selected devices (the kind may need a permission of its own)', tag: 'jobs', auth: SIGNED_IN, permission: 'jobs.run', body: JobCreate, result: JobDetail, status: 201 }),
  jobList: route({ method: 'GET', path: '/api/jobs', summary: 'Jobs, newest first, with their counts', tag: 'jobs', auth: SIGNED_IN, permission: 'jobs.read', query: JobListQuery, result: z.array(JobView) }),
  jobGet: route({ method: 'GET', path: '/api/jobs/:id', summary: 'One job with a row per device', tag: 'jobs', auth: SIGNED_IN, permission: 'jobs.read', params: job, result: JobDetail }),
  jobCancel: route({ method: 'POST', path: '/api/jobs/:id/cancel', summary: 'Cancel a job: devices that have not started never will', tag: 'jobs', auth: SIGNED_IN, permission: 'jobs.run', params: job, result: JobDetail }),
} as const;
