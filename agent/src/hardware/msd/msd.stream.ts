import { EdgehookError, KvmStreamKinds, MsdImageName, PikvmErrorDetails, validate } from '@edgehook/shared';
import type { StreamKindImpls } from '../../streams/stream-host.js';
import { uploadInput } from '../../streams/upload-input.js';
import type { MsdController } from './msd.controller.js';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const errorClass = (e: unknown) => {
  const named = e instanceof EdgehookError ? validate(PikvmErrorDetails, e.details) : undefined;
  return named?.ok ? named.value.pikvmError : 'MsdError';
};
const PROGRESS_LINE_MS = 1000;

/** The image name from a URL's last path segment, as kvmd's downloader takes it. */
export function nameFromUrl(url: string): string {
  const last = decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).at(-1) ?? '');
  return last;
}

/**
 * Stream kinds for virtual media. `msd-write`: the upload's bytes arrive as input and are
 * acknowledged once on disk, so the sender's credit is the upload's pace; `close-input`
 * commits. `msd-download`: the agent fetches an http(s) URL into the store and reports kvmd's
 * NDJSON progress lines as output. `msd-read`: a stored image as output, paced by the reader's
 * credit (the file is paused while the window is full).
 */
export function msdStreamKinds(msd: MsdController): StreamKindImpls {
  return {
    [KvmStreamKinds.msdWrite]: {
      async open(spec, stream) {
        const w = await msd.writer(spec.image, spec.size);
        let over = false;
        const fail = (reason: string): void => {
          if (over) return;
          over = true;
          void w.abort().then(() => stream.end({ status: 'rejected', reason }));
        };
        const then = uploadInput(stream, { write: (data) => w.write(data), over: () => over, onError: (e) => fail(message(e)) });
        stream.onCommand((cmd) => {
          if (cmd.type === 'cancel' || cmd.type === 'detach') return fail('cancelled');
          if (cmd.type !== 'close-input') return;
          then(async () => {
            if (over) return;
            if (spec.size > 0 && w.written !== spec.size) return fail(`expected ${spec.size} bytes, got ${w.written}`);
            over = true;
            await w.commit();
            stream.end({ status: 'fulfilled', value: { image: { name: w.name, size: spec.size || w.written, written: w.written } } });
          });
        });
        stream.onGone(() => fail('the uploader disconnected'));
        return { image: w.name };
      },
    },

    [KvmStreamKinds.msdDownload]: {
      async open(spec, stream) {
        const url = new URL(spec.url);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new EdgehookError('BAD_REQUEST', `only http and https URLs can be downloaded, not ${url.protocol}`, { pikvmError: 'ValidatorError' });
        const abort = new AbortController();
        const timer = setTimeout(() => abort.abort(new Error(`no answer from ${url.host} within ${spec.timeoutSec} s`)), spec.timeoutSec * 1000);
        let res: Response;
        try {
          res = await fetch(url, { signal: abort.signal, redirect: 'follow' });
        } catch (e) {
          throw new EdgehookError('BAD_REQUEST', `cannot download ${url.href}: ${message(abort.signal.reason ?? e)}`, { pikvmError: 'ClientConnectorError' });
        } finally {
          clearTimeout(timer);
        }
        if (!res.ok || !res.body) throw new EdgehookError('BAD_REQUEST', `cannot download ${url.href}: HTTP ${res.status}`, { pikvmError: 'ClientResponseError' });
        const name = validate(MsdImageName, spec.image ?? nameFromUrl(url.href));
        if (!name.ok) throw new EdgehookError('BAD_REQUEST', `not a valid MSD image name: ${name.error}`, { pikvmError: 'ValidatorError' });
        const size = Number(res.headers.get('content-length') ?? 0) || 0;
        const w = await msd.writer(name.value, size, 'downloading');
        const line = (ok: boolean, result: unknown) => stream.write(Buffer.from(JSON.stringify({ ok, result }) + '\r\n'));
        const info = () => ({ image: { name: w.name, size, written: w.written } });
        line(true, info());
        const reader = res.body.getReader();
        stream.onCommand((cmd) => {
          if (cmd.type === 'cancel' || cmd.type === 'detach') abort.abort(new Error('cancelled'));
        });
        stream.onGone(() => abort.abort(new Error('the client disconnected')));
        void (async () => {
          let last = Date.now();
          try {
            for (;;) {
              if (abort.signal.aborted) throw abort.signal.reason;
              const { done, value } = await reader.read();
              if (done) break;
              await w.write(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
              if (Date.now() - last >= PROGRESS_LINE_MS) {
                last = Date.now();
                line(true, info());
              }
            }
            if (size > 0 && w.written !== size) throw new Error(`the server sent ${w.written} of ${size} bytes`);
            await w.commit();
            line(true, info());
            stream.end({ status: 'fulfilled', value: info() });
          } catch (e) {
            await w.abort();
            await reader.cancel().catch(() => undefined);
            line(true, info());
            line(false, { error: errorClass(e), error_msg: message(e) });
            stream.end({ status: 'fulfilled', value: { failed: message(e) } });
          }
        })();
        return { image: w.name, size };
      },
    },

    [KvmStreamKinds.msdRead]: {
      async open(spec, stream) {
        const { size, stream: rs } = await msd.reader(spec.image);
        let sent = 0;
        let off: (() => void) | undefined;
        rs.on('data', (chunk) => {
          const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
          sent += buf.length;
          if (stream.write(buf) || stream.finished) return;
          rs.pause();
          off = stream.onDrain(() => {
            off?.();
            off = undefined;
            rs.resume();
          });
        });
        rs.on('end', () => stream.end({ status: 'fulfilled', value: { image: { name: spec.image, size, readed: sent } } }));
        rs.on('error', (e) => stream.end({ status: 'rejected', reason: `read failed: ${message(e)}` }));
        const stop = (): void => {
          off?.();
          rs.destroy();
        };
        stream.onCommand((cmd) => {
          if (cmd.type !== 'cancel' && cmd.type !== 'detach') return;
          stop();
          stream.end({ status: 'rejected', reason: 'cancelled' });
        });
        stream.onGone(stop);
        return { image: spec.image, size };
      },
    },
  };
}
