import { decodeJson, DeviceView, FleetEvent, pullText, type PullProgress } from '@edgehook/shared';
import type { ApiClient } from '../api-client.js';
import type { CommandContext } from '../context.js';
import { printable } from '../table.js';
import { openSocket } from './remote-socket.js';

/** Without a terminal, one line per image at most this often (plus its final line). */
const LINE_EVERY_MS = 1000;
/**
 * After the apply answered, how long to wait for the final line of a pull still shown as running.
 * The pull is over by then and its event on the way; a loaded machine can take seconds to fan it out.
 */
const FINAL_GRACE_MS = 5000;

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
  const printer = pullPrinter({ tty: ctx.io.stdoutIsTTY === true, now: ctx.now, write: ctx.io.stdout });
  let settle: (() => void) | undefined;
  const hello = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000);
    ws.on('message', (data: Buffer) => {
      clearTimeout(timer);
      resolve();
      const e = decodeJson(FleetEvent, data);
      if (!e.ok || e.value.type !== 'container.pull' || e.value.deviceId !== deviceId) return;
      const p = e.value.pull;
      printer.show(p);
      if (!printer.running()) settle?.();
    });
  });
  await hello; // subscribed: no event of this apply can fall before it
  return async () => {
    await caughtUp(ws);
    if (printer.running()) await new Promise<void>((resolve) => {
      settle = resolve;
      setTimeout(resolve, FINAL_GRACE_MS);
    });
    printer.finish();
    ws.close();
  };
}

/**
 * Waits for the server's pong to a ping sent now. The server sent this apply's pull events before
 * its answer, and the pong follows them on this socket; without it, an answer read first (the two
 * sockets race in the client) ended the command before a failed pull's line was read.
 */
function caughtUp(ws: Awaited<ReturnType<typeof openSocket>>): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      ws.off('pong', done);
      ws.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, 2000);
    ws.once('pong', done);
    ws.once('close', done);
    try {
      ws.ping();
    } catch {
      done();
    }
  });
}

/** The lines themselves: on a terminal one line rewritten in place (every image on it), else a line per change per image at most every second. */
export function pullPrinter(out: { tty: boolean; now: () => number; write: (s: string) => void }): { show(p: PullProgress): void; running(): boolean; finish(): void } {
  const latest = new Map<string, PullProgress>();
  const printedAt = new Map<string, number>();
  let live = false;
  const running = (): boolean => [...latest.values()].some((p) => p.status === 'pulling');
  return {
    running,
    show(p) {
      // The first report knows no layers yet: nothing worth a line.
      if (p.status === 'pulling' && p.layers.total === 0) return;
      latest.set(p.image, p);
      if (out.tty) {
        out.write(`\r\x1b[K${[...latest.values()].map((x) => printable(pullText(x))).join('; ')}`);
        live = true;
        if (!running()) {
          out.write('\n');
          live = false;
        }
        return;
      }
      const now = out.now();
      if (p.status === 'pulling' && now - (printedAt.get(p.image) ?? -Infinity) < LINE_EVERY_MS) return;
      printedAt.set(p.image, now);
      out.write(`${printable(pullText(p))}\n`);
    },
    finish() {
      if (live) out.write('\n');
      live = false;
    },
  };
}
