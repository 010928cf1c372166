import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const run = promisify(execFile);

/**
 * A tiny OCI distribution registry for engine tests (no real registry is reachable here): `GET /v2/`,
 * manifests by tag or digest and blobs, for one image whose two gzip layers are cut from a root
 * filesystem directory (busybox in one, the rest in the other). Blobs go out at `bytesPerSecond`,
 * so an engine sees a pull in progress rather than an instant one. Anything else is 404 in the
 * registry's own error shape (so `missing` images fail the way a real registry makes them fail).
 */
export interface TestRegistry {
  /** host:port, for registries.conf and image references. */
  host: string;
  /** The one image it serves. */
  image: string;
  close(): Promise<void>;
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function startTestRegistry(opts: { rootfs: string; workDir: string; repo?: string; bytesPerSecond?: number }): Promise<TestRegistry> {
  const repo = opts.repo ?? 'edgehook/busybox';
  await mkdir(opts.workDir, { recursive: true });
  const tarOf = async (file: string, args: string[]): Promise<Buffer> => {
    const out = join(opts.workDir, file);
    await run('tar', ['-C', opts.rootfs, '-cf', out, ...args]);
    return readFile(out);
  };
  const tars = [await tarOf('layer-bin.tar', ['./bin/busybox']), await tarOf('layer-rest.tar', ['--exclude=./bin/busybox', '.'])];
  const layers = tars.map((t) => ({ tar: t, gz: gzipSync(t) }));
  const arch = process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : process.arch;
  const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: layers.map((l) => sha(l.tar)) } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(l.gz), size: l.gz.length })),
    }),
  );
  const blobs = new Map<string, Buffer>([[sha(config), config], ...layers.map((l): [string, Buffer] => [sha(l.gz), l.gz])]);
  // Podman reports a layer's bytes at most once a second: the ~1 MB busybox layer takes about 2 s.
  const rate = opts.bytesPerSecond ?? 500_000;
  const notFound = (res: http.ServerResponse, code: string, message: string): void => {
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code, message }] }));
  };
  // Slow on purpose: 16 KB slices paced to the rate.
  const send = async (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, type: string, digest: string): Promise<void> => {
    res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'docker-content-digest': digest });
    if (req.method === 'HEAD') return void res.end();
    for (let off = 0; off < body.length && !res.destroyed; off += 16_384) {
      res.write(body.subarray(off, off + 16_384));
      await new Promise((r) => setTimeout(r, (16_384 / rate) * 1000));
    }
    res.end();
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/v2/' || url.pathname === '/v2') return void res.writeHead(200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' }).end('{}');
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
    if (!m || (req.method !== 'GET' && req.method !== 'HEAD')) return notFound(res, 'UNSUPPORTED', 'not served by the test registry');
    const [, name, kind, ref = ''] = m;
    if (name !== repo) return notFound(res, 'NAME_UNKNOWN', `repository ${name} not known to registry`);
    if (kind === 'manifests') {
      if (ref !== 'latest' && ref !== sha(manifest)) return notFound(res, 'MANIFEST_UNKNOWN', `manifest unknown: ${ref}`);
      return void send(req, res, manifest, 'application/vnd.oci.image.manifest.v1+json', sha(manifest)).catch(() => res.destroy());
    }
    const blob = blobs.get(ref);
    if (!blob) return notFound(res, 'BLOB_UNKNOWN', `blob unknown: ${ref}`);
    void send(req, res, blob, 'application/octet-stream', ref).catch(() => res.destroy());
  });
  server.on('connection', (s) => s.setNoDelay(true));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const host = `localhost:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    host,
    image: `${host}/${repo}:latest`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** registries.conf for a private engine: the test registry over plain HTTP. */
export async function writeRegistriesConf(path: string, hosts: string[]): Promise<void> {
  await writeFile(path, [...hosts.flatMap((h) => ['[[registry]]', `location = "${h}"`, 'insecure = true', '']), ''].join('\n'));
}
