import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { joinOptionValues, parseFlags } from '../src/argv.js';
import { createLogger } from '../src/runtime.js';

const OPTIONS = { since: { type: 'string' }, count: { type: 'string', short: 'c' }, json: { type: 'boolean' } } as const;

test('a string flag takes the next argument even when it starts with "-"', () => {
  const { values, positionals } = parseFlags({ args: ['dev', 'cpu', '--since', '-1h', '-c', '-1', '--json'], options: OPTIONS, strict: true, allowPositionals: true });
  assert.equal({ ...values }, { since: '-1h', count: '-1', json: true });
  assert.equal(positionals, ['dev', 'cpu']);
});

test('node parseArgs alone refuses the same argv (why the pre-pass exists)', async () => {
  const { parseArgs } = await import('node:util');
  assert.throws(() => parseArgs({ args: ['--since', '-1h'], options: OPTIONS, strict: true }), /ambiguous/);
});

test('--name=value, booleans, a trailing flag and everything after -- pass through unchanged', () => {
  assert.equal(joinOptionValues(['--since=-2h', '--json', 'x'], OPTIONS), ['--since=-2h', '--json', 'x']);
  assert.equal(joinOptionValues(['--', '--since', '-1h'], OPTIONS), ['--', '--since', '-1h']);
  // No value left: parseArgs reports the missing argument itself.
  assert.throws(() => parseFlags({ args: ['--since'], options: OPTIONS, strict: true }), /argument missing/);
  // An unknown flag is not joined with its neighbour, so strict parsing still names it.
  assert.throws(() => parseFlags({ args: ['--bogus', '-1'], options: OPTIONS, strict: true }), /Unknown option '--bogus'/);
});

test('the logger leaves absent fields out (never error=undefined)', () => {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', format: 'pretty', write: (l) => lines.push(l) });
  log.warn('disconnected from the control plane', { reason: 'closed', error: undefined, retryInMs: 1000 });
  assert.ok(lines[0]?.endsWith('disconnected from the control plane reason=closed retryInMs=1000'), lines[0]);
});

test.run();
