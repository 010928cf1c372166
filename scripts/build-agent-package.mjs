// The lean agent package for devices: the agent bundled into one file (esbuild), the board
// profiles, and a package.json that lists only the native modules the agent loads lazily, so a
// Pi needs no TypeScript build, no web build and no control-plane dependencies.
// Output: agent/dist-package/edgehook-agent/ and agent/dist-package/edgehook-agent.tgz.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAZY_BUILTINS } from '../shared/dist/node-builtins.lazy.js';
import { assertLazyBuiltins, assertLazyMqtt, assertNoClassicZod, assertZodTreeShaken, englishOnlyZod, lazyMqttTransports, nodeBuiltinsForPolyfills, quietDebug, REQUIRE_BANNER } from './agent-bundle.esbuild-plugins.mjs';
import { lazySchemas } from './lazy-schemas.esbuild-plugin.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'agent/dist-package');
const pkgDir = join(out, 'edgehook-agent');
const agentPkg = JSON.parse(await readFile(join(root, 'agent/package.json'), 'utf8'));
const NATIVE = ['node-pty', 'serialport', 'onoff', 'i2c-bus'];

// Schemas of these packages are built on first use in the bundle (scripts/lazy-schemas.esbuild-plugin.mjs).
const LAZY_SCHEMA_DIRS = [join(root, 'shared/dist/'), join(root, 'firmware-profiles/dist/')];
const lazyStats = { files: 0, schemas: 0 };

await rm(out, { recursive: true, force: true });
await mkdir(join(pkgDir, 'lib'), { recursive: true });
const result = await build({
  entryPoints: { 'edgehook-agent': join(root, 'agent/dist/main.js') },
  outdir: join(pkgDir, 'lib'),
  outExtension: { '.js': '.mjs' },
  // What a capability imports on first use goes into its own chunk, read only then: the idle agent
  // keeps about 1 MB less (BENCHMARKS.md, "Split bundle") than with one file holding every capability.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Whitespace and syntax only (names stay for readable stack traces); ASCII so V8 keeps the
  // source as a one-byte string (zod's locales are not Latin-1: two bytes per character otherwise).
  minifySyntax: true,
  minifyWhitespace: true,
  charset: 'ascii',
  legalComments: 'linked',
  metafile: true,
  // Native modules stay outside: they are optional and loaded on first use.
  external: [...NATIVE, '@serialport/*'],
  banner: REQUIRE_BANNER,
  logLevel: 'warning',
  plugins: [englishOnlyZod, lazyMqttTransports, nodeBuiltinsForPolyfills, quietDebug, lazySchemas(LAZY_SCHEMA_DIRS, lazyStats)],
});
assertLazyMqtt(result.metafile);
assertNoClassicZod(result.metafile);
assertZodTreeShaken(result.metafile);
assertLazyBuiltins(result.metafile, LAZY_BUILTINS);
// These find ../package.json and ../profiles/ from import.meta.url: in a chunk (lib/chunks/) they would look in lib/.
const entryOutput = Object.entries(result.metafile.outputs).find(([p]) => p.endsWith('lib/edgehook-agent.mjs'))?.[1];
for (const file of ['agent/dist/version.js', 'firmware-profiles/dist/registry.js']) {
  if (!entryOutput || !Object.keys(entryOutput.inputs).some((p) => p.endsWith(file))) throw new Error(`${file} must be in lib/edgehook-agent.mjs, not in a chunk: it resolves paths from its own location`);
}
await writeFile(join(out, 'meta.json'), JSON.stringify(result.metafile));
// The launcher (docs/agent-updates.md): Node built-ins only, installed as <install>/launcher.mjs.
await build({
  entryPoints: [join(root, 'agent/dist/updates/launcher.js')],
  outfile: join(pkgDir, 'lib/launcher.mjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minifySyntax: true,
  logLevel: 'warning',
});
await cp(join(root, 'firmware-profiles/profiles'), join(pkgDir, 'profiles'), { recursive: true });
await mkdir(join(pkgDir, 'bin'), { recursive: true });
await writeFile(join(pkgDir, 'bin/edgehook-agent'), "#!/usr/bin/env node\nimport '../lib/edgehook-agent.mjs';\n");
await chmod(join(pkgDir, 'bin/edgehook-agent'), 0o755);
await cp(join(root, 'agent/install/install.sh'), join(pkgDir, 'install.sh'));
const optionalDependencies = Object.fromEntries(NATIVE.map((n) => [n, agentPkg.dependencies[n]]));
await writeFile(
  join(pkgDir, 'package.json'),
  JSON.stringify({ name: 'edgehook-agent', version: agentPkg.version, private: true, type: 'module', description: agentPkg.description, bin: { 'edgehook-agent': './bin/edgehook-agent' }, engines: { node: '>=20' }, optionalDependencies }, null, 2) + '\n',
);
// A reproducible-enough tarball: fixed owner and order, so upgrades compare by checksum.
execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-czf', join(out, 'edgehook-agent.tgz'), '-C', out, 'edgehook-agent']);
const tgz = await readFile(join(out, 'edgehook-agent.tgz'));
await writeFile(join(out, 'edgehook-agent.tgz.sha256'), `${createHash('sha256').update(tgz).digest('hex')}  edgehook-agent.tgz\n`);
const bundleBytes = (await readFile(join(pkgDir, 'lib/edgehook-agent.mjs'))).length;
const chunks = (await readdir(join(pkgDir, 'lib/chunks'))).filter((f) => f.endsWith('.mjs'));
let chunkBytes = 0;
for (const c of chunks) chunkBytes += (await readFile(join(pkgDir, 'lib/chunks', c))).length;
const files = await readdir(pkgDir, { recursive: true });
process.stdout.write(`agent package: ${files.length} files, ${lazyStats.schemas} schemas built lazily in ${lazyStats.files} modules, entry ${(bundleBytes / 1024).toFixed(0)} KB and ${chunks.length} chunks ${(chunkBytes / 1024).toFixed(0)} KB, tarball ${(tgz.length / 1024).toFixed(0)} KB -> agent/dist-package/\n`);
