import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const run = promisify(execFile);
const endpoint = fileURLToPath(new URL('../../src/telemetry/local-endpoint.ts', import.meta.url));

// In a fresh process (this one has node:http loaded already): the port listens without node:http,
// the first connection loads it and is answered, and close() ends a connection left half-sent.
const script = `
import { connect } from 'node:net';
import { createLogger } from '@edgehook/shared';
import { startLocalEndpoint } from ${JSON.stringify(endpoint)};
const httpLoaded = () => process.moduleLoadList.includes('NativeModule http');
const ep = await startLocalEndpoint({ port: 0, log: createLogger({ level: 'error', format: 'json', write: () => undefined }), now: Date.now, push: () => true });
const before = httpLoaded();
const ask = (text) => new Promise((resolve, reject) => {
  const s = connect(ep.port, '127.0.0.1', () => s.write(text));
  let got = '';
  s.on('data', (d) => (got += d)).on('end', () => resolve(got)).on('error', reject);
});
const health = await ask('GET /v1/health HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n');
const push = await ask('POST /v1/traces HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\nContent-Type: application/json\\r\\nContent-Length: 48\\r\\n\\r\\n{"group":"g","samples":[{"name":"n","value":1}]}');
const half = connect(ep.port, '127.0.0.1', () => half.write('GET /v1/health HTTP/1.1\\r\\nHost'));
await new Promise((r) => setTimeout(r, 100));
const closing = Date.now();
await ep.close();
process.stdout.write(JSON.stringify({ before, after: httpLoaded(), health: health.split('\\r\\n')[0], push: push.split('\\r\\n')[0], closeMs: Date.now() - closing }));
`;

test('the local endpoint loads node:http on its first connection, answers it, and closes with a connection open', async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 20_000 });
  const r = JSON.parse(stdout) as { before: boolean; after: boolean; health: string; push: string; closeMs: number };
  assert.is(r.before, false, 'node:http loaded before any connection');
  assert.is(r.after, true);
  assert.is(r.health, 'HTTP/1.1 200 OK');
  assert.is(r.push, 'HTTP/1.1 202 Accepted');
  assert.ok(r.closeMs < 1000, `close took ${r.closeMs} ms`);
});

test.run();
