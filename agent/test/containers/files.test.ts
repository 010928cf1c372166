// Files inside a server's data directory, against a real temp directory: operations and a corpus of
// hostile paths that must all be refused without touching anything outside the root.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, mkdir, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EdgehookError } from '@edgehook/shared';
import { FilesService } from '../../src/containers/files.service.js';

let base = '';
let root = '';
let outside = '';
let files: FilesService;

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof EdgehookError) return err.code;
    throw err;
  }
}

async function readAll(p: Promise<{ stream: NodeJS.ReadableStream }>): Promise<string> {
  const { stream } = await p;
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts).toString();
}

test.before.each(async () => {
  base = await mkdtemp(join(tmpdir(), 'eh-files-'));
  files = new FilesService({ stateDir: join(base, 'state') });
  root = await files.ensureDataDir('web');
  outside = join(base, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'secret'), 'SECRET');
  await writeFile(join(root, 'hello.txt'), 'hello');
  await mkdir(join(root, 'sub/deeper'), { recursive: true });
  await writeFile(join(root, 'sub/deeper/f.txt'), 'deep');
  await symlink('/etc', join(root, 'etc-link'));
  await symlink(outside, join(root, 'out-dir'));
  await symlink(join(outside, 'secret'), join(root, 'secret-link'));
  await symlink('secret-link', join(root, 'chain1'));
  await symlink('chain1', join(root, 'chain2'));
  await symlink(join(outside, 'nope'), join(root, 'dangling-out'));
  await symlink('loop-b', join(root, 'loop-a'));
  await symlink('loop-a', join(root, 'loop-b'));
  await symlink('hello.txt', join(root, 'inner-link'));
  await symlink('../..', join(root, 'sub/up'));
});
test.after.each(async () => {
  await rm(base, { recursive: true, force: true });
});

const corpus = [
  '..',
  '../',
  '../outside/secret',
  'a/../../x',
  'sub/../../outside/secret',
  'sub/deeper/../../../outside',
  '/../../etc/passwd',
  '/..',
  '//../outside',
  '\\..\\..\\etc\\passwd'.replace(/\\/g, '/'),
  'etc-link/passwd',
  'etc-link',
  'out-dir/secret',
  'out-dir',
  'secret-link',
  'chain2',
  'chain1',
  'dangling-out',
  'loop-a',
  'sub/up/outside/secret',
  'sub/up',
  './../outside/secret',
  'sub/./../../outside',
];

for (const path of corpus) {
  test(`refused: ${JSON.stringify(path)}`, async () => {
    for (const op of [() => files.stat('web', path), () => files.list('web', path), () => files.read('web', path).then(({ stream }) => stream.destroy())]) {
      assert.is(await code(op()), 'FORBIDDEN', `${path} must be refused`);
    }
    assert.is(await code(files.write('web', path).then((u) => u.abort())), 'FORBIDDEN', `write ${path}`);
    assert.is(await code(files.mkdir('web', `${path}/made`)), 'FORBIDDEN', `mkdir ${path}/made`);
    assert.equal(await readdir(outside), ['secret'], 'nothing created outside');
    assert.is(await readFile(join(outside, 'secret'), 'utf8'), 'SECRET');
  });
}

test('encoded-looking names are just names, and NUL is refused', async () => {
  assert.is(await code(files.stat('web', '%2e%2e/%2e%2e/etc/passwd')), 'NOT_FOUND');
  assert.is(await code(files.stat('web', '..%2f..%2fetc')), 'NOT_FOUND');
  assert.is(await code(files.stat('web', 'hello.txt\0/../../x')), 'BAD_REQUEST');
  assert.is(await code(files.list('../web', '/')), 'BAD_REQUEST');
});

