import { createWriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { EdgehookError } from '@edgehook/shared';
import { describeTlsError, tlsOptionsFor, tlsTarget, type TlsTrust } from '@edgehook/shared/transport';
import { nodeHttp, nodeHttps, nodeCrypto } from '@edgehook/shared/node-builtins';

/** Fetches a package to `dest`: what it got and its SHA-256. */
export type DownloadPackage = (url: URL, dest: string, maxBytes: number) => Promise<{ bytes: number; sha256: string }>;

/**
 * GET over node:http(s) with the agent's TLS trust (its --ca or pinned fingerprint, as enrollment
 * uses), hashing as it writes and stopping past `maxBytes` (the size the control plane announced).
 */
export function nodeDownload(trust: TlsTrust, timeoutMs = 5 * 60_000): DownloadPackage {
  return async (url, dest, maxBytes) => {
    const target = tlsTarget(url.href);
    let tls = {};
    if (url.protocol === 'https:' && target) {
      try {
        tls = await tlsOptionsFor(trust, target);
      } catch (err) {
        throw new EdgehookError('BAD_REQUEST', `cannot download the package: ${describeTlsError(err, url.host) ?? (err instanceof Error ? err.message : String(err))}`);
      }
    }
    const send = url.protocol === 'https:' ? nodeHttps().request : nodeHttp().request;
    return new Promise((resolve, reject) => {
      let settled = false;
      const failed = (err: unknown): void => {
        if (settled) return;
        settled = true;
        const words = describeTlsError(err, url.host);
        reject(err instanceof EdgehookError ? err : new EdgehookError('BAD_REQUEST', `download of ${url.pathname} failed: ${words ?? (err instanceof Error ? err.message : String(err))}`));
      };
      const req = send(url, { method: 'GET', signal: AbortSignal.timeout(timeoutMs), ...tls }, (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          res.resume();
          return failed(new EdgehookError(res.statusCode === 404 ? 'NOT_FOUND' : 'BAD_REQUEST', `the control plane answered ${res.statusCode} for ${url.pathname}`));
        }
        const hash = nodeCrypto().createHash('sha256');
        const out = createWriteStream(dest, { mode: 0o600 });
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > maxBytes) {
            // Destroyed without an error argument: the refusal is ours to report, not an 'error' event nobody handles.
            failed(new EdgehookError('BAD_REQUEST', `the package is larger than the ${maxBytes} bytes announced`));
            res.destroy();
            out.destroy();
            return;
          }
          hash.update(chunk);
          if (!out.write(chunk)) res.pause();
        });
        out.on('drain', () => res.resume());
        out.on('error', failed);
        res.on('error', failed);
        res.on('end', () => {
          if (settled) return;
          out.end(() => {
            if (settled) return;
            settled = true;
            resolve({ bytes, sha256: hash.digest('hex') });
          });
        });
      });
      req.on('error', failed);
      req.end();
    });
  };
}
