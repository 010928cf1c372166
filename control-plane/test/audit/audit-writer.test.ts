import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AuditQuery } from '@edgehook/shared';
import { migrateToLatest, openDatabase } from '../../src/db/dialect.js';
import { AuditWriter } from '../../src/audit/audit-writer.js';
import { queryAudit, type NewAuditEntry } from '../../src/audit/audit.repository.js';
import { memoryLogger } from '../helpers/harness.js';

const entry = (action: string): NewAuditEntry => ({ actorId: null, actor: 'admin', source: '127.0.0.1', action, deviceId: null, target: null, result: 'ok', status: 200, detail: null, replica: 'cp-a' });

async function store() {
  const db = await openDatabase({ kind: 'sqlite', path: ':memory:' });
  await migrateToLatest(db);
  return db;
}

const t = suite('audit writer');

t('a queued row is in the store after one turn of the event loop, without a flush', async () => {
  const db = await store();
  const { log } = memoryLogger();
  const writer = new AuditWriter({ db, log });
  writer.write(entry('devices.ping'), Date.parse('2026-12-02T10:00:00Z'));
  assert.is(writer.pending, 1);
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  const page = await queryAudit(db, AuditQuery.parse({}));
  assert.equal(page.entries.map((e) => [e.action, e.at]), [['devices.ping', '2026-12-02T10:00:00.000Z']]);
  assert.is(writer.pending, 0);
  await db.destroy();
});

t('flush writes every queued row, more than one INSERT holds, each with its own time', async () => {
  const db = await store();
  const { log } = memoryLogger();
  const writer = new AuditWriter({ db, log });
  const base = Date.parse('2026-12-02T10:00:00Z');
  for (let i = 0; i < 450; i++) writer.write(entry(`a.${i}`), base + i);
  await writer.flush();
  const page = await queryAudit(db, AuditQuery.parse({ limit: 500 }));
  assert.is(page.entries.length, 450);
  // Newest first: the last queued row has the latest time.
  assert.is(page.entries[0]?.action, 'a.449');
  assert.is(page.entries[0]?.at, new Date(base + 449).toISOString());
  assert.is(page.entries[449]?.action, 'a.0');
  await db.destroy();
});

t('a store that refuses the write is logged with the actions lost; later rows still go in', async () => {
  const db = await store();
  const { log, lines } = memoryLogger();
  const writer = new AuditWriter({ db, log });
  await db.schema.alterTable('audit_log').renameTo('audit_log_away').execute();
  writer.write(entry('users.create'), Date.now());
  await writer.flush();
  assert.ok(lines.some((l) => l.includes('audit entries not written') && l.includes('users.create')), lines.join('\n'));
  await db.schema.alterTable('audit_log_away').renameTo('audit_log').execute();
  writer.write(entry('users.delete'), Date.now());
  await writer.flush();
  const page = await queryAudit(db, AuditQuery.parse({}));
  assert.equal(page.entries.map((e) => e.action), ['users.delete']);
  await db.destroy();
});

t.run();
