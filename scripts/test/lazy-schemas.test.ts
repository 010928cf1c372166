// The agent bundle's lazily built schemas (scripts/lazy-schemas.esbuild-plugin.mjs) must behave
// as the eager ones: @edgehook/shared bundled both ways, every exported schema (and each RPC
// method's, stream kind's and topic's) gives the same parse results and issues, and the lazy
// bundle builds only a few schemas at import. (Not compared: JSON Schema generation, which keys on
// object identity, and a stand-in is not the schema object; the agent never generates one.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from 'esbuild';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = "export * as m from '@edgehook/shared'; export { z } from '@edgehook/shared/zod';";
const SAMPLES: unknown[] = [undefined, null, {}, [], 'x', '', 1, -1, 1.5, true, { type: 'open' }, { id: 'a', method: 'ping', params: {}, deadline: 1 }];

let dir: string;
let eager: any;
let lazy: any;
let builtAtImport = 0;
let builtEager = 0;

async function bundle(name: string, plugins: unknown[]): Promise<string> {
  const outfile = join(dir, `${name}.mjs`);
  await build({ stdin: { contents: ENTRY, resolveDir: join(root, 'agent'), loader: 'js' }, outfile, bundle: true, platform: 'node', format: 'esm', logLevel: 'error', plugins: plugins as never[] });
  return pathToFileURL(outfile).href;
}

/** Imports a bundle, counting the zod schemas constructed meanwhile (zod's post-processor hook). */
async function importCounting(url: string): Promise<{ mod: any; built: number }> {
  const g = globalThis as { __zod_globalConfig?: { postProcessor?: () => void } };
  let built = 0;
  g.__zod_globalConfig = { postProcessor: () => built++ };
  const mod = await import(url);
  g.__zod_globalConfig.postProcessor = undefined;
  return { mod, built };
}

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgehook-lazy-schemas-'));
  const { lazySchemas } = await import(pathToFileURL(join(root, 'scripts/lazy-schemas.esbuild-plugin.mjs')).href);
  const e = await importCounting(await bundle('eager', []));
  const l = await importCounting(await bundle('lazy', [lazySchemas([join(root, 'shared/dist/'), join(root, 'firmware-profiles/dist/')])]));
  [eager, builtEager, lazy, builtAtImport] = [e.mod, e.built, l.mod, l.built];
});

test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const isSchema = (v: unknown): boolean => typeof v === 'object' && v !== null && '_zod' in v;

/** What a schema does, as data: its type, an object's keys, its parse results on the samples. */
function behaviour(schema: any): string {
  const parses = SAMPLES.map((s) => {
    const r = schema.safeParse(s);
    return r.success ? { ok: r.data } : { issues: r.error.issues };
  });
  return JSON.stringify({ type: schema._zod.def.type, keys: schema.shape ? Object.keys(schema.shape) : undefined, parses });
}

function schemasOf(mod: any): Map<string, any> {
  const out = new Map<string, any>();
  for (const [name, v] of Object.entries(mod)) if (isSchema(v)) out.set(name, v);
  for (const [method, def] of Object.entries<any>(mod.RpcMethods)) {
    out.set(`rpc ${method} params`, def.params);
    out.set(`rpc ${method} result`, def.result);
  }
  for (const [kind, def] of Object.entries<any>(mod.StreamKinds)) {
    out.set(`stream ${kind} spec`, def.spec);
    out.set(`stream ${kind} opened`, def.opened);
  }
  for (const [topic, def] of Object.entries<any>(mod.Topics)) out.set(`topic ${topic}`, def.schema);
  return out;
}

test('the lazy bundle builds few schemas at import', () => {
  assert.ok(builtEager > 1000, `eager bundle built ${builtEager}`);
  assert.ok(builtAtImport < builtEager / 20, `lazy bundle built ${builtAtImport} of ${builtEager} at import`);
});

test('every schema behaves as the eager one', () => {
  const want = schemasOf(eager.m);
  const got = schemasOf(lazy.m);
  assert.equal([...got.keys()].sort(), [...want.keys()].sort());
  assert.ok(want.size > 300, `only ${want.size} schemas compared`);
  for (const [name, schema] of want) assert.is(behaviour(got.get(name)), behaviour(schema), name);
});

test('lazy schemas compose, derive and check classes as zod schemas do', () => {
  const { m, z } = lazy;
  assert.ok(m.RpcRequest instanceof z.ZodMiniObject);
  const extended = z.extend(m.RpcRequest, { extra: z.optional(z.number()) });
  assert.equal(extended.parse({ id: 'a', method: 'ping', params: {}, deadline: 1, extra: 2 }), { id: 'a', method: 'ping', params: {}, deadline: 1, extra: 2 });
  assert.equal(z.object({ inner: z.optional(m.RpcRequest) }).parse({}), {});
  assert.equal(Object.keys(m.RpcRequest.shape), Object.keys(eager.m.RpcRequest.shape));
  assert.throws(() => m.RpcMethods.ping.params.parse({ sentAt: 1, extra: true }), (err: unknown) => err instanceof z.core.$ZodError);
});

test.run();
