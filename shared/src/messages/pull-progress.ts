import * as z from '../zod.js';
import { ServerName } from './containers.js';

const Count = z.number().check(z.int(), z.gte(0), z.lte(2 ** 53 - 1));

/**
 * An image pull's progress on a device, as both engines report it (Docker's per-layer
 * `/images/create` lines, aggregated on the agent; the simulated engine's registry): published by
 * the agent on the `containerPull` topic (throttled, plus the final line), forwarded to operators
 * as the `container.pull` fleet event. `bytes.total` counts the layers whose size is known so far.
 */
export const PullProgress = z.strictObject({
    image: z.string().check(z.minLength(1), z.maxLength(512)),
    /** The declared server whose create/recreate step pulls it (absent for ad-hoc containers). */
    server: z.optional(ServerName),
    status: z.enum(['pulling', 'done', 'failed']),
    layers: z.strictObject({ total: Count.check(z.lte(1000)), done: Count.check(z.lte(1000)) }),
    bytes: z.strictObject({ current: Count, total: Count }),
    /** What the engine said last, or why the pull failed. */
    message: z.optional(z.string().check(z.maxLength(1000))),
  });
export type PullProgress = z.infer<typeof PullProgress>;

/** "pulling busybox: 2/3 layers, 1.2/3.4 MB" (the CLI's line; the console's label). */
export function pullText(p: PullProgress): string {
  const mb = (n: number): string => (n / 1e6).toFixed(1);
  const what = p.status === 'done' ? 'pulled' : p.status === 'failed' ? 'pull failed' : 'pulling';
  const tail = p.status === 'failed' && p.message ? `: ${p.message}` : '';
  return `${what} ${p.image}: ${p.layers.done}/${p.layers.total} layers, ${mb(p.bytes.current)}/${mb(p.bytes.total)} MB${tail}`;
}
