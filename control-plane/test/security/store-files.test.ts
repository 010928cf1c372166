// Finding 9 of issue 13 (store part): the SQLite file and data directory are private (0600/0700),
// deleting the data directory while running is noticed and fails loudly (health 503, a STORE LOST
// log line, `edgehook serve` exits 70), and a device name may not equal another device's id.
import { spawn } from 'node:child_process';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN_PASSWORD, CP_MAIN, SAMPLE_DESCRIPTION, adminApi, cleanup, createEnrollmentToken, enrollRaw, jsonOf, startTestControlPlane, tempDir, waitFor } from '../helpers/harness.js';

const t = suite('store files');

t('the data directory is 0700 and the SQLite file 0600 (and existing ones are tightened)', async () => {
  const dataDir = await tempDir();
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  const cp = await startTestControlPlane({ dataDir });
  try {
    assert.is((await stat(dataDir)).mode & 0o777, 0o700);
    assert.is((await stat(join(dataDir, 'edgehook.db'))).mode & 0o777, 0o600);
    const wal = await stat(join(dataDir, 'edgehook.db-wal')).catch(() => undefined);
    if (wal) assert.is(wal.mode & 0o077, 0, 'the WAL is not readable by others');
  } finally {
    await cp.close();
    await cleanup(dataDir);
  }
});

t('deleting the data directory while running is detected: 503 health and a STORE LOST log', async () => {
  const dataDir = await tempDir();
  const cp = await startTestControlPlane({ dataDir });
  try {
    assert.is((await fetch(cp.url + '/api/health')).status, 200);
    await rm(dataDir, { recursive: true, force: true });
    await waitFor('the loss noticed', () => cp.fatal !== undefined, 15_000);
    const health = await fetch(cp.url + '/api/health');
    assert.is(health.status, 503);
    assert.match((await jsonOf(health)).error, /deleted/);
    assert.ok(cp.logs.some((l) => l.includes('STORE LOST')));
  } finally {
    await cp.close();
  }
});

t('`edgehook serve` exits (70) with a clear message when its data directory is deleted', async () => {
  const dataDir = await tempDir();
  const child = spawn(process.execPath, [CP_MAIN, 'serve', '--port', '0', '--mqtt-port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EDGEHOOK_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitFor('serving', () => out.includes('Edgehook control plane:'), 20_000);
    await rm(dataDir, { recursive: true, force: true });
    assert.is(await exited, 70);
    assert.match(out, /fatal: the database file .* was deleted/);
  } finally {
    child.kill('SIGKILL');
  }
});

t('a device may not be named after another device\'s id', async () => {
  const cp = await startTestControlPlane();
  try {
    const api = await adminApi(cp);
    const a = await jsonOf(await enrollRaw(cp, await createEnrollmentToken(api)));
    const b = await jsonOf(await enrollRaw(cp, await createEnrollmentToken(api), { ...SAMPLE_DESCRIPTION, hostname: 'pi-b' }));
    const clash = await api.request('PATCH', `/api/devices/${b.deviceId}`, { name: a.deviceId });
    assert.is(clash.status, 409);
    assert.match(clash.body.error.message, /id/);
    // Enrolling a device whose hostname is another device's id gets another name.
    const c = await jsonOf(await enrollRaw(cp, await createEnrollmentToken(api), { ...SAMPLE_DESCRIPTION, hostname: a.deviceId }));
    const view = await api.request('GET', `/api/devices/${c.deviceId}`);
    assert.is.not(view.body.name, a.deviceId);
    assert.is((await api.request('GET', `/api/devices/${a.deviceId}`)).body.id, a.deviceId, 'the id still finds its own device');
  } finally {
    await cp.close();
    await cleanup(cp.dataDir);
  }
});

t.run();
