import { nodeCrypto } from '@edgehook/shared/node-builtins';
import { execFile } from 'node:child_process';
import { copyFile, cp, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeJson, EdgehookError, packageSignedText, type AgentUpdateState, type Clock, type Logger, type RpcParamsParsed } from '@edgehook/shared';
import * as z from '@edgehook/shared/zod';
import type { Capability } from '../capability.js';
import { InstallLayout, type UpdateRecord } from './install-layout.js';
import type { DownloadPackage } from './package-download.js';

const run = promisify(execFile);
const PackageJson = z.object({ version: z.string() });

export interface UpdatesDeps {
  /** The versioned install (--install-dir, set by the launcher); undefined: updates are refused. */
  installDir: string | undefined;
  /** The version running in this process. */
  version: string;
  /** The server this device enrolled with: packages come only from there. */
  server: () => string | undefined;
  /** The signing key pinned at enrollment, and how to pin one (devices enrolled before keys existed). */
  pinnedKey: () => string | undefined;
  pinKey: (key: string) => Promise<void>;
  download: DownloadPackage;
  clock: Clock;
  log: Logger;
  /** Stop and exit with RESTART_EXIT_CODE, so the supervisor starts `current` again. */
  restart: () => void;
}

function signatureValid(key: string, version: string, sha256: string, signature: string): boolean {
  try {
    const pub = nodeCrypto().createPublicKey({ key: Buffer.from(key, 'base64'), format: 'der', type: 'spki' });
    return pub.asymmetricKeyType === 'ed25519' && nodeCrypto().verify(null, Buffer.from(packageSignedText(version, sha256)), pub, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/**
 * Agent self-update (docs/agent-updates.md): `agent.update` installs a signed package beside the
 * running version and restarts into it on probation; the new version confirms once its link is
 * up. Rolling back is the launcher's (launcher.ts): the new code cannot be trusted to do it.
 */
export async function startUpdates(deps: UpdatesDeps): Promise<Capability> {
  const { log } = deps;
  const layout = deps.installDir ? new InstallLayout(deps.installDir) : undefined;
  let busy = false;

  const status = async (): Promise<AgentUpdateState> => {
    const r = layout ? await layout.readRecord() : undefined;
    if (!r) return { state: 'none', running: deps.version };
    return { state: r.state, running: deps.version, from: r.from, to: r.to, at: r.at, ...(r.reason !== undefined ? { reason: r.reason.slice(0, 500) } : {}) };
  };

  const install = async (l: InstallLayout, p: RpcParamsParsed<'agent.update'>): Promise<{ restarting: true; from: string; to: string }> => {
    const from = (await l.currentVersion()) ?? deps.version;
    if (p.version === deps.version || p.version === from) throw new EdgehookError('CONFLICT', `this device already runs ${p.version}`);
    const pending = await l.readRecord();
    if (pending?.state === 'probation' && pending.to === deps.version) throw new EdgehookError('CONFLICT', `${deps.version} is still on probation; try again once it is confirmed`);
    // The key: the one pinned at enrollment; a device enrolled before keys existed pins the first it is given.
    const pinned = deps.pinnedKey();
    if (pinned !== undefined && pinned !== p.signingKey) throw new EdgehookError('BAD_REQUEST', 'refused: the package signing key is not the one this device pinned at enrollment');
    // Checked before anything is downloaded or written: a bad signature touches nothing.
    if (!signatureValid(p.signingKey, p.version, p.sha256, p.signature)) throw new EdgehookError('BAD_REQUEST', `refused: the signature of agent package ${p.version} does not verify with the control plane's key`);
    const server = deps.server();
    if (!server) throw new EdgehookError('BAD_REQUEST', 'not enrolled: no server to download from');
    if (pinned === undefined) {
      await deps.pinKey(p.signingKey);
      log.warn('pinned the control plane package signing key on first update (enrolled before keys were handed out)');
    }
    const staging = await l.makeStaging();
    try {
      const tgz = join(staging, 'edgehook-agent.tgz');
      const url = new URL(`/downloads/agent/${encodeURIComponent(p.version)}/edgehook-agent.tgz`, server);
      const got = await deps.download(url, tgz, p.size);
      if (got.bytes !== p.size || got.sha256 !== p.sha256) throw new EdgehookError('BAD_REQUEST', `refused: the downloaded package does not match its signed SHA-256 (got ${got.sha256.slice(0, 12)}..., ${got.bytes} bytes)`);
      const unpack = join(staging, 'unpack');
      await run('mkdir', ['-p', unpack]);
      await run('tar', ['-xzf', tgz, '-C', unpack, '--no-same-owner', '--no-same-permissions']).catch(() => {
        throw new EdgehookError('BAD_REQUEST', 'refused: the package is not a readable tarball');
      });
      const root = join(unpack, 'edgehook-agent');
      const meta = decodeJson(PackageJson, await readFile(join(root, 'package.json'), 'utf8').catch(() => ''));
      if (!meta.ok || meta.value.version !== p.version || !(await stat(join(root, 'lib/edgehook-agent.mjs')).catch(() => undefined))) {
        throw new EdgehookError('BAD_REQUEST', `refused: the package is not an agent ${p.version} (lib/edgehook-agent.mjs and package.json with that version)`);
      }
      // The native modules built on this device carry over (a Pi has no compiler at hand, often).
      const modules = join(l.versionDir(from), 'node_modules');
      if ((await stat(modules).catch(() => undefined)) && !(await stat(join(root, 'node_modules')).catch(() => undefined))) await cp(modules, join(root, 'node_modules'), { recursive: true, verbatimSymlinks: true });
      await rm(l.versionDir(p.version), { recursive: true, force: true });
      await rename(root, l.versionDir(p.version));
    } finally {
      await l.clearStaging();
    }
    const now = deps.clock.now();
    const record: UpdateRecord = { state: 'probation', from, to: p.version, deadline: now + p.probationMs, starts: 0, at: now };
    await l.writeRecord(record);
    await l.switchTo(p.version);
    log.info('agent update installed; restarting into it', { from, to: p.version, probationMs: p.probationMs });
    // After the answer has gone out.
    setTimeout(() => deps.restart(), 300).unref();
    return { restarting: true, from, to: p.version };
  };

  /** The new version is up and connected: it stays, the launcher is refreshed from it, older versions go. */
  const confirm = async (l: InstallLayout): Promise<void> => {
    const r = await l.readRecord();
    if (r?.state !== 'probation' || r.to !== deps.version || (await l.currentVersion()) !== deps.version) return;
    await l.writeRecord({ ...r, state: 'confirmed', at: deps.clock.now() });
    const launcher = join(l.versionDir(deps.version), 'lib/launcher.mjs');
    if (await stat(launcher).catch(() => undefined)) {
      await copyFile(launcher, join(l.dir, 'launcher.mjs.new'));
      await rename(join(l.dir, 'launcher.mjs.new'), join(l.dir, 'launcher.mjs'));
    }
    await l.prune([deps.version, r.from]);
    log.info('agent update confirmed', { from: r.from, to: deps.version });
  };

  return {
    name: 'updates',
    handlers: {
      'agent.update': async (p) => {
        if (!layout) throw new EdgehookError('BAD_REQUEST', 'this agent does not run from a versioned install (no --install-dir / EDGEHOOK_INSTALL_DIR, which the launcher sets): reinstall it with install.sh to get updates');
        if (busy) throw new EdgehookError('CONFLICT', 'an agent update is already in progress');
        busy = true;
        try {
          return await install(layout, p);
        } catch (err) {
          busy = false;
          throw err;
        }
      },
      'agent.updateStatus': status,
    },
    streamKinds: {},
    onLinkState: (s) => {
      if (s.state === 'connected' && layout) confirm(layout).catch((err: unknown) => log.error('confirming the agent update failed', { err }));
    },
    close: () => undefined,
  };
}
