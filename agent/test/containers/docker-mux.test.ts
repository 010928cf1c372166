import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LineSplitter, muxFrame, StreamDemuxer } from '../../src/containers/docker-mux.js';
import type { OutputChunk } from '../../src/containers/container-runtime.js';

const frames = Buffer.concat([
  muxFrame('stdout', Buffer.from('hello\n')),
  muxFrame('stderr', Buffer.from('oops\n')),
  muxFrame('stdout', Buffer.alloc(0)),
  muxFrame('stdout', Buffer.from('world')),
  muxFrame('stdout', Buffer.from('!\n')),
]);

function collect(chunks: OutputChunk[]): { stdout: string; stderr: string } {
  const pick = (s: OutputChunk['stream']): string => Buffer.concat(chunks.filter((c) => c.stream === s).map((c) => c.data)).toString();
  return { stdout: pick('stdout'), stderr: pick('stderr') };
}

test('whole buffer: streams kept apart', () => {
  const d = new StreamDemuxer();
  assert.equal(collect(d.push(frames)), { stdout: 'hello\nworld!\n', stderr: 'oops\n' });
  assert.ok(d.idle);
});

test('every single split point gives the same result', () => {
  for (let i = 0; i <= frames.length; i++) {
    const d = new StreamDemuxer();
    const out = [...d.push(frames.subarray(0, i)), ...d.push(frames.subarray(i))];
    assert.equal(collect(out), { stdout: 'hello\nworld!\n', stderr: 'oops\n' }, `split at ${i}`);
    assert.ok(d.idle, `idle after split at ${i}`);
  }
});

test('every pair of split points, and one byte at a time', () => {
  for (let i = 0; i <= frames.length; i++) {
    for (let j = i; j <= frames.length; j++) {
      const d = new StreamDemuxer();
      const out = [...d.push(frames.subarray(0, i)), ...d.push(frames.subarray(i, j)), ...d.push(frames.subarray(j))];
      assert.equal(collect(out), { stdout: 'hello\nworld!\n', stderr: 'oops\n' }, `split at ${i},${j}`);
    }
  }
  const d = new StreamDemuxer();
  const out: OutputChunk[] = [];
  for (const b of frames) out.push(...d.push(Buffer.from([b])));
  assert.equal(collect(out), { stdout: 'hello\nworld!\n', stderr: 'oops\n' });
});

test('a half-read frame is not idle; a big payload passes through', () => {
  const d = new StreamDemuxer();
  const big = Buffer.alloc(200_000, 0x61);
  const f = muxFrame('stderr', big);
  d.push(f.subarray(0, 5));
  assert.not.ok(d.idle);
  const out = d.push(f.subarray(5));
  assert.is(collect(out).stderr.length, 200_000);
  assert.ok(d.idle);
});

test('line splitter: lines across chunks, multibyte characters split, a last line without newline', () => {
  const text = Buffer.from('{"a":1}\n{"b":"é"}\n\n{"c":3}');
  for (let i = 0; i <= text.length; i++) {
    const s = new LineSplitter();
    const lines = [...s.push(text.subarray(0, i)), ...s.push(text.subarray(i)), ...s.end()];
    assert.equal(lines, ['{"a":1}', '{"b":"é"}', '{"c":3}'], `split at ${i}`);
  }
});

test.run();
