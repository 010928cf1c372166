import { EdgehookError, type EngineInfo } from '@edgehook/shared';
import type { Attachment, ContainerRuntime, OutputChunk, PullListener, RawStats, RuntimeContainer, RuntimeCreateSpec, RuntimeEvent } from './container-runtime.js';
import { PullTracker } from './pull-progress.js';
import { bodyChunks, DockerHttp, engineError, readAll } from './docker-http.js';
import { LineSplitter, StreamDemuxer } from './docker-mux.js';
import { InspectJson, ListJson, PullLine, StatsJson, VersionJson } from './docker-schemas.js';
import { splitImage, toRuntimeContainer, toRuntimeEvent } from './docker-mapping.js';
import { AsyncQueue } from './async-queue.js';

/** The Docker Engine API (Docker, or Podman's compatible service) over a unix socket. */
export class DockerEngineRuntime implements ContainerRuntime {
  private readonly http: DockerHttp;

  constructor(readonly socketPath: string) {
    this.http = new DockerHttp(socketPath);
  }

  async info(): Promise<EngineInfo> {
    const v = VersionJson.parse(await this.http.json('GET', '/version'));
    const podman = (v.Components ?? []).some((c) => /podman/i.test(c.Name));
    return { name: podman ? 'podman' : 'docker', version: v.Version, apiVersion: v.ApiVersion, socket: this.socketPath };
  }

  async list(opts: { all: boolean; labels?: Record<string, string> }): Promise<RuntimeContainer[]> {
    const label = Object.entries(opts.labels ?? {}).map(([k, v]) => `${k}=${v}`);
    const filters = label.length ? JSON.stringify({ label }) : undefined;
    const rows = ListJson.parse(await this.http.json('GET', '/containers/json', { query: { all: opts.all ? 1 : 0, filters } }));
    // The list lacks start/finish times, exit codes and tty: inspect each (in parallel); one removed
    // in between is left out.
    const found = await Promise.all(
      rows.map(async (row) => {
        try {
          const c = await this.inspect(row.Id);
          if (row.Status) c.status = row.Status;
          return c;
        } catch (err) {
          if (err instanceof EdgehookError && err.code === 'NOT_FOUND') return null;
          throw err;
        }
      }),
    );
    return found.filter((c): c is RuntimeContainer => c !== null);
  }

  async inspect(ref: string): Promise<RuntimeContainer> {
    return toRuntimeContainer(InspectJson.parse(await this.http.json('GET', `/containers/${enc(ref)}/json`)));
  }

  async create(spec: RuntimeCreateSpec, opts: { onPull?: PullListener } = {}): Promise<string> {
    await this.ensureImage(spec.image, opts.onPull);
    const exposed: Record<string, object> = {};
    const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
    for (const p of spec.ports) {
      const key = `${p.container}/${p.protocol}`;
      exposed[key] = {};
      (bindings[key] ??= []).push({ HostIp: p.hostIp ?? '', HostPort: String(p.host) });
    }
    const binds = spec.binds.map((b) => {
      if (b.source.includes(':') || b.target.includes(':')) throw new EdgehookError('BAD_REQUEST', `a bind mount path may not contain ":" (${b.source}:${b.target})`);
      return `${b.source}:${b.target}:${b.readOnly ? 'ro' : 'rw'}`;
    });
    const body = {
      Image: spec.image,
      Cmd: spec.cmd,
      Entrypoint: spec.entrypoint,
      Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      Labels: spec.labels,
      Tty: spec.tty,
      OpenStdin: spec.openStdin,
      StdinOnce: false,
      AttachStdin: spec.openStdin,
      AttachStdout: true,
      AttachStderr: true,
      WorkingDir: spec.workingDir,
      StopTimeout: spec.stopTimeoutSec,
      ExposedPorts: exposed,
      HostConfig: {
        Binds: binds,
        PortBindings: bindings,
        RestartPolicy: { Name: spec.restartPolicy, MaximumRetryCount: 0 },
        Memory: spec.memoryBytes,
        NanoCpus: spec.nanoCpus,
        // Host access (already allowed by the agent's policy in toCreateSpec).
        Privileged: spec.privileged ?? false,
        NetworkMode: spec.networkMode,
        PidMode: spec.pidMode,
        Devices: spec.devices?.map((d) => ({ PathOnHost: d.host, PathInContainer: d.container, CgroupPermissions: d.permissions })),
        CapAdd: spec.capAdd,
      },
    };
    const res = await this.http.json('POST', '/containers/create', { query: { name: spec.name }, body });
    if (typeof res !== 'object' || res === null || !('Id' in res) || typeof res.Id !== 'string') throw new EdgehookError('INTERNAL', 'the engine created a container but sent no id');
    return res.Id;
  }

