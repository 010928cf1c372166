import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ADMIN_PASSWORD, cleanup, tempDir, waitFor } from '../helpers/harness.js';
import { curl, KVMD_ADMIN, kvmSocket, withSimulatedBoard, type KvmContext } from './kvm-helpers.js';

const t = suite<KvmContext & { dir: string; files: Server; filesUrl: string }>('PiKVM mass storage (simulated gadget, real agent)');

withSimulatedBoard(t);
t.before(async (ctx) => {
  ctx.dir = await tempDir('edgehook-msd-');
  // A plain HTTP server for write_remote: one image, and one URL that never answers.
  const image = Buffer.alloc(3 * 1024 * 1024, 7);
  ctx.files = createServer((req, res) => {
    if (req.url === '/images/remote.iso') return void res.writeHead(200, { 'content-length': image.length }).end(image);
    if (req.url === '/hang') return; // never answers
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => ctx.files.listen(0, '127.0.0.1', () => r()));
  ctx.filesUrl = `http://127.0.0.1:${(ctx.files.address() as AddressInfo).port}`;
});
t.after(async (ctx) => {
  ctx.files.closeAllConnections();
  ctx.files.close();
  await cleanup(ctx.dir);
});

/** curl as the seed's docs run it (a real process, so the upload is not in our heap). */
function curlCli(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn('curl', ['-s', '-u', `admin:${ADMIN_PASSWORD}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, out })));
}

const post = (url: string) => curl(url, { method: 'POST', headers: KVMD_ADMIN });
const msd = async (kvm: string) => (await curl(`${kvm}/msd`, { headers: KVMD_ADMIN })).body.result;

t('state as kvmd 4.x: enabled, online, an empty store, a drive without image', async ({ kvm }) => {
  const s = await msd(kvm);
  assert.equal({ enabled: s.enabled, online: s.online, busy: s.busy }, { enabled: true, online: true, busy: false });
  assert.equal(s.storage.images, {});
  assert.ok(s.storage.parts[''].size > 0 && s.storage.parts[''].free > 0);
  assert.equal(s.drive, { image: null, connected: false, cdrom: false, rw: false });
});

t('the seed flow with curl: write, set_params, set_connected, remove, reset; msd events', async (ctx) => {
  const { kvm, dir } = ctx;
  const s = await kvmSocket(ctx.cp.url, ctx.agent.deviceId, KVMD_ADMIN);
  await waitFor('bundle', async () => s.frames.filter((f) => f.event_type === 'loop').length === 2, 10_000);
  // dd if=/dev/zero of=test.iso bs=1M count=1 ; curl -v -X POST --data-binary @test.iso .../api/msd/write?image=test.iso
  const file = join(dir, 'test.iso');
  await writeFile(file, Buffer.alloc(1024 * 1024));
  const appeared = s.next('msd', (e) => e.storage?.images?.['test.iso'] !== undefined, 10_000);
  const w = await curlCli(['-X', 'POST', '--data-binary', `@${file}`, `${kvm}/msd/write?image=test.iso`]);
  assert.equal(JSON.parse(w.out), { ok: true, result: { image: { name: 'test.iso', size: 1048576, written: 1048576 } } });
  await appeared;
  assert.equal((await msd(kvm)).storage.images['test.iso'].size, 1048576);
  const again = await curlCli(['-X', 'POST', '--data-binary', `@${file}`, `${kvm}/msd/write?image=test.iso`]);
  assert.is(JSON.parse(again.out).result.error, 'MsdImageExistsError');

  // curl -X POST "https://<pikvm-ip>/api/msd/set_params?image=test.iso&cdrom=true"
  assert.is((await post(`${kvm}/msd/set_params?image=test.iso&cdrom=true`)).status, 200);
  assert.equal((await msd(kvm)).drive.image.name, 'test.iso');
  const connected = s.next('msd_state', (e) => e.drive?.connected === true);
  assert.is((await post(`${kvm}/msd/set_connected?connected=true`)).status, 200);
  await connected;
  const d = (await msd(kvm)).drive;
  assert.equal({ connected: d.connected, cdrom: d.cdrom, name: d.image.name }, { connected: true, cdrom: true, name: 'test.iso' });
  // While connected: no parameter changes, no removal of the connected image.
  const busy1 = await post(`${kvm}/msd/set_params?cdrom=false`);
  assert.equal([busy1.status, busy1.body.result.error], [400, 'MsdConnectedError']);
  const busy2 = await post(`${kvm}/msd/remove?image=test.iso`);
  assert.equal([busy2.status, busy2.body.result.error], [400, 'MsdConnectedError']);
  const twice = await post(`${kvm}/msd/set_connected?connected=1`);
  assert.is(twice.body.result.error, 'MsdConnectedError');
  assert.is((await post(`${kvm}/msd/set_connected?connected=false`)).status, 200);
  assert.is((await post(`${kvm}/msd/set_connected?connected=false`)).body.result.error, 'MsdDisconnectedError');
  // curl -X POST https://<pikvm-ip>/api/msd/remove?image=test.iso
  assert.is((await post(`${kvm}/msd/remove?image=test.iso`)).status, 200);
  assert.equal((await msd(kvm)).storage.images, {});
  assert.is((await post(`${kvm}/msd/remove?image=test.iso`)).body.result.error, 'MsdUnknownImageError');
  assert.is((await post(`${kvm}/msd/set_connected?connected=true`)).body.result.error, 'MsdImageNotSelected');
  // curl -X POST https://<pikvm-ip>/api/msd/reset
  assert.is((await post(`${kvm}/msd/reset`)).status, 200);
  s.close();
});

t('image names and parameters are validated: kvmd envelope, 400', async ({ kvm }) => {
  const write = (q: string, body = 'x') => curl(`${kvm}/msd/write?${q}`, { method: 'POST', headers: KVMD_ADMIN, body });
  for (const q of ['image=', 'image=..', 'image=a%2Fb', 'image=%01bad', 'prefix=dir&image=x.iso', `image=${'a'.repeat(300)}`]) {
    const r = await write(q);
    assert.is(r.status, 400, q);
    assert.is(r.body.result.error, 'ValidatorError', q);
  }
  for (const [q, error] of [
    ['msd/set_params?image=nope.iso', 'MsdUnknownImageError'],
    ['msd/set_params?cdrom=maybe', 'ValidatorError'],
    ['msd/set_params?image=http://example.com/x.iso', 'MsdRemoteDisabledError'],
    ['msd/set_connected?connected=perhaps', 'ValidatorError'],
    ['msd/set_connected', 'ValidatorError'],
    ['msd/remove?image=', 'ValidatorError'],
    ['msd/write_remote?url=ftp://example.com/x.iso', 'ValidatorError'],
    ['msd/write_remote?url=file:///etc/passwd', 'ValidatorError'],
    ['msd/write_remote?url=nonsense', 'ValidatorError'],
    ['msd/write_remote?url=http://127.0.0.1:1/x.iso&timeout=zero', 'ValidatorError'],
  ] as const) {
    const r = await post(`${kvm}/${q}`);
    assert.is(r.status, 400, q);
    assert.is(r.body.result.error, error, q);
  }
});

t('size cap and free space: an image over the profile cap is refused before any byte is stored', async ({ kvm, cp }) => {
  const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const url = new URL(`${kvm}/msd/write?image=huge.iso`);
    // 300 MB announced, beyond the simulated board's 256 MB cap; we never send the body.
    const req = request(url, { method: 'POST', headers: { ...KVMD_ADMIN, 'content-length': String(300 * 1024 * 1024) } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.flushHeaders();
  });
  assert.is(status.status, 400);
  assert.is(JSON.parse(status.body).result.error, 'MsdImageTooBigError');
  assert.equal((await msd(kvm)).storage.images, {});
  assert.ok(cp.url);
});

t('write_remote: the agent downloads over http with kvmd NDJSON progress; a silent server times out', async ({ kvm, filesUrl }) => {
  const r = await post(`${kvm}/msd/write_remote?url=${encodeURIComponent(`${filesUrl}/images/remote.iso`)}`);
  assert.is(r.status, 200);
  const lines = r.text.trim().split('\r\n').map((l) => JSON.parse(l));
  assert.ok(lines.length >= 2);
  assert.equal(lines.at(-1), { ok: true, result: { image: { name: 'remote.iso', size: 3 * 1024 * 1024, written: 3 * 1024 * 1024 } } });
  assert.equal((await msd(kvm)).storage.images['remote.iso'].size, 3 * 1024 * 1024);
  await post(`${kvm}/msd/remove?image=remote.iso`);
  const started = Date.now();
  const hang = await post(`${kvm}/msd/write_remote?url=${encodeURIComponent(`${filesUrl}/hang`)}&timeout=0.5`);
  assert.is(hang.status, 400);
  assert.match(hang.body.result.error_msg, /within 0.5 s/);
  assert.ok(Date.now() - started < 5000);
  const missing = await post(`${kvm}/msd/write_remote?url=${encodeURIComponent(`${filesUrl}/nothing.iso`)}`);
  assert.equal([missing.status, missing.body.result.error], [400, 'ClientResponseError']);
});

t('read: a stored image comes back byte for byte with its name and length; bad reads are kvmd 400s', async ({ kvm, dir }) => {
  const bytes = Buffer.alloc(2 * 1024 * 1024 + 123);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 9)) & 0xff;
  const file = join(dir, 'read.img');
  await writeFile(file, bytes);
  const w = await curlCli(['-X', 'POST', '--data-binary', `@${file}`, `${kvm}/msd/write?image=read.img`]);
  assert.is(JSON.parse(w.out).result.image.written, bytes.length);
  // curl -o as a kvmd user would: headers and body from a real client.
  const out = join(dir, 'read.out');
  const r = await curlCli(['-D', '-', '-o', out, `${kvm}/msd/read?image=read.img`]);
  assert.match(r.out, /HTTP\/1.1 200/);
  assert.match(r.out, /content-type: application\/octet-stream/i);
  assert.match(r.out, /content-disposition: attachment; filename="read.img"/i);
  assert.match(r.out, new RegExp(`content-length: ${bytes.length}`, 'i'));
  const { readFile } = await import('node:fs/promises');
  assert.ok((await readFile(out)).equals(bytes), 'the image read back differs');
  // compress=none is the same; kvmd's lzma/zstd are named as unavailable, never sent raw.
  const none = await curl(`${kvm}/msd/read?image=read.img&compress=none`, { headers: KVMD_ADMIN });
  assert.is(none.status, 200);
  for (const [q, error, msg] of [
    ['image=nope.img', 'MsdUnknownImageError', /not found/],
    ['image=..', 'ValidatorError', /not a valid MSD image name/],
    ['', 'ValidatorError', /image/],
    ['image=read.img&compress=lzma', 'ValidatorError', /lzma is not available/],
    ['image=read.img&compress=gzip', 'ValidatorError', /Compression mode/],
  ] as const) {
    const bad = await curl(`${kvm}/msd/read?${q}`, { headers: KVMD_ADMIN });
    assert.is(bad.status, 400, q);
    assert.is(bad.body.result.error, error, q);
    assert.match(bad.body.result.error_msg, msg, q);
  }
  await post(`${kvm}/msd/remove?image=read.img`);
});

const MB = Number(process.env['EDGEHOOK_MSD_TEST_MB'] ?? 50);

/** V8's gc() without a command-line flag (the test runner starts files plainly). */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc !== 'function') throw new Error('cannot reach gc()');
  return () => gc();
}

async function uploadMeasured(kvm: string, file: string, name: string, collect: (() => void) | undefined): Promise<{ before: number; peak: number; written: number }> {
  collect?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    collect?.();
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const w = await curlCli(['-X', 'POST', '--data-binary', `@${file}`, `${kvm}/msd/write?image=${name}`]);
  clearInterval(sampler);
  await post(`${kvm}/msd/remove?image=${name}`);
  return { before, peak, written: JSON.parse(w.out).result.image.written };
}

t('a 50 MB upload streams through: control-plane RSS grows by less than 20 MB', async ({ kvm, dir }) => {
  const file = join(dir, 'big.img');
  // Made by dd, as the seed's docs do, so the 50 MB never sit in this process.
  await new Promise((resolve) => spawn('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', `count=${MB}`], { stdio: 'ignore' }).once('close', resolve));
  const mb = (n: number) => (n / 1048576).toFixed(1);
  // Every 64 KB chunk is read from curl's socket, published, parsed by the in-process broker and
  // written to the agent's socket: garbage V8 collects lazily (external memory). With collection
  // at each sample, what remains is what the upload holds; the lazy peak is logged as well.
  const held = await uploadMeasured(kvm, file, 'big.img', exposeGc());
  const lazy = await uploadMeasured(kvm, file, 'big2.img', undefined);
  assert.is(held.written, MB * 1024 * 1024);
  assert.is(lazy.written, MB * 1024 * 1024);
  console.log(`  ${MB} MB upload: RSS held +${mb(held.peak - held.before)} MB (collected at each sample); uncollected peak +${mb(lazy.peak - lazy.before)} MB`);
  assert.ok(held.peak - held.before < 20 * 1048576, `RSS grew by ${mb(held.peak - held.before)} MB`);
});

t.run();
