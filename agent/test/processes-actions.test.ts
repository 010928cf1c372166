import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EdgehookError } from '@edgehook/shared';
import { Actions, ActionSpec, loadActions } from '../src/processes/actions.js';
import { ConfigError, loadAgentConfig } from '../src/config.js';

const actions = new Actions([
  ActionSpec.parse({ name: 'echo', command: ['cat'], args: 'ignore', value: 'params' }),
  ActionSpec.parse({ name: 'greet', command: ['printf', 'hello %s\\n', '{0}'], params: { min: 1, max: 1, pattern: '[a-z]+' } }),
  ActionSpec.parse({ name: 'ls', command: ['ls', '-l'] }),
]);

test('params map to argv: placeholders, append, ignore', () => {
  assert.equal(actions.resolve('echo', ['a', 'b']).argv, ['cat']);
  assert.equal(actions.resolve('greet', ['bob']).argv, ['printf', 'hello %s\\n', 'bob']);
  assert.equal(actions.resolve('ls', ['/tmp', '; rm -rf /']).argv, ['ls', '-l', '/tmp', '; rm -rf /']);
});

test('unknown names and bad params are refused with a reason', () => {
  const refused = (fn: () => unknown, code: string, pattern: RegExp) =>
    assert.throws(fn, (err: unknown) => err instanceof EdgehookError && err.code === code && pattern.test(err.message));
  refused(() => actions.resolve('nope', []), 'NOT_FOUND', /unknown process "nope"; declared actions: /);
  refused(() => actions.resolve('greet', []), 'BAD_REQUEST', /takes 1 params, got 0/);
  refused(() => actions.resolve('greet', ['Bob!']), 'BAD_REQUEST', /does not match/);
});

test('the actions file is validated', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'actions-'));
  const good = join(dir, 'good.json');
  await writeFile(good, JSON.stringify({ actions: [{ name: 'echo', command: ['cat'] }] }));
  assert.equal((await loadActions(good)).names, ['echo']);
  const dup = join(dir, 'dup.json');
  await writeFile(dup, JSON.stringify({ actions: [{ name: 'a', command: ['x'] }, { name: 'a', command: ['y'] }] }));
  await loadActions(dup).then(() => assert.unreachable(), (err: Error) => assert.match(err.message, /unique/));
  const bad = join(dir, 'bad.json');
  await writeFile(bad, JSON.stringify({ actions: [{ name: 'a b', command: 'rm -rf /' }] }));
  await loadActions(bad).then(() => assert.unreachable(), (err: Error) => assert.match(err.message, /invalid actions file/));
  assert.equal((await loadActions(undefined)).names, []);
});

test('the demo device declares echo as the pow-1 example server', async () => {
  const demo = await loadActions(new URL('../demo/actions.json', import.meta.url).pathname);
  assert.ok(demo.names.includes('echo'));
  assert.equal(demo.resolve('echo', ['p']).argv, ['cat']);
});

test('agent flags: --actions, --pty, --exec-arbitrary (and their environment variables)', () => {
  const c = loadAgentConfig(['--actions', 'demo/actions.json', '--pty', 'simulated'], { EDGEHOOK_EXEC_ARBITRARY: 'off' });
  assert.ok(c.actionsFile?.endsWith('/demo/actions.json'));
  assert.is(c.pty, 'simulated');
  assert.is(c.execArbitrary, false);
  const d = loadAgentConfig([], {});
  assert.equal([d.actionsFile, d.pty, d.execArbitrary], [undefined, 'node-pty', true]);
  assert.throws(() => loadAgentConfig(['--pty', 'tmux'], {}), (err: unknown) => err instanceof ConfigError && /--pty/.test(err.message));
});

test.run();
