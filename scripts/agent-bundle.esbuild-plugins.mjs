// esbuild plugins of the agent package (scripts/build-agent-package.mjs), shared with
// scripts/agent-module-cost.mjs so its figures are those of the package as bundled.
import { join, dirname } from 'node:path';

/** The bundle's banner: bundled CommonJS (mqtt's dependencies) calls require() for Node's built-ins. */
export const REQUIRE_BANNER = { js: "import { createRequire as __edgehookRequire } from 'node:module'; const require = __edgehookRequire(import.meta.url);" };

/**
 * zod's namespace re-exports all ~40 message locales (~300 KB of the bundle, kept alive as source);
 * the agent speaks English (zod's default): its locales index becomes just `en`.
 */
export const englishOnlyZod = {
  name: 'english-only-zod',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => (args.importer.includes('/zod/') ? { path: join(dirname(args.importer), '../locales/index.js'), namespace: 'zod-en' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'zod-en' }, (args) => ({ contents: `export { default as en } from ${JSON.stringify(join(dirname(args.path), 'en.js'))};`, loader: 'js', resolveDir: dirname(args.path) }));
  },
};

/**
 * mqtt.js and mqtt-packet make a `debug` logger per module as they load. The real `debug` loads
 * node's tty (to pick colours) and costs the idle agent about 0.6 MB in bare node; its loggers stay
 * silent unless DEBUG is set. So the bundle's `debug` is the real one only when DEBUG is set as the
 * agent starts (`systemctl edit edgehook-agent`: Environment=DEBUG=mqttjs*), and otherwise loggers
 * that do nothing, with the same shape. Runtime `debug.enable()` is therefore a no-op without DEBUG.
 */
export const quietDebug = {
  name: 'quiet-debug',
  setup(b) {
    b.onResolve({ filter: /^debug$/ }, async (args) => {
      if (args.pluginData === 'real') return undefined; // our own lookup below
      const real = await b.resolve('debug', { kind: 'require-call', resolveDir: args.resolveDir, pluginData: 'real' });
      return real.errors.length > 0 ? undefined : { path: real.path, namespace: 'quiet-debug' };
    });
    b.onLoad({ filter: /.*/, namespace: 'quiet-debug' }, (args) => ({
      loader: 'js',
      resolveDir: dirname(args.path),
      contents: `const quiet = (namespace) => {
  const log = () => {};
  return Object.assign(log, { namespace, enabled: false, useColors: false, color: 0, diff: 0, log, destroy: () => false, extend: (sub, d = ':') => quiet(namespace + d + sub) });
};
Object.assign(quiet, { enable() {}, disable: () => '', enabled: () => false, names: [], skips: [], formatters: {}, coerce: (v) => v, humanize: (ms) => ms + 'ms' });
module.exports = process.env.DEBUG ? require(${JSON.stringify(args.path)}) : quiet;
`,
    }));
  },
};

/**
 * mqtt.js requires all of its Node transports (tcp and tls, each with its SOCKS proxy client, and
 * websocket) on the first connect, whichever the URL needs. The TLS one (node's tls, some 1.2 MB
 * of RSS), the SOCKS client (socks, ip-address, smart-buffer, and node's assert which it loads) and
 * the websocket one (ws) are evaluated only when a connection really uses them: RSS that an agent
 * on mqtt:// never needs, nor one on mqtts:// the websocket and SOCKS parts (issue 12's lean
 * agent). Every module of mqtt's connect/ folder that asks for them gets the lazy stand-in;
 * `assertLazyMqtt` fails the build if the real one is reached any other way.
 */
