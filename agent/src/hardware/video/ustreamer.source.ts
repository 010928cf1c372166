import { spawn, type ChildProcess } from 'node:child_process';
import type { ClientRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@edgehook/shared';
import { nodeHttp } from '@edgehook/shared/node-builtins';
import { MjpegParser } from './mjpeg-parser.js';
import type { VideoFrame, VideoSource, VideoSourceParams } from './video-source.js';

const READY_TIMEOUT_MS = 10_000;

/**
 * The real screen: Debian's `ustreamer` (the streamer PiKVM runs) on the profile's capture
 * device, serving on a private unix socket; we read its `/stream` with the extra headers and
 * hand each JPEG on. While the device has no signal ustreamer sends its "no signal" picture
 * (X-UStreamer-Online: false), which passes through as an offline frame.
 */
export class UstreamerSource implements VideoSource {
  readonly kind = 'ustreamer';
  private child: ChildProcess | undefined;
  private req: ClientRequest | undefined;
  private dir: string | undefined;
  private stopping = false;

  constructor(private readonly opts: { device: string; format?: string | undefined; binary?: string; log: Logger }) {}

  /** argv for ustreamer (exported for tests and docs). */
  static argv(device: string, socket: string, p: VideoSourceParams, format?: string): string[] {
    const argv = ['--device', device, '--resolution', `${p.resolution.width}x${p.resolution.height}`, '--quality', String(p.quality), '--unix', socket, '--unix-rm', '--unix-mode', '600', '--persistent', '--exit-on-parent-death'];
    if (p.fps > 0) argv.push('--desired-fps', String(p.fps));
    if (format) argv.push('--format', format);
    return argv;
  }

  async start(params: VideoSourceParams, onFrame: (f: VideoFrame) => void, onExit: (reason: string) => void): Promise<void> {
    await this.stop();
    this.stopping = false;
    this.dir = await mkdtemp(join(tmpdir(), 'edgehook-ustreamer-'));
    const socket = join(this.dir, 'ustreamer.sock');
    const child = spawn(this.opts.binary ?? 'ustreamer', UstreamerSource.argv(this.opts.device, socket, params, this.opts.format), { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let lastErr = '';
    child.stderr?.on('data', (d: Buffer) => {
      lastErr = d.toString().trim().split('\n').at(-1) ?? lastErr;
    });
    const exited = new Promise<string>((resolve) => {
      child.once('error', (err) => resolve(`cannot run ustreamer: ${err.message}`));
      child.once('exit', (code, signal) => resolve(`ustreamer exited (${signal ?? code}): ${lastErr}`));
    });
    void exited.then((reason) => {
      if (this.child === child) this.child = undefined;
      if (!this.stopping) onExit(reason);
    });
    // Connect once the socket answers; ustreamer binds it right after start.
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const outcome = await Promise.race([this.open(socket, onFrame, onExit), exited.then((r) => new Error(r))]);
      if (outcome === true) return;
      if (this.child !== child || Date.now() > deadline) {
        await this.stop();
        throw new Error(outcome instanceof Error ? outcome.message : 'ustreamer did not start');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private open(socket: string, onFrame: (f: VideoFrame) => void, onExit: (reason: string) => void): Promise<true | Error> {
    return new Promise((resolve) => {
      const req = nodeHttp().request({ socketPath: socket, path: '/stream?extra_headers=1', headers: { host: 'localhost' } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return resolve(new Error(`ustreamer answered ${res.statusCode}`));
        }
        this.req = req;
        resolve(true);
        const parser = new MjpegParser((part) => {
          const h = part.headers;
          const ts = Number(h['x-timestamp']);
          onFrame({
            jpeg: part.body,
            width: Number(h['x-ustreamer-width']) || 0,
            height: Number(h['x-ustreamer-height']) || 0,
            at: Number.isFinite(ts) && ts > 0 ? ts * 1000 : Date.now(),
            online: h['x-ustreamer-online'] !== 'false',
          });
        });
        res.on('data', (chunk: Buffer) => {
          try {
            parser.push(chunk);
          } catch (err) {
            req.destroy(err instanceof Error ? err : new Error(String(err)));
          }
        });
        res.on('close', () => {
          if (!this.stopping && this.req === req) onExit('the ustreamer stream ended');
        });
      });
      req.on('error', (err) => resolve(err));
      req.end();
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.req?.destroy();
    this.req = undefined;
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(timer);
    }
    if (this.dir) await rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
    this.dir = undefined;
  }
}
