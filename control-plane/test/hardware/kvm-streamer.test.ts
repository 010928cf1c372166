import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:http';
import jpeg from 'jpeg-js';
import { ADMIN_PASSWORD, waitFor } from '../helpers/harness.js';
import { curl, KVMD_ADMIN, kvmSocket, withSimulatedBoard, type KvmContext } from './kvm-helpers.js';

const t = suite<KvmContext>('PiKVM streamer: state, snapshot, MJPEG stream, params (simulated screen, real agent)');

withSimulatedBoard(t);

async function jpegOf(url: string): Promise<{ status: number; headers: Headers; image?: { width: number; height: number }; body: Buffer }> {
  // Retried once: a kept-alive connection the server closes at that moment fails the request.
  const res = await fetch(url, { headers: KVMD_ADMIN }).catch(() => fetch(url, { headers: KVMD_ADMIN }));
  const body = Buffer.from(await res.arrayBuffer());
  if (res.headers.get('content-type') !== 'image/jpeg') return { status: res.status, headers: res.headers, body };
  const d = jpeg.decode(body, { useTArray: true });
  return { status: res.status, headers: res.headers, image: { width: d.width, height: d.height }, body };
}

interface Part {
  headers: Record<string, string>;
  jpeg: Buffer;
  at: number;
}

/** A raw MJPEG reader (as a ustreamer client reads /stream): parts by Content-Length; can stop reading. */
function mjpeg(url: string) {
  const parts: Part[] = [];
  let buf = Buffer.alloc(0);
  let status = 0;
  let contentType = '';
  const res = new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    const req = request(url, { headers: KVMD_ADMIN }, (r) => {
      status = r.statusCode ?? 0;
      contentType = String(r.headers['content-type']);
      r.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const lines = buf.subarray(0, end).toString().split('\r\n').filter(Boolean);
          const headers: Record<string, string> = {};
          for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
          if (lines[0] !== '--boundarydonotcross') throw new Error(`bad part start ${lines[0]}`);
          const len = Number(headers['content-length']);
          if (buf.length < end + 4 + len + 2) return;
          parts.push({ headers, jpeg: Buffer.from(buf.subarray(end + 4, end + 4 + len)), at: Date.now() });
          if (buf.subarray(end + 4 + len, end + 6 + len).toString() !== '\r\n') throw new Error('part not ended by CRLF');
          buf = buf.subarray(end + 6 + len);
        }
      });
      resolve(r);
    });
    req.on('error', reject);
    req.end();
  });
  return { parts, res, get status() { return status; }, get contentType() { return contentType; } };
}

t('state: stopped without viewers; features, limits and params as kvmd 4.x', async ({ kvm }) => {
  const r = await curl(`${kvm}/streamer`, { headers: KVMD_ADMIN });
  assert.is(r.status, 200);
  assert.equal(r.body.result.features, { quality: true, resolution: true, h264: false });
  assert.equal(r.body.result.limits, { desired_fps: { min: 0, max: 120 }, available_resolutions: ['1280x720', '1920x1080', '640x480'] });
  assert.equal(r.body.result.params, { desired_fps: 30, quality: 80, resolution: '1280x720' });
  assert.is(r.body.result.streamer, null);
});

t('snapshot: a valid 1280x720 JPEG with ustreamer headers; previews sized as kvmd', async ({ kvm }) => {
  // curl -k -u admin:admin https://<pikvm-ip>/api/streamer/snapshot
  const full = await jpegOf(`${kvm}/streamer/snapshot`);
  assert.is(full.status, 200);
  assert.equal(full.image, { width: 1280, height: 720 });
  assert.is(full.headers.get('x-ustreamer-width'), '1280');
  assert.is(full.headers.get('x-ustreamer-online'), 'true');
  assert.ok(Math.abs(Number(full.headers.get('x-timestamp')) - Date.now() / 1000) < 30);
  const small = await jpegOf(`${kvm}/streamer/snapshot?preview=1&preview_max_width=320&preview_quality=50`);
  assert.equal(small.image, { width: 320, height: 180 });
  const fifth = await jpegOf(`${kvm}/streamer/snapshot?preview=1`);
  assert.equal(fifth.image, { width: 256, height: 144 }, 'no size given: a fifth, as kvmd');
  const boxed = await jpegOf(`${kvm}/streamer/snapshot?preview=true&preview_max_width=400&preview_max_height=100`);
  assert.equal(boxed.image, { width: 178, height: 100 }, 'fits the box, aspect kept');
  const bad = await curl(`${kvm}/streamer/snapshot?preview=1&preview_quality=0`, { headers: KVMD_ADMIN });
  assert.is(bad.status, 400);
  assert.is(bad.body.result.error, 'ValidatorError');
});

