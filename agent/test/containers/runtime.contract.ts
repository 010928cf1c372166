import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EdgehookError, type PullProgress } from '@edgehook/shared';
import type { ContainerRuntime, OutputChunk, RuntimeCreateSpec, RuntimeEvent } from '../../src/containers/container-runtime.js';

export interface RuntimeFactory {
  /** A runtime over a working engine (null: the engine is not available here; the suite says so). */
  make(): Promise<{ runtime: ContainerRuntime; image: string; pullable: Pullable; dispose(): Promise<void> } | null>;
  /** A runtime whose engine is down. */
  down(): ContainerRuntime;
}

/** Images the engine does not have: one its registry serves in more than one layer, one it does not have. */
export interface Pullable {
  image: string;
  missing: string;
}

let seq = 0;
const RUN = `${process.pid}-${Date.now().toString(36)}`;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return err instanceof EdgehookError ? err.code : `not an EdgehookError: ${String(err)}`;
  }
  return 'no error';
}

function text(chunks: OutputChunk[], stream?: OutputChunk['stream']): string {
  return Buffer.concat(chunks.filter((c) => !stream || c.stream === stream).map((c) => c.data)).toString();
}

/** One contract for every ContainerRuntime: what the planner, executor and consoles rely on. */
export function runtimeContract(name: string, factory: RuntimeFactory): void {
  const t = suite(`container runtime contract: ${name}`);
  let runtime: ContainerRuntime;
  let image = '';
  let pullable: Pullable = { image: '', missing: '' };
  let dispose = async (): Promise<void> => {};
  let skipped = false;

  const spec = (over: Partial<RuntimeCreateSpec> = {}): RuntimeCreateSpec => ({
    name: `eh-${RUN}-${++seq}`,
    image,
    cmd: ['sleep', '3600'],
    env: {},
    ports: [],
    binds: [],
    restartPolicy: 'no',
    labels: { 'io.edgehook.test': RUN },
    tty: false,
    openStdin: false,
    stopTimeoutSec: 1,
    ...over,
  });

  t.before(async () => {
    const made = await factory.make();
    if (!made) {
      skipped = true;
      console.log(`SKIPPED the ${name} engine part of the container runtime contract: no engine here (podman or busybox missing)`);
      return;
    }
    runtime = made.runtime;
    image = made.image;
    pullable = made.pullable;
    dispose = made.dispose;
  });
  t.after(async () => dispose());

  const it = (title: string, fn: () => Promise<void>): void =>
    t(title, async () => {
      if (!skipped) await fn();
    });

  it('create keeps env, labels, limits, ports and binds; inspect and list with a label filter see it', async () => {
    const s = spec({ env: { GREETING: 'hi there' }, labels: { 'io.edgehook.test': RUN, role: 'web' }, memoryBytes: 64 * 1024 * 1024, nanoCpus: 500_000_000, ports: [{ container: 8080, host: 20000 + (process.pid % 20000), protocol: 'tcp' }], binds: [{ source: '/tmp', target: '/hosttmp', readOnly: true }] });
    const id = await runtime.create(s);
    assert.match(id, /^[0-9a-f]{12,}$/);
    const c = await runtime.inspect(s.name);
    assert.is(c.id, id);
    assert.is(c.name, s.name);
    assert.is(c.state, 'created');
    assert.is(c.labels['role'], 'web');
    assert.is(c.startedAt, null);
    assert.is(c.exitCode, null);
    assert.ok(c.createdAt > 0);
    assert.equal(c.ports, [{ container: 8080, host: s.ports[0]?.host ?? 0, protocol: 'tcp' }]);
    const listed = await runtime.list({ all: true, labels: { role: 'web', 'io.edgehook.test': RUN } });
    assert.equal(listed.map((x) => x.id), [id]);
    assert.equal(await runtime.list({ all: true, labels: { role: 'nobody' } }), []);
    assert.equal((await runtime.list({ all: false, labels: { role: 'web' } })).length, 0, 'not running: only in all=true');
    await runtime.remove(id, { force: true });
  });

  it('start, stop with a timeout, restart, kill, remove; state follows', async () => {
    const s = spec();
    const id = await runtime.create(s);
    await runtime.start(id);
    await runtime.start(id); // already started is fine
    let c = await runtime.inspect(id);
    assert.is(c.state, 'running');
    assert.ok(c.startedAt !== null);
    assert.equal((await runtime.list({ all: false, labels: { 'io.edgehook.test': RUN } })).map((x) => x.id).includes(id), true);
    await runtime.stop(id, 1);
    c = await runtime.inspect(id);
    assert.is(c.state, 'exited');
    assert.type(c.exitCode, 'number');
    assert.ok(c.finishedAt !== null);
    await runtime.stop(id, 1); // stopping a stopped container is fine
    await runtime.restart(id, 1);
    assert.is((await runtime.inspect(id)).state, 'running');
    assert.is(await code(runtime.remove(id, { force: false })), 'CONFLICT', 'a running container is not removed without force');
    await runtime.kill(id, 'SIGKILL');
    c = await waitFor('exited after kill', async () => {
      const x = await runtime.inspect(id);
      return x.state === 'exited' && x;
    });
    assert.is(c.exitCode, 137);
    assert.is(await code(runtime.kill(id, 'SIGKILL')), 'CONFLICT', 'kill needs a running container');
    await runtime.remove(id, { force: false });
    assert.is(await code(runtime.inspect(id)), 'NOT_FOUND');
  });

  it('a duplicate name is a CONFLICT; unknown refs are NOT_FOUND; an image that cannot be pulled says so', async () => {
    const s = spec();
    const id = await runtime.create(s);
    assert.is(await code(runtime.create(s)), 'CONFLICT');
    await runtime.remove(id, { force: true });
    const ghost = `eh-${RUN}-ghost`;
    for (const call of [() => runtime.inspect(ghost), () => runtime.start(ghost), () => runtime.stop(ghost, 1), () => runtime.kill(ghost, 'SIGKILL'), () => runtime.remove(ghost, { force: true })]) assert.is(await code(call()), 'NOT_FOUND');
    assert.is(await code(runtime.create(spec({ image: 'localhost:1/edgehook/missing:latest' }))), 'NOT_FOUND');
  });

  it('logs: stdout and stderr apart, tail, follow ends when the container does', async () => {
    const s = spec({ cmd: ['sh', '-c', 'echo one; echo two; echo err >&2; echo three'] });
    const id = await runtime.create(s);
    await runtime.start(id);
    await waitFor('exit', async () => (await runtime.inspect(id)).state === 'exited');
    const all: OutputChunk[] = [];
    for await (const c of runtime.logs(id, { tail: 100, follow: false })) all.push(c);
    assert.is(text(all, 'stdout'), 'one\ntwo\nthree\n');
    assert.is(text(all, 'stderr'), 'err\n');
    await runtime.remove(id, { force: true });
    // stdout and stderr are separate pipes: their relative order is not kept, so tail one stream.
    const tailed = await runtime.create(spec({ cmd: ['sh', '-c', 'echo one; echo two; echo three'] }));
    await runtime.start(tailed);
    await waitFor('exit', async () => (await runtime.inspect(tailed)).state === 'exited');
    const last: OutputChunk[] = [];
    for await (const c of runtime.logs(tailed, { tail: 2, follow: false })) last.push(c);
    assert.is(text(last), 'two\nthree\n');
    const none: OutputChunk[] = [];
    for await (const c of runtime.logs(tailed, { tail: 0, follow: false })) none.push(c);
    assert.is(text(none), '');
    // follow on a stopped container returns what there is and ends
    const followed: OutputChunk[] = [];
    for await (const c of runtime.logs(tailed, { tail: 100, follow: true })) followed.push(c);
    assert.is(text(followed, 'stdout'), 'one\ntwo\nthree\n');
    await runtime.remove(tailed, { force: true });
  });

  it('logs follow streams new output and stops on abort', async () => {
    const id = await runtime.create(spec({ cmd: ['cat'], openStdin: true }));
    await runtime.start(id);
    const console_ = await runtime.attach(id);
    const ac = new AbortController();
    const seen: OutputChunk[] = [];
    const following = (async () => {
      for await (const c of runtime.logs(id, { tail: 0, follow: true, signal: ac.signal })) seen.push(c);
    })();
    // The follow request may connect after a first write: keep writing until one comes through.
    await waitFor('followed output', async () => {
      await console_.write(Buffer.from('followed line\n'));
      await new Promise((r) => setTimeout(r, 200));
      return text(seen).includes('followed line\n');
    });
    ac.abort();
    await following;
    console_.close();
    await runtime.remove(id, { force: true });
  });

  it('attach: what is written comes back (cat)', async () => {
    const id = await runtime.create(spec({ cmd: ['cat'], openStdin: true }));
    await runtime.start(id);
    const a = await runtime.attach(id);
    const out: OutputChunk[] = [];
    const reading = (async () => {
      for await (const c of a.output) out.push(c);
    })();
    await a.write(Buffer.from('hello console\n'));
    await waitFor('echo', async () => text(out, 'stdout').includes('hello console\n'));
    await a.write(Buffer.from('second\n'));
    await waitFor('second echo', async () => text(out, 'stdout').includes('second\n'));
    a.close();
    await reading;
    await runtime.remove(id, { force: true });
  });

  it('attach to a tty container: raw output (no multiplexing)', async () => {
    const id = await runtime.create(spec({ cmd: ['cat'], openStdin: true, tty: true }));
    await runtime.start(id);
    assert.is((await runtime.inspect(id)).tty, true);
    const a = await runtime.attach(id);
    const out: OutputChunk[] = [];
    const reading = (async () => {
      for await (const c of a.output) out.push(c);
    })();
    await a.write(Buffer.from('tty hello\n'));
    await waitFor('tty echo', async () => text(out).includes('tty hello'));
    assert.ok(out.every((c) => c.stream === 'stdout'));
    assert.not.ok(text(out).includes('\u0001\u0000\u0000\u0000'), 'no frame headers in tty output');
    a.close();
    await reading;
    await runtime.remove(id, { force: true });
  });

  it('stats: memory in use, the limit from the spec, a stream that ends on abort', async () => {
    const limit = 96 * 1024 * 1024;
    const id = await runtime.create(spec({ memoryBytes: limit }));
    await runtime.start(id);
    const one: unknown[] = [];
    let sample;
    for await (const s of runtime.stats(id, { stream: false })) {
      one.push(s);
      sample = s;
    }
    assert.is(one.length, 1);
    assert.ok(sample && (sample.memory_stats.usage ?? 0) > 0, 'memory in use');
    assert.is(sample?.memory_stats.limit, limit);
    assert.ok((sample?.cpu_stats.cpu_usage.total_usage ?? 0) > 0);
    const ac = new AbortController();
    let count = 0;
    for await (const _ of runtime.stats(id, { stream: true, signal: ac.signal })) {
      if (++count === 2) ac.abort();
    }
    assert.is(count, 2);
    await runtime.remove(id, { force: true });
  });

  it('events: a container that exits on its own is reported (die with its exit code), then destroy', async () => {
    const ac = new AbortController();
    const events: RuntimeEvent[] = [];
    const watching = (async () => {
      for await (const e of runtime.events({ signal: ac.signal })) events.push(e);
    })();
    // The stream is live once it reports a throwaway container (no fixed sleep).
    await waitFor('event stream live', async () => {
      const probe = await runtime.create(spec());
      await runtime.remove(probe, { force: true });
      await new Promise((r) => setTimeout(r, 100));
      return events.some((e) => e.id === probe);
    });
    const id = await runtime.create(spec({ cmd: ['exit', '3'] }));
    await runtime.start(id);
    const die = await waitFor('die event', async () => events.find((e) => e.id === id && e.action === 'die'));
    assert.is(die.exitCode, 3);
    assert.ok(events.some((e) => e.id === id && e.action === 'start'));
    const c = await runtime.inspect(id);
    assert.is(c.state, 'exited');
    assert.is(c.exitCode, 3);
    await runtime.remove(id, { force: false });
    await waitFor('destroy event', async () => events.some((e) => e.id === id && e.action === 'destroy'));
    ac.abort();
    await watching;
  });

  it('a pull reports layers and bytes as they arrive and ends done; create then runs the pulled image', async () => {
    const seen: PullProgress[] = [];
    await runtime.pull(pullable.image, { onProgress: (p) => seen.push(p) });
    const last = seen.at(-1);
    assert.ok(last, 'reported');
    assert.is(last.status, 'done');
    assert.is(last.image, pullable.image);
    assert.ok(last.layers.total >= 2, `layers: ${JSON.stringify(last.layers)}`);
    assert.is(last.layers.done, last.layers.total);
    assert.ok(last.bytes.total > 0 && last.bytes.current === last.bytes.total, `bytes: ${JSON.stringify(last.bytes)}`);
    assert.ok(seen.slice(0, -1).every((p) => p.status === 'pulling'), 'pulling until the end');
    // Progress along the way: some report knew the layers before all were done, and bytes grew.
    assert.ok(seen.some((p) => p.status === 'pulling' && p.layers.total > 0 && p.layers.done < p.layers.total), `partial: ${JSON.stringify(seen)}`);
    assert.ok(seen.some((p) => p.status === 'pulling' && p.bytes.current > 0 && p.bytes.current < last.bytes.total) || seen.some((p) => p.status === 'pulling' && p.layers.done > 0), 'bytes or layers advanced before done');
    const id = await runtime.create(spec({ image: pullable.image, cmd: ['sh', '-c', 'echo pulled'] }));
    await runtime.start(id);
    await waitFor('the pulled image runs', async () => (await runtime.inspect(id)).state === 'exited');
    await runtime.remove(id, { force: true });
  });

  it('a failed pull ends failed with the reason; create reports it too and throws NOT_FOUND', async () => {
    const seen: PullProgress[] = [];
    assert.is(await code(runtime.pull(pullable.missing, { onProgress: (p) => seen.push(p) })), 'NOT_FOUND');
    const last = seen.at(-1);
    assert.is(last?.status, 'failed');
    assert.ok((last?.message ?? '').length > 0, 'a reason');
    const onCreate: PullProgress[] = [];
    assert.is(await code(runtime.create(spec({ image: pullable.missing }), { onPull: (p) => onCreate.push(p) })), 'NOT_FOUND');
    assert.is(onCreate.at(-1)?.status, 'failed');
    // A present image pulls nothing on create.
    const quiet: PullProgress[] = [];
    const id = await runtime.create(spec(), { onPull: (p) => quiet.push(p) });
    assert.equal(quiet, []);
    await runtime.remove(id, { force: true });
  });

  t('an engine that is down: ENGINE_UNAVAILABLE for every call, iterables too, nothing crashes', async () => {
    const dead = factory.down();
    for (const call of [() => dead.info(), () => dead.list({ all: true }), () => dead.inspect('x'), () => dead.start('x'), () => dead.create(spec({ image: 'x' })), () => dead.pull('x'), () => dead.attach('x')]) assert.is(await code(call()), 'ENGINE_UNAVAILABLE');
    const drain = async (it: AsyncIterable<unknown>): Promise<void> => {
      for await (const _ of it);
    };
    assert.is(await code(drain(dead.logs('x', { tail: 1, follow: false }))), 'ENGINE_UNAVAILABLE');
    assert.is(await code(drain(dead.stats('x', { stream: false }))), 'ENGINE_UNAVAILABLE');
    assert.is(await code(drain(dead.events({ signal: new AbortController().signal }))), 'ENGINE_UNAVAILABLE');
  });

  t.run();
}
