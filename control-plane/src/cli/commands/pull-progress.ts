import { decodeJson, DeviceView, FleetEvent, pullText, type PullProgress } from '@edgehook/shared';
import type { ApiClient } from '../api-client.js';
import type { CommandContext } from '../context.js';
import { printable } from '../table.js';
import { openSocket } from './remote-socket.js';

/** Without a terminal, one line per image at most this often (plus its final line). */
const LINE_EVERY_MS = 1000;
/** After the apply answered, how long to wait for the final line of a pull still shown as running. */
const FINAL_GRACE_MS = 1000;

/**
 * Prints the device's image pulls (`container.pull` on /api/events) while an apply runs: on a
 * terminal as one line updated in place, otherwise a line per change at most every second. Progress
 * is a view: when the events socket cannot be opened the command goes on without it.
 * Returns `stop`, which waits briefly for running pulls' final lines and clears the live line.
 */
export async function followPulls(ctx: CommandContext, api: ApiClient, ref: string): Promise<() => Promise<void>> {
  let ws: Awaited<ReturnType<typeof openSocket>>;
  let deviceId: string;
  try {
    deviceId = (await api.json(DeviceView, 'GET', `/api/devices/${encodeURIComponent(ref)}`)).id;
    ws = await openSocket(ctx, api, '/api/events');
  } catch {
    return async () => undefined;
  }
  const tty = ctx.io.stdoutIsTTY === true;
  const latest = new Map<string, PullProgress>();
  const printedAt = new Map<string, number>();
  let live = false;
  let settle: (() => void) | undefined;
  const running = (): boolean => [...latest.values()].some((p) => p.status === 'pulling');
  const show = (p: PullProgress): void => {
    if (tty) {
      const line = [...latest.values()].map((x) => printable(pullText(x))).join('; ');
      ctx.io.stdout(`\r\x1b[K${line}`);
      live = true;
      if (p.status !== 'pulling' && !running()) {
        ctx.io.stdout('\n');
        live = false;
      }
      return;
    }
    const now = ctx.now();
    if (p.status === 'pulling' && now - (printedAt.get(p.image) ?? -Infinity) < LINE_EVERY_MS) return;
    printedAt.set(p.image, now);
    ctx.io.stdout(`${printable(pullText(p))}\n`);
  };
  const hello = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000);
    ws.on('message', (data: Buffer) => {
      clearTimeout(timer);
      resolve();
      const e = decodeJson(FleetEvent, data);
      if (!e.ok || e.value.type !== 'container.pull' || e.value.deviceId !== deviceId) return;
      const p = e.value.pull;
      // The first report knows no layers yet: nothing worth a line.
      if (p.status === 'pulling' && p.layers.total === 0) return;
      latest.set(p.image, p);
      show(p);
      if (!running()) settle?.();
    });
  });
  await hello; // subscribed: no event of this apply can fall before it
  return async () => {
    if (running()) await new Promise<void>((resolve) => {
      settle = resolve;
      setTimeout(resolve, FINAL_GRACE_MS);
    });
    if (live) ctx.io.stdout('\n');
    ws.close();
  };
}