const MQTT_CONNECT_DIR = /mqtt\/build\/lib\/connect\/[^/]+\.js$/;
const MQTT_TOPIC_ALIAS = /mqtt\/build\/lib\/topic-alias-send\.js$/;
const MQTT_LAZY = {
  './socks': { exports: ['default'] },
  './ws': { exports: ['streamBuilder', 'browserStreamBuilder'] },
  './tls': { exports: ['default'] },
};
export const lazyMqttTransports = {
  name: 'lazy-mqtt-transports',
  setup(b) {
    b.onResolve({ filter: /^\.\/(socks|ws|tls)$/ }, (args) => {
      const lazy = MQTT_LAZY[args.path];
      return lazy && MQTT_CONNECT_DIR.test(args.importer) ? { path: join(dirname(args.importer), `${args.path}.js`), namespace: 'lazy-mqtt', pluginData: lazy } : undefined;
    });
    // lru-cache holds MQTT 5 topic aliases (the agent speaks 3.1.1) and reads the global
    // `performance` as it loads, which loads all of perf_hooks: evaluated when an alias map is made.
    b.onResolve({ filter: /^lru-cache$/ }, async (args) => {
      if (!MQTT_TOPIC_ALIAS.test(args.importer)) return undefined;
      const real = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: 'require-call', importer: `${args.importer}.real` });
      return real.errors.length > 0 ? { errors: real.errors } : { path: real.path, namespace: 'lazy-mqtt', pluginData: { exports: [], classes: ['LRUCache'] } };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-mqtt' }, (args) => ({
      contents: [
        'let real;',
        `const load = () => (real ??= require(${JSON.stringify(args.path)}));`,
        'exports.__esModule = true;',
        ...args.pluginData.exports.map((name) => `exports.${name} = (...a) => load().${name}(...a);`),
        ...(args.pluginData.classes ?? []).map((name) => `exports.${name} = function (...a) { return new (load().${name})(...a); };`),
      ].join('\n'),
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

/** Throws unless each of mqtt's lazily evaluated transports is imported only by its lazy stand-in (esbuild metafile). */
export function assertLazyMqtt(metafile) {
  const inputs = Object.entries(metafile.inputs);
  for (const request of Object.keys(MQTT_LAZY)) {
    const file = `mqtt/build/lib/connect/${request.slice(2)}.js`;
    for (const [path] of inputs.filter(([p]) => p.endsWith(file) && !p.startsWith('lazy-mqtt:'))) {
      const eager = inputs.filter(([from, i]) => !from.startsWith('lazy-mqtt:') && i.imports.some((imp) => imp.path === path)).map(([from]) => from);
      if (eager.length > 0) throw new Error(`${file} is imported eagerly by ${eager.join(', ')}: the lazy-mqtt-transports plugin must cover that importer`);
    }
  }
  const lru = inputs.filter(([from, i]) => !from.startsWith('lazy-mqtt:') && i.imports.some((imp) => !imp.path.startsWith('lazy-mqtt:') && /node_modules\/lru-cache\//.test(imp.path))).map(([from]) => from);
  if (lru.length > 0) throw new Error(`lru-cache is imported eagerly by ${lru.join(', ')}: the lazy-mqtt-transports plugin must cover that importer`);
}

/**
 * The agent validates with zod/mini only (`@edgehook/shared/zod`): classic zod's module costs the
 * idle agent about 1.8 MB more (BENCHMARKS.md, "zod/mini"). Fails the build when anything in the
 * bundle imports classic zod (`from 'zod'` instead of the shared one).
 */
export function assertNoClassicZod(metafile) {
  const classic = Object.keys(metafile.inputs).filter((p) => /node_modules\/zod\/(v4\/)?classic\//.test(p));
  if (classic.length === 0) return;
  const importers = Object.entries(metafile.inputs).filter(([from, i]) => !from.includes('node_modules/zod/') && i.imports.some((imp) => imp.path.includes('node_modules/zod/') && !imp.path.includes('/mini/') && !imp.path.includes('/core/') && !imp.path.includes('/locales/'))).map(([from]) => from);
  throw new Error(`classic zod is in the agent bundle (imported by ${importers.join(', ') || 'unknown'}): import * as z from '@edgehook/shared/zod'`);
}

/** zod's share of the agent bundle when every schema imports the namespace: about 68 KB of 250 KB. */
export const ZOD_BUNDLE_BUDGET = 120_000;

/**
 * Fails the build when zod takes more than its budget of the bundle. That happens when any module
 * uses zod's `z` object (`import { z }`): esbuild then keeps every export of zod/mini, and the idle
 * agent evaluates and holds them all (0.7 MB of RSS, BENCHMARKS.md "zod tree-shaken").
 */
export function assertZodTreeShaken(metafile, budget = ZOD_BUNDLE_BUDGET) {
  let bytes = 0;
  for (const out of Object.values(metafile.outputs)) for (const [p, i] of Object.entries(out.inputs)) if (p.includes('node_modules/zod/')) bytes += i.bytesInOutput;
  if (bytes > budget) throw new Error(`zod takes ${bytes} bytes of the agent bundle (budget ${budget}): a module uses zod's \`z\` object; import the namespace instead, \`import * as z from '@edgehook/shared/zod'\``);
  return bytes;
}

/**
 * Throws when the agent's own code (not node_modules) imports one of shared's LAZY_BUILTINS
 * statically: esbuild hoists that import to the top of the bundle, so every agent would load it
 * at start. They go through @edgehook/shared/node-builtins instead.
 */
export function assertLazyBuiltins(metafile, lazy) {
  const eager = Object.entries(metafile.inputs)
    .filter(([from]) => !from.includes('node_modules/'))
    .flatMap(([from, i]) => i.imports.filter((imp) => imp.kind === 'import-statement' && lazy.includes(imp.path)).map((imp) => `${from} imports ${imp.path}`));
  if (eager.length > 0) throw new Error(`static imports the agent must load lazily (use @edgehook/shared/node-builtins):\n  ${eager.join('\n  ')}`);
}

/**
 * Packages that give browsers what Node has built in, resolved to Node's own: readable-stream 4 is
 * Node's stream module copied out (with abort-controller, event-target-shim, string_decoder,
 * safe-buffer and a process shim for browsers), inherits and process-nextick-args pick Node's
 * util.inherits and process themselves on Node, and worker-timers runs mqtt's keepalive timers in a
 * Web Worker, which mqtt picks only in a browser (lib/get-timer.js: `auto` is the native timers on
 * Node). The bundle then carries and evaluates one stream implementation instead of two.
 */
const NODE_BUILTIN_FOR = { 'readable-stream': 'node:stream', string_decoder: 'node:string_decoder', 'safe-buffer': 'node:buffer', 'process-nextick-args': 'node:process' };
export const nodeBuiltinsForPolyfills = {
  name: 'node-builtins-for-polyfills',
  setup(b) {
    b.onResolve({ filter: /^(readable-stream|string_decoder|safe-buffer|process-nextick-args)$/ }, (args) => ({ path: NODE_BUILTIN_FOR[args.path], external: true }));
    b.onResolve({ filter: /^inherits$/ }, () => ({ path: 'inherits', namespace: 'node-inherits' }));
    b.onLoad({ filter: /.*/, namespace: 'node-inherits' }, () => ({ contents: "module.exports = require('node:util').inherits;", loader: 'js' }));
    b.onResolve({ filter: /^worker-timers$/ }, () => ({ path: 'worker-timers', namespace: 'node-timers' }));
    b.onLoad({ filter: /.*/, namespace: 'node-timers' }, () => ({
      contents: 'export const { setInterval, clearInterval, setTimeout, clearTimeout } = globalThis;',
      loader: 'js',
    }));
  },
};
