import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as z from '@edgehook/shared/zod';
import { AgentVersion, compareAgentVersions, decodeJson, EdgehookError, Sha256Hex, type AgentPackageList, type AgentPackageView, type Clock } from '@edgehook/shared';
import type { PackageSigner } from './signing-key.js';

const run = promisify(execFile);

/** `<data-dir>/agent-packages/<version>/manifest.json`, beside its edgehook-agent.tgz. */
const Manifest = z.object({ version: AgentVersion, sha256: Sha256Hex, size: z.number().check(z.int(), z.positive()), publishedAt: z.string() });
type Manifest = z.infer<typeof Manifest>;
const PackageJson = z.object({ version: z.string() });

export interface AgentPackage extends AgentPackageView {
  file: string;
}

const downloadPath = (version: string): string => `/downloads/agent/${encodeURIComponent(version)}/edgehook-agent.tgz`;

/**
 * The agent packages this control plane serves by version: the one it was built with
 * (agent/dist-package, its version from its package.json) and those published into the data dir.
 * Published versions are immutable; one with the built one's version takes its place.
 */
export class PackageCatalog {
  private builtCache: { mtimeMs: number; pkg: AgentPackage | undefined } | undefined;

  constructor(private readonly deps: { dataDir: string; builtDir: string; signer: PackageSigner; clock: Clock }) {}

  private get publishedDir(): string {
    return join(this.deps.dataDir, 'agent-packages');
  }

  private view(m: Manifest, source: AgentPackage['source'], file: string): AgentPackage {
    return { ...m, signature: this.deps.signer.sign(m.version, m.sha256), source, path: downloadPath(m.version), file };
  }

  private async built(): Promise<AgentPackage | undefined> {
    const file = join(this.deps.builtDir, 'edgehook-agent.tgz');
    const st = await stat(file).catch(() => undefined);
    if (!st) return undefined;
    if (this.builtCache?.mtimeMs === st.mtimeMs) return this.builtCache.pkg;
    const meta = decodeJson(PackageJson, await readFile(join(this.deps.builtDir, 'edgehook-agent/package.json'), 'utf8').catch(() => ''));
    const version = meta.ok ? AgentVersion.safeParse(meta.value.version) : undefined;
    let pkg: AgentPackage | undefined;
    if (version?.success) {
      const bytes = await readFile(file);
      pkg = this.view({ version: version.data, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, publishedAt: st.mtime.toISOString() }, 'built', file);
    }
    this.builtCache = { mtimeMs: st.mtimeMs, pkg };
    return pkg;
  }

  private async published(): Promise<AgentPackage[]> {
    const names = await readdir(this.publishedDir).catch(() => [] as string[]);
    const out: AgentPackage[] = [];
    for (const name of names) {
      if (!AgentVersion.safeParse(name).success) continue;
      const m = decodeJson(Manifest, await readFile(join(this.publishedDir, name, 'manifest.json'), 'utf8').catch(() => ''));
      if (m.ok && m.value.version === name) out.push(this.view(m.value, 'published', join(this.publishedDir, name, 'edgehook-agent.tgz')));
    }
    return out;
  }

  /** Every package, newest version first. */
  async list(): Promise<AgentPackage[]> {
    const published = await this.published();
    const built = await this.built();
    const all = built && !published.some((p) => p.version === built.version) ? [...published, built] : published;
    return all.sort((a, b) => compareAgentVersions(b.version, a.version));
  }

  async listView(): Promise<AgentPackageList> {
    const packages = (await this.list()).map(({ file: _file, ...view }) => view);
    return { signingKey: this.deps.signer.publicKey, latest: packages[0]?.version ?? null, packages };
  }

  async latest(): Promise<AgentPackage | undefined> {
    return (await this.list())[0];
  }

  /** The package of this version, or NOT_FOUND naming the ones there are. */
  async get(version: string): Promise<AgentPackage> {
    const all = await this.list();
    const pkg = all.find((p) => p.version === version);
    if (!pkg) throw new EdgehookError('NOT_FOUND', `no agent package ${version}; published: ${all.map((p) => p.version).join(', ') || 'none'}`);
    return pkg;
  }

  /**
   * Adds a package: a gzip tarball holding edgehook-agent/lib/edgehook-agent.mjs and an
   * edgehook-agent/package.json whose version is `version` (what the agent will report).
   */
  async publish(version: string, bytes: Buffer): Promise<AgentPackage> {
    if ((await this.list()).some((p) => p.version === version && p.source === 'published')) throw new EdgehookError('CONFLICT', `agent package ${version} is already published; versions are immutable, publish a new one`);
    const dir = join(this.publishedDir, version);
    const tmp = join(this.publishedDir, `.${version}.${process.pid}.${this.deps.clock.now()}`);
    await mkdir(tmp, { recursive: true, mode: 0o700 });
    try {
      const file = join(tmp, 'edgehook-agent.tgz');
      await writeFile(file, bytes, { mode: 0o644 });
      await checkTarball(file, version);
      const manifest: Manifest = { version, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, publishedAt: new Date(this.deps.clock.now()).toISOString() };
      await writeFile(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
      await rename(tmp, dir);
      return this.view(manifest, 'published', join(dir, 'edgehook-agent.tgz'));
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}

async function checkTarball(file: string, version: string): Promise<void> {
  const bad = (why: string): EdgehookError => new EdgehookError('BAD_REQUEST', `not an agent package: ${why} (build one with npm run build:agent; it is agent/dist-package/edgehook-agent.tgz)`);
  let listing: string;
  try {
    listing = (await run('tar', ['-tzf', file], { maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch {
    throw bad('not a gzip tarball');
  }
  const entries = new Set(listing.split('\n').map((l) => l.replace(/^\.\//, '')));
  if (!entries.has('edgehook-agent/lib/edgehook-agent.mjs')) throw bad('no edgehook-agent/lib/edgehook-agent.mjs in it');
  if ([...entries].some((e) => e.startsWith('/') || e.split('/').includes('..'))) throw bad('an entry leaves the package directory');
  const pkgJson = await run('tar', ['-xzOf', file, 'edgehook-agent/package.json']).then((r) => r.stdout, () => '');
  const meta = decodeJson(PackageJson, pkgJson);
  if (!meta.ok) throw bad('no readable edgehook-agent/package.json');
  if (meta.value.version !== version) throw new EdgehookError('BAD_REQUEST', `the package says it is version ${meta.value.version}, not ${version}: the version an agent reports comes from its package.json`);
}
