import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EdgehookError } from '@edgehook/shared';
import { nodeDownload } from '../../../agent/src/updates/package-download.js';
import { cleanup, repoRoot, startTestControlPlane, tempDir, type TestControlPlane } from '../helpers/harness.js';

// The agent's package download against a real control plane over TLS with a self-signed
// certificate: it keeps the agent's trust (a pinned fingerprint) and its size bound.
let cp: TestControlPlane;
let work: string;
let url: URL;
let want: { sha256: string; size: number };

test.before(async () => {
  work = await tempDir('edgehook-download-');
  cp = await startTestControlPlane({ args: ['--tls', 'self-signed', '--mqtts-port', '0'] });
  const bytes = await readFile(join(repoRoot, 'agent/dist-package/edgehook-agent.tgz'));
  const version = JSON.parse(await readFile(join(repoRoot, 'agent/dist-package/edgehook-agent/package.json'), 'utf8')).version;
  want = { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
  url = new URL(`/downloads/agent/${version}/edgehook-agent.tgz`, cp.url);
});

test.after(async () => {
  await cp.close();
  await cleanup(cp.dataDir, work);
});

async function refusal(p: Promise<unknown>): Promise<EdgehookError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof EdgehookError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

test('with the pinned fingerprint: the package arrives whole, hashed as it was written', async () => {
  assert.match(url.href, /^https:/);
  const dest = join(work, 'ok.tgz');
  const got = await nodeDownload({ fingerprint: cp.tls?.fingerprint })(url, dest, want.size);
  assert.equal(got, { bytes: want.size, sha256: want.sha256 });
  assert.is(createHash('sha256').update(await readFile(dest)).digest('hex'), want.sha256);
});

test('another fingerprint or no trust: refused; more bytes than announced: cut off; unknown version: NOT_FOUND', async () => {
  const pinned = await refusal(nodeDownload({ fingerprint: `sha256:${'ab'.repeat(32)}` })(url, join(work, 'x.tgz'), want.size));
  assert.match(pinned.message, 'not the pinned');
  const system = await refusal(nodeDownload({})(url, join(work, 'y.tgz'), want.size));
  assert.match(system.message, 'not trusted');
  const big = await refusal(nodeDownload({ fingerprint: cp.tls?.fingerprint })(url, join(work, 'z.tgz'), want.size - 1));
  assert.match(big.message, 'larger than');
  const missing = await refusal(nodeDownload({ fingerprint: cp.tls?.fingerprint })(new URL('/downloads/agent/9.9.9/edgehook-agent.tgz', cp.url), join(work, 'w.tgz'), 10));
  assert.is(missing.code, 'NOT_FOUND');
});

test.run();
