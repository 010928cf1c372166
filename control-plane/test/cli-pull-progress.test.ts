// The CLI's pull progress lines: a line per change at most every second without a terminal, one
// line rewritten in place on a terminal.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { PullProgress } from '@edgehook/shared';
import { pullPrinter } from '../src/cli/commands/pull-progress.js';

const p = (image: string, done: number, current: number, status: PullProgress['status'] = 'pulling'): PullProgress => ({ image, status, layers: { total: 3, done }, bytes: { current, total: 3_400_000 } });

test('without a terminal: the first sized report, then at most one line a second per image, and every final line', () => {
  let now = 0;
  let out = '';
  const printer = pullPrinter({ tty: false, now: () => now, write: (s) => (out += s) });
  printer.show({ ...p('busybox', 0, 0), layers: { total: 0, done: 0 }, bytes: { current: 0, total: 0 } });
  printer.show(p('busybox', 0, 100_000));
  now = 400;
  printer.show(p('busybox', 1, 1_200_000));
  printer.show(p('nginx', 0, 5));
  now = 1100;
  printer.show(p('busybox', 2, 2_000_000));
  assert.ok(printer.running());
  printer.show(p('busybox', 3, 3_400_000, 'done'));
  printer.show(p('nginx', 3, 3_400_000, 'done'));
  assert.not.ok(printer.running());
  printer.finish();
  assert.is(out, ['pulling busybox: 0/3 layers, 0.1/3.4 MB', 'pulling nginx: 0/3 layers, 0.0/3.4 MB', 'pulling busybox: 2/3 layers, 2.0/3.4 MB', 'pulled busybox: 3/3 layers, 3.4/3.4 MB', 'pulled nginx: 3/3 layers, 3.4/3.4 MB', ''].join('\n'));
});

test('on a terminal: one line rewritten in place with every image, ended once no pull runs', () => {
  let out = '';
  const printer = pullPrinter({ tty: true, now: () => 0, write: (s) => (out += s) });
  printer.show(p('busybox', 1, 1_200_000));
  printer.show(p('nginx', 0, 0));
  printer.show(p('busybox', 3, 3_400_000, 'done'));
  printer.show({ ...p('nginx', 0, 0, 'failed'), message: 'manifest unknown' });
  printer.finish();
  assert.is(
    out,
    '\r\x1b[Kpulling busybox: 1/3 layers, 1.2/3.4 MB' +
      '\r\x1b[Kpulling busybox: 1/3 layers, 1.2/3.4 MB; pulling nginx: 0/3 layers, 0.0/3.4 MB' +
      '\r\x1b[Kpulled busybox: 3/3 layers, 3.4/3.4 MB; pulling nginx: 0/3 layers, 0.0/3.4 MB' +
      '\r\x1b[Kpulled busybox: 3/3 layers, 3.4/3.4 MB; pull failed nginx: 0/3 layers, 0.0/3.4 MB: manifest unknown\n',
  );
});

test.run();
