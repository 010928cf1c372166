import type { Kysely } from 'kysely';

/**
 * Jobs (control-plane/src/jobs/): one row per job and one per (job, device). A device run is
 * claimed with a conditional UPDATE of its status (and, while it runs, a lease renewed by the
 * replica running it), so replicas sharing the store never run it twice, and a replica that
 * died mid-run leaves a lease another one (or its own restart) takes over.
 */
// Frozen in time: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('operation', 'text', (c) => c.notNull())
    .addColumn('selection', 'text', (c) => c.notNull())
    .addColumn('rollout', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('message', 'text')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addColumn('batch', 'integer', (c) => c.notNull())
    .addColumn('batches', 'integer', (c) => c.notNull())
    .addColumn('batch_settled_at', 'text')
    .execute();
  await db.schema.createIndex('jobs_state').on('jobs').columns(['state', 'created_at']).execute();
  await db.schema
    .createTable('job_devices')
    .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('device_name', 'text', (c) => c.notNull())
    .addColumn('batch', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('owner', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('exit_code', 'integer')
    .addColumn('output', 'text')
    .addColumn('message', 'text')
    .addColumn('started_at', 'text')
    .addColumn('finished_at', 'text')
    .addPrimaryKeyConstraint('job_devices_pk', ['job_id', 'device_id'])
    .execute();
  await db.schema.createIndex('job_devices_status').on('job_devices').columns(['job_id', 'status']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('job_devices').ifExists().execute();
  await db.schema.dropTable('jobs').ifExists().execute();
}
