// What each module costs the lean agent: bundles one import the way the agent package is bundled
// (esbuild, ESM, minified syntax, ASCII, its plugins), runs it in a fresh `node --max-semi-space-size=1`, and
// reports VmRSS 300 ms after the import (the lowest of 3 runs) next to an empty bundle's, and how
// many zod schema instances the import built. shared/ and firmware-profiles/ schemas are built
// lazily as in the package (scripts/lazy-schemas.esbuild-plugin.mjs); EDGEHOOK_MODULE_COST_EAGER=1
// bundles them eager, as before.
// Usage: node scripts/agent-module-cost.mjs [NAME=SPECIFIER[+SPECIFIER...] ...] (specifiers resolve from agent/).
// EDGEHOOK_MODULE_COST_NODE_ARGS replaces the node flags (e.g. '--max-semi-space-size=1 --lite-mode').
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { englishOnlyZod, lazyMqttTransports, nodeBuiltinsForPolyfills, quietDebug, REQUIRE_BANNER } from './agent-bundle.esbuild-plugins.mjs';
import { lazySchemas } from './lazy-schemas.esbuild-plugin.mjs';

const NODE_ARGS = (process.env['EDGEHOOK_MODULE_COST_NODE_ARGS'] ?? '--max-semi-space-size=1').split(/\s+/).filter(Boolean);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const plugins = [englishOnlyZod, lazyMqttTransports, nodeBuiltinsForPolyfills, quietDebug, ...(process.env['EDGEHOOK_MODULE_COST_EAGER'] === '1' ? [] : [lazySchemas([join(root, 'shared/dist/'), join(root, 'firmware-profiles/dist/')])])];
const defaults = {
  'zod/mini (@edgehook/shared/zod)': '@edgehook/shared/zod',
  'mqtt (no transport evaluated)': 'mqtt',
  'mqtt SOCKS client': 'socks',
  'ws': 'ws',
  '@edgehook/firmware-profiles': '@edgehook/firmware-profiles',
  '@edgehook/shared (all schemas)': '@edgehook/shared',
  'shared RPC map': '../shared/dist/messages/rpc.js',
  '@edgehook/shared/transport': '@edgehook/shared/transport',
  'agent containers capability': './dist/containers/containers.js',
  'agent hardware capability': './dist/hardware/hardware.capability.js',
  'agent telemetry capability': './dist/telemetry/telemetry.js',
  'agent processes capability': './dist/processes/processes.capability.js',
  'agent.js (the whole graph main.ts imports)': './dist/agent.js',
};
const picked = process.argv.length > 2 ? Object.fromEntries(process.argv.slice(2).map((a) => a.split('='))) : defaults;
const dir = await mkdtemp(join(tmpdir(), 'edgehook-module-cost-'));
const rssAfterImport = async (contents) => {
  const outfile = join(dir, `b${Math.random().toString(36).slice(2)}.mjs`);
  await build({ stdin: { contents, resolveDir: join(root, 'agent'), loader: 'js' }, outfile, bundle: true, platform: 'node', target: 'node20', format: 'esm', minifySyntax: true, minifyWhitespace: true, charset: 'ascii', external: ['node-pty', 'serialport', 'onoff', 'i2c-bus', '@serialport/*'], banner: REQUIRE_BANNER, logLevel: 'error', plugins });
  // zod calls globalConfig.postProcessor once per schema it constructs.
  const probe = `let n = 0; globalThis.__zod_globalConfig = { postProcessor: () => n++ }; import(${JSON.stringify(outfile)}).then(() => setTimeout(() => console.log(/VmRSS:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1], n), 300))`;
  const runs = [0, 1, 2].map(() => execFileSync(process.execPath, [...NODE_ARGS, '-e', probe], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim().split(' ').map(Number));
  return { mb: Math.min(...runs.map((r) => r[0])) / 1024, schemas: runs[0][1] };
};
try {
  const { mb: empty } = await rssAfterImport('export {};');
  console.log(`${'empty bundle (bare node)'.padEnd(48)} ${empty.toFixed(1)} MB`);
  for (const [name, spec] of Object.entries(picked)) {
    const { mb, schemas } = await rssAfterImport(spec.split('+').map((one, i) => `import * as m${i} from ${JSON.stringify(one)}; globalThis.keep${i} = m${i};`).join('\n'));
    console.log(`${name.padEnd(48)} ${mb.toFixed(1)} MB  (+${(mb - empty).toFixed(1)}), ${schemas} zod schemas built`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
