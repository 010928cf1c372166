// esbuild plugins of the agent package (scripts/build-agent-package.mjs), shared with
// scripts/agent-module-cost.mjs so its figures are those of the package as bundled.
import { join, dirname } from 'node:path';

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
 * mqtt.js requires all of its Node transports (tcp with its SOCKS proxy client, tls, websocket)
 * on the first connect, whichever the URL needs. The SOCKS client (socks, ip-address, smart-buffer)
 * and the websocket one (ws) are evaluated only when a connection really uses them: about 2.8 MB
 * and 4.5 MB of RSS that an agent on mqtt:// or mqtts:// never needs (issue 12's lean agent).
 */
const MQTT_LAZY = [
  { importer: /mqtt\/build\/lib\/connect\/tcp\.js$/, request: './socks', exports: ['default'] },
  { importer: /mqtt\/build\/lib\/connect\/index\.js$/, request: './ws', exports: ['streamBuilder', 'browserStreamBuilder'] },
];
export const lazyMqttTransports = {
  name: 'lazy-mqtt-transports',
  setup(b) {
    b.onResolve({ filter: /^\.\/(socks|ws)$/ }, (args) => {
      const lazy = MQTT_LAZY.find((l) => l.request === args.path && l.importer.test(args.importer));
      return lazy ? { path: join(dirname(args.importer), `${args.path}.js`), namespace: 'lazy-mqtt', pluginData: lazy } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-mqtt' }, (args) => ({
      contents: [
        'let real;',
        `const load = () => (real ??= require(${JSON.stringify(args.path)}));`,
        'exports.__esModule = true;',
        ...args.pluginData.exports.map((name) => `exports.${name} = (...a) => load().${name}(...a);`),
      ].join('\n'),
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};


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
