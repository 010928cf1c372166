// mqtt.js's TLS, SOCKS and websocket transports in the agent bundle (scripts/agent-bundle.esbuild-plugins.mjs)
// are evaluated only when a connection uses them: the build's guard refuses a bundle where any of
// mqtt's modules reaches them eagerly, a real mqtt:// connect through the bundle loads net but not
// tls nor the SOCKS client (nor node's assert, which only it requires) nor perf_hooks (lru-cache
// reads the global `performance` as it loads) nor tty (the real `debug`, used only when DEBUG is
// set), and mqtts:// loads tls. The agent's own code reaches node:tls, node:crypto, node:http(s)
// and node:dns/promises only through @edgehook/shared/node-builtins: the build refuses a static import of them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build, type Metafile, type Plugin } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LAZY_BUILTINS } from '@edgehook/shared/node-builtins';

const root = fileURLToPath(new URL('../..', import.meta.url));
const plugins: { lazyMqttTransports: Plugin; nodeBuiltinsForPolyfills: Plugin; quietDebug: Plugin; assertLazyMqtt: (m: Metafile) => void; assertLazyBuiltins: (m: Metafile, lazy: readonly string[]) => void; REQUIRE_BANNER: { js: string } } = await import(pathToFileURL(join(root, 'scripts/agent-bundle.esbuild-plugins.mjs')).href);

let dir: string;

async function bundle(name: string, use: Plugin[], contents = "export { connect } from 'mqtt';"): Promise<{ file: string; metafile: Metafile }> {
  const outfile = join(dir, `${name}.mjs`);
  const r = await build({
    stdin: { contents, resolveDir: join(root, 'shared'), loader: 'js' },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    metafile: true,
    logLevel: 'error',
    banner: plugins.REQUIRE_BANNER,
    plugins: use,
  });
  return { file: outfile, metafile: r.metafile };
}

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgehook-lazy-mqtt-'));
});

test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('the guard passes the bundle as the package builds it, and refuses one where tcp.js and tls.js reach the SOCKS client', async () => {
  const lazy = await bundle('lazy', [plugins.lazyMqttTransports, plugins.nodeBuiltinsForPolyfills]);
  plugins.assertLazyMqtt(lazy.metafile);
  const stand = Object.keys(lazy.metafile.inputs).filter((p) => p.startsWith('lazy-mqtt:'));
  for (const t of ['socks', 'ws', 'tls']) assert.ok(stand.some((p) => p.endsWith(`/connect/${t}.js`)), `${t}: ${stand.join(', ')}`);
  const eager = await bundle('eager', [plugins.nodeBuiltinsForPolyfills]);
  const refused = (() => {
    try {
      plugins.assertLazyMqtt(eager.metafile);
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    return 'the eager bundle passed the guard';
  })();
  assert.match(refused, /connect\/socks\.js is imported eagerly by .*connect\/tcp\.js/);
  assert.match(refused, /connect\/tls\.js/);
});

for (const [scheme, tls, debug] of [['mqtt', false, false], ['mqtts', true, false], ['mqtt', false, true]] as const) {
  const what = debug ? 'with DEBUG set: tty and the real debug, which logs' : `net${tls ? ' and tls' : ', not tls'}, and neither the SOCKS client nor assert nor perf_hooks nor tty`;
  test(`a real ${scheme}:// connect through the bundle loads ${what}`, async () => {
    const name = `${scheme}${debug ? '-debug' : ''}`;
    const lazy = await bundle(`lazy-run-${name}`, [plugins.lazyMqttTransports, plugins.nodeBuiltinsForPolyfills, plugins.quietDebug]);
    const script = join(dir, `connect-${name}.mjs`);
    // A TCP server that takes the connection and says nothing: enough for mqtt to load its transports and dial.
    await writeFile(
      script,
      `import { createServer } from 'node:net';
const { connect } = await import(${JSON.stringify(pathToFileURL(lazy.file).href)});
const server = createServer((s) => {
  const loaded = process.moduleLoadList;
  process.stdout.write(JSON.stringify({ net: loaded.includes('NativeModule net'), tls: loaded.includes('NativeModule tls'), assert: loaded.includes('NativeModule assert'), perfHooks: loaded.includes('NativeModule perf_hooks'), tty: loaded.includes('NativeModule tty') }));
  s.destroy(); client.end(true); server.close();
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const client = connect('${scheme}://127.0.0.1:' + server.address().port, { reconnectPeriod: 0, connectTimeout: 5000 });
client.on('error', () => {});
`,
    );
    const env = { ...process.env, DEBUG: debug ? 'mqttjs*' : '' };
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 20_000, env });
    assert.is(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout), { net: true, tls, assert: false, perfHooks: false, tty: debug });
    if (debug) assert.match(r.stderr, /mqttjs:client/);
    else assert.is(r.stderr, '');
  });
}

test("lru-cache (MQTT 5 topic aliases) is evaluated when an alias map is made, and works through its stand-in", async () => {
  const lazy = await bundle('lazy-lru', [plugins.lazyMqttTransports, plugins.nodeBuiltinsForPolyfills], "export { default as TopicAliasSend } from 'mqtt/lib/topic-alias-send';");
  plugins.assertLazyMqtt(lazy.metafile);
  const script = join(dir, 'lru.mjs');
  await writeFile(
    script,
    `const { TopicAliasSend } = await import(${JSON.stringify(pathToFileURL(lazy.file).href)});
const before = process.moduleLoadList.includes('NativeModule perf_hooks');
const aliases = new TopicAliasSend(2);
aliases.put('a/b', 1);
aliases.put('c/d', 2);
process.stdout.write(JSON.stringify({ before, alias: aliases.getAliasByTopic('a/b'), topic: aliases.getTopicByAlias(2) }));
`,
  );
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 20_000 });
  assert.is(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), { before: false, alias: 1, topic: 'c/d' });
  const eager = await bundle('eager-lru', [plugins.nodeBuiltinsForPolyfills], "export { default as TopicAliasSend } from 'mqtt/lib/topic-alias-send';");
  assert.throws(() => plugins.assertLazyMqtt(eager.metafile), /lru-cache is imported eagerly by .*topic-alias-send\.js/);
});

test('the build refuses agent code that imports node:crypto or node:tls statically, and passes it through @edgehook/shared/node-builtins', async () => {
  const lazy: readonly string[] = LAZY_BUILTINS;
  const eager = await bundle('eager-crypto', [], "import { randomBytes } from 'node:crypto'; import { connect } from 'node:tls'; export const f = () => [randomBytes(4), connect];");
  const refused = (() => {
    try {
      plugins.assertLazyBuiltins(eager.metafile, lazy);
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    return 'the eager bundle passed the guard';
  })();
  assert.match(refused, /<stdin> imports node:crypto/);
  assert.match(refused, /<stdin> imports node:tls/);
  const through = await bundle('lazy-crypto', [], "import { nodeCrypto } from './dist/node-builtins.lazy.js'; export const f = () => nodeCrypto().randomBytes(4);");
  plugins.assertLazyBuiltins(through.metafile, lazy);
  assert.not.ok(Object.values(through.metafile.inputs).some((i) => i.imports.some((imp) => imp.path === 'node:crypto')));
});

test.run();