  /** Pulls the image when the engine does not have it; a failed pull says so plainly. */
  private async ensureImage(image: string, onPull: PullListener | undefined): Promise<void> {
    try {
      await this.http.call('GET', `/images/${enc(image)}/json`);
      return;
    } catch (err) {
      if (!(err instanceof EdgehookError) || err.code !== 'NOT_FOUND') throw err;
    }
    await this.pull(image, { onProgress: onPull });
  }

  // The body is one JSON line per layer event while the pull runs: read as it arrives, not at the end.
  async pull(image: string, opts: { onProgress?: PullListener | undefined } = {}): Promise<void> {
    const { name, tag } = splitImage(image);
    const tracker = new PullTracker(image);
    const report = opts.onProgress ?? (() => undefined);
    let failure: string | undefined;
    report(tracker.snapshot('pulling', 'starting'));
    try {
      const res = await this.http.request('POST', '/images/create', { query: { fromImage: name, tag } });
      if ((res.statusCode ?? 0) >= 400) throw engineError(res.statusCode ?? 500, await readAll(res), 'pull');
      const lines = new LineSplitter();
      const take = (line: string): void => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          return;
        }
        const l = PullLine.safeParse(parsed);
        if (!l.success) return;
        const error = l.data.error ?? l.data.errorDetail?.message;
        if (error !== undefined) failure ??= error;
        else if (tracker.push(l.data)) report(tracker.snapshot('pulling'));
      };
      for await (const chunk of bodyChunks(res, undefined, this.http)) for (const line of lines.push(chunk)) take(line);
      for (const line of lines.end()) take(line);
    } catch (err) {
      if (err instanceof EdgehookError && err.code === 'ENGINE_UNAVAILABLE') {
        report(tracker.snapshot('failed', err.message));
        throw err;
      }
      failure = err instanceof Error ? err.message : String(err);
    }
    if (failure !== undefined) {
      report(tracker.snapshot('failed', failure));
      throw new EdgehookError('NOT_FOUND', `image ${image} is not on this device and pulling it failed (is a registry reachable?): ${failure}`);
    }
    report(tracker.snapshot('done', 'pulled'));
  }

  async start(ref: string): Promise<void> {
    await this.http.call('POST', `/containers/${enc(ref)}/start`); // 304: already running
  }

  async stop(ref: string, timeoutSec: number): Promise<void> {
    await this.http.call('POST', `/containers/${enc(ref)}/stop`, { query: { t: timeoutSec } }); // 304: already stopped
  }

  async restart(ref: string, timeoutSec: number): Promise<void> {
    await this.http.call('POST', `/containers/${enc(ref)}/restart`, { query: { t: timeoutSec } });
  }

  async kill(ref: string, signal: string): Promise<void> {
    await this.http.call('POST', `/containers/${enc(ref)}/kill`, { query: { signal } });
  }

  async remove(ref: string, opts: { force: boolean }): Promise<void> {
    await this.http.call('DELETE', `/containers/${enc(ref)}`, { query: { force: opts.force ? 1 : 0 } });
  }

  async *logs(ref: string, opts: { tail: number; follow: boolean; signal?: AbortSignal }): AsyncIterable<OutputChunk> {
    const { tty } = await this.inspect(ref);
    let res;
    try {
      res = await this.http.request('GET', `/containers/${enc(ref)}/logs`, {
        query: { stdout: 1, stderr: 1, follow: opts.follow ? 1 : 0, tail: opts.tail },
        signal: opts.signal,
      });
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw err;
    }
    if ((res.statusCode ?? 0) >= 400) {
      throw engineError(res.statusCode ?? 500, await readAll(res), 'logs');
    }
    const demux = new StreamDemuxer();
    for await (const chunk of bodyChunks(res, opts.signal, this.http)) {
      if (tty) yield { stream: 'stdout', data: chunk };
      else yield* demux.push(chunk);
    }
  }

  async attach(ref: string): Promise<Attachment> {
    const { tty } = await this.inspect(ref);
    const { socket, head } = await this.http.upgrade('POST', `/containers/${enc(ref)}/attach`, { query: { stream: 1, stdin: 1, stdout: 1, stderr: 1 } });
    const queue = new AsyncQueue<OutputChunk>(() => socket.pause(), () => socket.resume());
    const demux = new StreamDemuxer();
    const onData = (chunk: Buffer): void => {
      if (tty) queue.push({ stream: 'stdout', data: chunk });
      else for (const c of demux.push(chunk)) queue.push(c);
    };
    if (head.length) onData(head);
    socket.on('data', onData);
    socket.on('end', () => queue.end());
    socket.on('close', () => queue.end());
    socket.on('error', () => queue.end());
    return {
      output: queue,
      write: (data) =>
        new Promise<void>((resolve, reject) => {
          if (socket.destroyed || !socket.writable) {
            reject(new EdgehookError('CONFLICT', 'the console is closed'));
            return;
          }
          socket.write(data, (err) => (err ? reject(this.http.mapError(err)) : resolve()));
        }),
      close: () => {
        socket.destroy();
        queue.end();
      },
    };
  }

  // A single sample is one-shot: without it Docker waits a second for its own precpu sample. The
  // agent polls single samples (Podman streams only every 5 s) and keeps the previous one for CPU.
  async *stats(ref: string, opts: { stream: boolean; signal?: AbortSignal }): AsyncIterable<RawStats> {
    let res;
    try {
      res = await this.http.request('GET', `/containers/${enc(ref)}/stats`, { query: opts.stream ? { stream: 'true' } : { stream: 'false', 'one-shot': 'true' }, signal: opts.signal });
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw err;
    }
    if ((res.statusCode ?? 0) >= 400) {
      throw engineError(res.statusCode ?? 500, await readAll(res), 'stats');
    }
    const lines = new LineSplitter();
    const parse = (line: string): RawStats | null => {
      try {
        const s = StatsJson.safeParse(JSON.parse(line));
        return s.success ? s.data : null;
      } catch {
        return null;
      }
    };
    for await (const chunk of bodyChunks(res, opts.signal, this.http)) {
      for (const line of lines.push(chunk)) {
        const s = parse(line);
        if (s) yield s;
      }
    }
    for (const line of lines.end()) {
      const s = parse(line);
      if (s) yield s;
    }
  }

  async *events(opts: { signal: AbortSignal }): AsyncIterable<RuntimeEvent> {
    let res;
    try {
      res = await this.http.request('GET', '/events', { query: { filters: JSON.stringify({ type: ['container'] }) }, signal: opts.signal });
    } catch (err) {
      if (opts.signal.aborted) return;
      throw err;
    }
    if ((res.statusCode ?? 0) >= 400) {
      throw engineError(res.statusCode ?? 500, await readAll(res), 'events');
    }
    const lines = new LineSplitter();
    for await (const chunk of bodyChunks(res, opts.signal, this.http)) {
      for (const line of lines.push(chunk)) {
        const e = toRuntimeEvent(line);
        if (e) yield e;
      }
    }
  }
}

function enc(ref: string): string {
  return encodeURIComponent(ref);
}