t('MJPEG stream as ustreamer serves it; the streamer starts with the viewer, reports it, and stops after', async ({ cp, agent, kvm }) => {
  const s = await kvmSocket(cp.url, agent.deviceId, KVMD_ADMIN);
  await waitFor('bundle', async () => s.frames.filter((f) => f.event_type === 'loop').length === 2, 10_000);
  const started = s.next('streamer', (e) => e.streamer !== null, 10_000);
  const v = mjpeg(`${cp.url}/kvm/${agent.deviceId}/streamer/stream?extra_headers=1`);
  const res = await v.res;
  assert.is(v.status, 200);
  assert.is(v.contentType, 'multipart/x-mixed-replace;boundary=boundarydonotcross');
  await waitFor('5 frames', async () => v.parts.length >= 5, 10_000);
  const five = v.parts.slice(0, 5);
  const stamps = five.map((p) => Number(p.headers['x-timestamp']));
  for (let i = 1; i < 5; i++) assert.ok((stamps[i] ?? 0) > (stamps[i - 1] ?? 0), 'timestamps grow');
  assert.is(new Set(five.map((p) => p.jpeg.toString('base64'))).size, 5, 'every frame differs (moving pattern, clock)');
  for (const p of five) assert.equal({ w: jpeg.decode(p.jpeg).width, online: p.headers['x-ustreamer-online'] }, { w: 1280, online: 'true' });
  await started;
  const state = (await curl(`${kvm}/streamer`, { headers: KVMD_ADMIN })).body.result;
  assert.is(state.streamer.stream.clients, 1);
  assert.is(state.streamer.source.online, true);
  const stopped = s.next('streamer', (e) => e.streamer === null, 10_000);
  res.destroy();
  await stopped;
  s.close();
});

t('a slow viewer drops frames on the device instead of queueing them, then gets fresh ones', async ({ cp, agent, kvm }) => {
  const v = mjpeg(`${cp.url}/kvm/${agent.deviceId}/streamer/stream`);
  const res = await v.res;
  await waitFor('first frame', async () => v.parts.length >= 1, 10_000);
  res.pause(); // stop reading: TCP, the response buffer and the stream window fill up
  await waitFor('frames dropped for the stalled viewer', async () => {
    const st = (await curl(`${kvm}/streamer`, { headers: KVMD_ADMIN })).body.result.streamer;
    const stats = Object.values(st?.stream.clients_stat ?? {}) as { dropped: number }[];
    return stats.some((c) => c.dropped > 10);
  }, 20_000);
  const pausedAt = Date.now();
  res.resume();
  // What was buffered arrives, then frames captured after the pause: the viewer is live again.
  await waitFor('a frame captured after the stall', async () => v.parts.some((p) => Number(p.headers['x-timestamp']) * 1000 > pausedAt), 20_000);
  res.destroy();
});

t('a stream opened with a login cookie ends once that session logs out', async ({ cp, agent, kvm }) => {
  const login = await curl(`${kvm}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `user=admin&passwd=${ADMIN_PASSWORD}` });
  const token = /auth_token=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')?.[1] ?? '';
  assert.match(token, /^[0-9a-f]{64}$/, 'a kvmd-like token');
  const ended = new Promise<void>((resolve, reject) => {
    const req = request(`${cp.url}/kvm/${agent.deviceId}/streamer/stream`, { headers: { cookie: `auth_token=${token}` } }, (res) => {
      res.resume();
      res.on('close', () => resolve());
      res.on('error', () => resolve());
    });
    req.on('error', () => resolve());
    req.end();
    setTimeout(() => reject(new Error('the stream outlived its session')), 15_000);
  });
  await waitFor('streaming', async () => (await curl(`${kvm}/streamer`, { headers: KVMD_ADMIN })).body.result.streamer?.stream.clients >= 1, 30_000);
  assert.is((await curl(`${kvm}/auth/logout`, { method: 'POST', headers: { cookie: `auth_token=${token}` } })).status, 200);
  await ended;
});

t('set_params: resolution from the list, quality and fps; bad or unsupported values 400', async ({ kvm }) => {
  const post = (q: string) => curl(`${kvm}/streamer/set_params?${q}`, { method: 'POST', headers: KVMD_ADMIN });
  assert.is((await post('resolution=640x480&quality=50&desired_fps=20')).status, 200);
  assert.equal((await curl(`${kvm}/streamer`, { headers: KVMD_ADMIN })).body.result.params, { desired_fps: 20, quality: 50, resolution: '640x480' });
  assert.equal((await jpegOf(`${kvm}/streamer/snapshot`)).image, { width: 640, height: 480 });
  const cases: [string, string][] = [
    ['resolution=123x45', 'ValidatorError'],
    ['resolution=wide', 'ValidatorError'],
    ['quality=0', 'ValidatorError'],
    ['quality=abc', 'ValidatorError'],
    ['desired_fps=121', 'ValidatorError'],
    ['h264_bitrate=500', 'StreamerH264NotSupported'],
  ];
  for (const [q, error] of cases) {
    const r = await post(q);
    assert.is(r.status, 400, q);
    assert.is(r.body.result.error, error, q);
  }
  await post('resolution=1280x720&quality=80&desired_fps=30');
});

t.run();
