import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import jpeg from 'jpeg-js';
import { createLogger } from '@edgehook/shared';
import { TestPatternSource, type VideoFrame, type VideoSource } from '../../src/hardware/video/video-source.js';
import { UstreamerSource } from '../../src/hardware/video/ustreamer.source.js';
import { Streamer } from '../../src/hardware/video/streamer.js';
import { previewSize } from '../../src/hardware/video/preview.js';

const log = createLogger({ level: 'error', format: 'json' });

function haveUstreamer(): boolean {
  try {
    execFileSync('ustreamer', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const waitFrames = (frames: VideoFrame[], n: number, ms = 15_000) =>
  new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const tick = () => (frames.length >= n ? resolve() : Date.now() - started > ms ? reject(new Error(`only ${frames.length} frames`)) : setTimeout(tick, 20));
    tick();
  });

/** One suite over both sources: real JPEG frames flow after start and stop after stop. */
function contract(name: string, make: () => VideoSource, expect: { online: boolean }) {
  const t = suite(`video source contract: ${name}`);
  t('start delivers decodable JPEG frames with sizes and growing timestamps; stop ends them', async () => {
    const src = make();
    const frames: VideoFrame[] = [];
    await src.start({ resolution: { width: 640, height: 480 }, fps: 10, quality: 80 }, (f) => frames.push(f), () => undefined);
    await waitFrames(frames, 3);
    await src.stop();
    const count = frames.length;
    for (const f of frames.slice(0, 3)) {
      const d = jpeg.decode(f.jpeg, { useTArray: true });
      assert.ok(d.width > 0 && d.height > 0);
      assert.equal([f.width, f.height], [d.width, d.height]);
      assert.is(f.online, expect.online);
    }
    assert.ok((frames[2]?.at ?? 0) >= (frames[0]?.at ?? 0));
    await new Promise((r) => setTimeout(r, 300));
    assert.is(frames.length, count, 'no frame after stop');
  });
  t('a second start replaces the first (no double streams)', async () => {
    const src = make();
    const frames: VideoFrame[] = [];
    await src.start({ resolution: { width: 640, height: 480 }, fps: 5, quality: 50 }, (f) => frames.push(f), () => undefined);
    await src.start({ resolution: { width: 640, height: 480 }, fps: 5, quality: 50 }, (f) => frames.push(f), () => undefined);
    await waitFrames(frames, 2);
    await src.stop();
  });
  t.run();
}

contract('test pattern', () => new TestPatternSource(), { online: true });
// The real one: Debian's ustreamer on a device that does not exist here serves its "no signal" picture.
if (haveUstreamer()) contract('ustreamer (no capture device: offline frames)', () => new UstreamerSource({ device: '/dev/video-edgehook-absent', log }), { online: false });
else if (process.env['CI'] === 'true') throw new Error('ustreamer is required in CI (apt-get install ustreamer)');

const s = suite('streamer');
s('the source runs while someone watches: first viewer starts it, the last one leaving stops it', async () => {
  const source = new TestPatternSource();
  const streamer = new Streamer({ config: { device: 'sim://video0', resolution: '320x240', resolutions: [], desiredFps: 20, quality: 60 }, source, log });
  const a: VideoFrame[] = [];
  const b: VideoFrame[] = [];
  const stopA = streamer.watch((f) => a.push(f));
  const stopB = streamer.watch((f) => b.push(f));
  await waitFrames(b, 2);
  assert.ok(streamer.state().streamer !== null);
  assert.is(streamer.state().streamer?.stream.clients, 2);
  stopA();
  assert.ok(streamer.state().streamer !== null, 'still one viewer');
  stopB();
  await new Promise((r) => setTimeout(r, 200));
  assert.is(streamer.state().streamer, null);
  const snap = await streamer.snapshot();
  assert.equal([snap.width, snap.height], [320, 240]);
  await streamer.close();
});
s('preview sizes follow kvmd: a fifth by default, fit in the box, never larger', () => {
  assert.equal(previewSize({ width: 1920, height: 1080 }, 0, 0), { width: 384, height: 216 });
  assert.equal(previewSize({ width: 1280, height: 720 }, 320, 0), { width: 320, height: 180 });
  assert.equal(previewSize({ width: 1280, height: 720 }, 4000, 4000), { width: 1280, height: 720 });
});
s('ustreamer argv: device, resolution, quality, private unix socket, fps and format when set', () => {
  const argv = UstreamerSource.argv('/dev/video0', '/tmp/x.sock', { resolution: { width: 1920, height: 1080 }, fps: 30, quality: 75 }, 'UYVY');
  assert.equal(argv.slice(0, 6), ['--device', '/dev/video0', '--resolution', '1920x1080', '--quality', '75']);
  assert.ok(argv.includes('--unix') && argv.includes('--exit-on-parent-death'));
  assert.equal(argv.slice(-4), ['--desired-fps', '30', '--format', 'UYVY']);
});
s.run();
