// mqtt.js's SOCKS and websocket transports in the agent bundle (scripts/agent-bundle.esbuild-plugins.mjs)
// are evaluated only when a connection uses them: the build's guard refuses a bundle where any of
// mqtt's modules reaches them eagerly, and a real connect through the bundle loads tls and net but
// not the SOCKS client (nor node's assert, which only it requires).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build, type Metafile, type Plugin } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const plugins: { lazyMqttTransports: Plugin; nodeBuiltinsForPolyfills: Plugin; assertLazyMqtt: (m: Metafile) => void; REQUIRE_BANNER: { js: string } } = await import(pathToFileURL(join(root, 'scripts/agent-bundle.esbuild-plugins.mjs')).href);

let dir: string;

async function bundle(name: string, use: Plugin[]): Promise<{ file: string; metafile: Metafile }> {
  const outfile = join(dir, `${name}.mjs`);
  const r = await build({
    stdin: { contents: "export { connect } from 'mqtt';", resolveDir: join(root, 'shared'), loader: 'js' },
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
  assert.ok(stand.some((p) => p.endsWith('/connect/socks.js')) && stand.some((p) => p.endsWith('/connect/ws.js')), stand.join(', '));
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

test('a real connect through the bundle loads tls and net, not the SOCKS client or assert', async () => {
  const lazy = await bundle('lazy-run', [plugins.lazyMqttTransports, plugins.nodeBuiltinsForPolyfills]);
  const script = join(dir, 'connect.mjs');
  // A TCP server that takes the connection and says nothing: enough for mqtt to load its transports and dial.
  await writeFile(
    script,
    `import { createServer } from 'node:net';
const { connect } = await import(${JSON.stringify(pathToFileURL(lazy.file).href)});
const server = createServer((s) => {
  const loaded = process.moduleLoadList;
  process.stdout.write(JSON.stringify({ net: loaded.includes('NativeModule net'), tls: loaded.includes('NativeModule tls'), assert: loaded.includes('NativeModule assert') }));
  s.destroy(); client.end(true); server.close();
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const client = connect('mqtt://127.0.0.1:' + server.address().port, { reconnectPeriod: 0, connectTimeout: 5000 });
client.on('error', () => {});
`,
  );
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 20_000 });
  assert.is(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), { net: true, tls: true, assert: false });
});

test.run();