test('delete and rename refuse the root and escapes, and act on a link itself, not its target', async () => {
  for (const p of ['/', '', '.', 'sub/..', '//']) {
    assert.is(await code(files.delete('web', p || '/')), 'FORBIDDEN', `delete ${p}`);
    assert.is(await code(files.rename('web', p || '/', 'x')), 'FORBIDDEN', `rename ${p}`);
  }
  assert.is(await code(files.delete('web', '../outside')), 'FORBIDDEN');
  assert.is(await code(files.delete('web', 'out-dir/secret')), 'FORBIDDEN');
  assert.is(await code(files.rename('web', 'hello.txt', '../outside/stolen')), 'FORBIDDEN');
  assert.is(await code(files.rename('web', 'hello.txt', 'out-dir/stolen')), 'FORBIDDEN');
  await files.delete('web', 'secret-link');
  assert.is(await readFile(join(outside, 'secret'), 'utf8'), 'SECRET', 'the target outside is untouched');
  assert.equal(await readdir(outside), ['secret']);
});

test('a leading "/" means the server root', async () => {
  assert.is((await files.stat('web', '/hello.txt')).size, 5);
  assert.is((await files.stat('web', '/')).type, 'directory');
  assert.is(await readAll(files.read('web', '/sub/deeper/f.txt')), 'deep');
});

test('list, stat and read; symlinks inside the root are followed', async () => {
  const names = (await files.list('web', '/')).map((e) => `${e.name}:${e.type}`);
  assert.ok(names.includes('hello.txt:file'));
  assert.ok(names.includes('sub:directory'));
  assert.ok(names.includes('etc-link:symlink'), 'listed as a link, not followed');
  const st = await files.stat('web', 'hello.txt');
  assert.equal([st.name, st.type, st.size], ['hello.txt', 'file', 5]);
  assert.is(await readAll(files.read('web', 'inner-link')), 'hello');
  assert.is(await code(files.stat('web', 'missing.txt')), 'NOT_FOUND');
  assert.is(await code(files.read('web', 'sub')), 'BAD_REQUEST');
  assert.is(await code(files.list('web', 'hello.txt')), 'BAD_REQUEST');
  assert.is(await code(files.list('nosuch', '/')), 'NOT_FOUND');
});

test('write goes to a temp file and replaces the target only on commit; abort leaves nothing', async () => {
  const up = await files.write('web', 'new/dir/file.bin');
  await up.write(Buffer.from('abc'));
  await up.write(Buffer.from('defg'));
  assert.is(up.bytes, 7);
  assert.is(await stat(join(root, 'new/dir/file.bin')).then(() => 'exists', () => 'absent'), 'absent', 'the target appears only on commit');
  assert.is(await up.commit(), 7);
  assert.is(await readFile(join(root, 'new/dir/file.bin'), 'utf8'), 'abcdefg');
  assert.equal(await readdir(join(root, 'new/dir')), ['file.bin'], 'no temp file left');

  const replace = await files.write('web', 'hello.txt');
  await replace.write(Buffer.from('partial'));
  await replace.abort();
  assert.is(await readFile(join(root, 'hello.txt'), 'utf8'), 'hello', 'an aborted upload does not touch the target');
  assert.ok(!(await readdir(root)).some((n) => n.includes('.upload-')), 'partial removed');
  assert.is(await code(files.write('web', 'sub')), 'BAD_REQUEST');
});

test('rename, mkdir and recursive delete', async () => {
  await files.mkdir('web', 'a/b/c');
  assert.is((await files.stat('web', 'a/b/c')).type, 'directory');
  await files.rename('web', 'hello.txt', 'a/b/hi.txt');
  assert.is(await readFile(join(root, 'a/b/hi.txt'), 'utf8'), 'hello');
  assert.is(await code(files.rename('web', 'a/b/hi.txt', 'sub')), 'CONFLICT');
  assert.is(await code(files.rename('web', 'missing', 'x')), 'NOT_FOUND');
  assert.is(await code(files.mkdir('web', 'a/b/hi.txt')), 'CONFLICT');
  await files.delete('web', 'a');
  assert.is(await code(files.stat('web', 'a')), 'NOT_FOUND');
  assert.is(await code(files.delete('web', 'a')), 'NOT_FOUND');
});

test.run();
