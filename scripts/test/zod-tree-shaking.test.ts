// The agent bundle keeps only the zod it uses when schemas import zod as a namespace
// (`import * as z from '@edgehook/shared/zod'`), and its build refuses a bundle where zod's `z`
// object (which holds every export) is in use. English messages (shared/zod's `config`) must survive.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build, type Metafile, type Plugin } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const plugins: { englishOnlyZod: Plugin; assertZodTreeShaken: (m: Metafile, budget?: number) => number; ZOD_BUNDLE_BUDGET: number } = await import(pathToFileURL(join(root, 'scripts/agent-bundle.esbuild-plugins.mjs')).href);

let dir: string;

async function bundle(name: string, contents: string): Promise<{ file: string; metafile: Metafile }> {
  const outfile = join(dir, `${name}.mjs`);
  const r = await build({ stdin: { contents, resolveDir: join(root, 'agent'), loader: 'js' }, outfile, bundle: true, platform: 'node', format: 'esm', metafile: true, logLevel: 'error', plugins: [plugins.englishOnlyZod] });
  return { file: outfile, metafile: r.metafile };
}

const SCHEMA = 'export const parse = (v) => { const r = z.safeParse(z.strictObject({ name: z.string().check(z.maxLength(3)) }), v); return r.success ? r.data : r.error.issues.map((i) => i.message); };';

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgehook-zod-shake-'));
});

test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a namespace import keeps a fraction of zod, and its messages are English', async () => {
  const shaken = await bundle('namespace', `import * as z from '@edgehook/shared/zod'; ${SCHEMA}`);
  const bytes = plugins.assertZodTreeShaken(shaken.metafile);
  assert.ok(bytes > 10_000 && bytes < plugins.ZOD_BUNDLE_BUDGET, `zod bytes ${bytes}`);
  const script = `const { parse } = await import(${JSON.stringify(pathToFileURL(shaken.file).href)}); console.log(JSON.stringify([parse({ name: 'abc' }), parse({ name: 5 }), parse({ name: 'abcd' })]));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), [{ name: 'abc' }, ['Invalid input: expected string, received number'], ['Too big: expected string to have <=3 characters']]);
});

test("the build refuses a bundle that uses zod's z object", async () => {
  const whole = await bundle('object', `import { z } from '@edgehook/shared/zod'; ${SCHEMA}`);
  assert.throws(() => plugins.assertZodTreeShaken(whole.metafile), (err: unknown) => err instanceof Error && /zod takes \d+ bytes of the agent bundle \(budget \d+\): a module uses zod's `z` object/.test(err.message));
});

test.run();
