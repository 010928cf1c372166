import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger, packageSignedText, systemClock, type RpcParamsParsed } from '@edgehook/shared';
import type { Capability } from '../../src/capability.js';
import { startUpdates, type UpdatesDeps } from '../../src/updates/updates.capability.js';
import { InstallLayout } from '../../src/updates/install-layout.js';

// The agent side of updates over a real versioned install in a temp dir and real tarballs; only
// the download is local (the end-to-end test, control-plane/test/agent-updates.test.ts, goes over HTTP).
const log = createLogger({ level: 'error', format: 'json', write: () => undefined });
const t = suite<{ dir: string; install: string; key: KeyObject; pub: string }>('agent updates');

async function tarball(dir: string, version: string): Promise<Buffer> {
  const root = join(dir, `src-${version}`, 'edgehook-agent');
  await mkdir(join(root, 'lib'), { recursive: true });
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'edgehook-agent', version }));
  await writeFile(join(root, 'lib/edgehook-agent.mjs'), `// agent ${version}\n`);
  await writeFile(join(root, 'lib/launcher.mjs'), `// launcher ${version}\n`);
  const out = join(dir, `${version}.tgz`);
  execFileSync('tar', ['-czf', out, '-C', join(dir, `src-${version}`), 'edgehook-agent']);
  return readFile(out);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

t.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'edgehook-updates-'));
  ctx.install = join(ctx.dir, 'install');
  await mkdir(join(ctx.install, 'versions/1.0.0/lib'), { recursive: true });
  await writeFile(join(ctx.install, 'versions/1.0.0/lib/edgehook-agent.mjs'), '// agent 1.0.0\n');
  await symlink('versions/1.0.0', join(ctx.install, 'current'));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  ctx.key = privateKey;
  ctx.pub = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
});
t.after.each(async (ctx) => {
  await rm(ctx.dir, { recursive: true, force: true });
});

function capability(ctx: { install: string; pub: string }, bytes: Buffer, over: Partial<UpdatesDeps> = {}): { cap: Promise<Capability>; restarts: () => number; pinned: string[] } {
  let restarts = 0;
  const pinned: string[] = [];
  const cap = startUpdates({
    installDir: ctx.install,
    version: '1.0.0',
    server: () => 'http://127.0.0.1:1',
    pinnedKey: () => ctx.pub,
    pinKey: async (k) => void pinned.push(k),
    download: async (_url, dest) => {
      await writeFile(dest, bytes);
      return { bytes: bytes.length, sha256: sha(bytes) };
    },
    clock: systemClock,
    log,
    restart: () => void restarts++,
    ...over,
  });
  return { cap, restarts: () => restarts, pinned };
}

function params(ctx: { key: KeyObject; pub: string }, version: string, bytes: Buffer, over: Partial<RpcParamsParsed<'agent.update'>> = {}): RpcParamsParsed<'agent.update'> {
  const digest = sha(bytes);
  return { version, sha256: digest, size: bytes.length, signature: sign(null, Buffer.from(packageSignedText(version, digest)), ctx.key).toString('base64'), signingKey: ctx.pub, probationMs: 60_000, ...over };
}

async function untouched(install: string): Promise<void> {
  assert.equal(await readdir(join(install, 'versions')), ['1.0.0']);
  assert.is(await readlink(join(install, 'current')), 'versions/1.0.0');
  assert.not.ok(existsSync(join(install, 'staging')), 'no staging left');
  assert.not.ok(existsSync(join(install, 'update.json')));
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error('expected a refusal');
}

t('a signed package installs beside the running one, on probation, and asks for a restart', async (ctx) => {
  const bytes = await tarball(ctx.dir, '1.1.0');
  const { cap, restarts } = capability(ctx, bytes);
  const handlers = (await cap).handlers;
  const res = await handlers['agent.update']?.(params(ctx, '1.1.0', bytes));
  assert.equal(res, { restarting: true, from: '1.0.0', to: '1.1.0' });
  assert.is(await readlink(join(ctx.install, 'current')), 'versions/1.1.0');
  assert.equal((await readdir(join(ctx.install, 'versions'))).sort(), ['1.0.0', '1.1.0']);
  const record = await new InstallLayout(ctx.install).readRecord();
  assert.is(record?.state, 'probation');
  assert.is(record?.from, '1.0.0');
  await new Promise((r) => setTimeout(r, 400));
  assert.is(restarts(), 1);
  assert.is((await handlers['agent.updateStatus']?.({}))?.state, 'probation');

  // The new version: connected means confirmed; the launcher comes from it; older versions go.
  await mkdir(join(ctx.install, 'versions/0.9.0'));
  const next = await capability(ctx, bytes, { version: '1.1.0' }).cap;
  next.onLinkState?.({ state: 'connected' });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await next.handlers['agent.updateStatus']?.({}), { state: 'confirmed', running: '1.1.0', from: '1.0.0', to: '1.1.0', at: (await new InstallLayout(ctx.install).readRecord())?.at ?? -1 });
  assert.is(await readFile(join(ctx.install, 'launcher.mjs'), 'utf8'), '// launcher 1.1.0\n');
  assert.equal((await readdir(join(ctx.install, 'versions'))).sort(), ['1.0.0', '1.1.0']);
});

t('a bad signature, another key, a wrong SHA-256 or a mislabelled package are refused and touch nothing', async (ctx) => {
  const bytes = await tarball(ctx.dir, '1.1.0');
  const handlers = (await capability(ctx, bytes).cap).handlers;
  const update = (p: RpcParamsParsed<'agent.update'>) => refusal(handlers['agent.update']?.(p) ?? Promise.resolve());
  // Signed for another version: the signature covers the version too.
  const other = params(ctx, '1.2.0', bytes);
  assert.match(await update({ ...params(ctx, '1.1.0', bytes), signature: other.signature }), 'signature');
  const stranger = generateKeyPairSync('ed25519');
  const strangerPub = stranger.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  assert.match(await update(params({ key: stranger.privateKey, pub: strangerPub }, '1.1.0', bytes)), 'not the one this device pinned');
  await untouched(ctx.install);
  // The right signature over other bytes: the download does not match.
  const tampered = Buffer.concat([bytes, Buffer.from('x')]);
  const h2 = (await capability(ctx, tampered).cap).handlers;
  assert.match(await refusal(h2['agent.update']?.(params(ctx, '1.1.0', bytes, { size: tampered.length })) ?? Promise.resolve()), 'does not match its signed SHA-256');
  await untouched(ctx.install);
  // Signed as 1.3.0, but the package says 1.1.0.
  assert.match(await update(params(ctx, '1.3.0', bytes)), 'not an agent 1.3.0');
  await untouched(ctx.install);
  assert.match(await update(params(ctx, '1.0.0', bytes)), 'already runs 1.0.0');
});

t('a device enrolled before signing keys pins the first; one without a versioned install refuses', async (ctx) => {
  const bytes = await tarball(ctx.dir, '1.1.0');
  const { cap, pinned } = capability(ctx, bytes, { pinnedKey: () => undefined, restart: () => undefined });
  await (await cap).handlers['agent.update']?.(params(ctx, '1.1.0', bytes));
  assert.equal(pinned, [ctx.pub]);
  const bare = await capability(ctx, bytes, { installDir: undefined }).cap;
  assert.match(await refusal(bare.handlers['agent.update']?.(params(ctx, '1.1.0', bytes)) ?? Promise.resolve()), 'versioned install');
  assert.equal(await bare.handlers['agent.updateStatus']?.({}), { state: 'none', running: '1.0.0' });
});

t.run();
