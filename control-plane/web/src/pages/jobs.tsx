import type { JobCounts, JobDetail, JobView } from '@edgehook/shared';
import { apiRoute } from '../lib/api.js';
import { ago } from '../lib/format.js';
import { useSession } from '../lib/session.js';
import { ErrorBox, NoPermission, useAction, useLoad } from '../lib/ui.js';

/** Refresh while a job runs; the list and the drill-down poll the REST map (no socket to hold). */
const POLL_MS = 1000;

const SEGMENTS: Array<{ key: keyof Omit<JobCounts, 'total'>; label: string; cls: string }> = [
  { key: 'succeeded', label: 'succeeded', cls: 'ok' },
  { key: 'failed', label: 'failed', cls: 'bad' },
  { key: 'timed-out', label: 'timed out', cls: 'bad' },
  { key: 'cancelled', label: 'cancelled', cls: 'off' },
  { key: 'running', label: 'running', cls: 'run' },
  { key: 'waiting', label: 'waiting (offline)', cls: 'wait' },
];

/** One bar per job: a segment per status, widths in proportion; the numbers beside it for readers. */
function Progress({ counts }: { counts: JobCounts }) {
  const done = counts.succeeded + counts.failed + counts['timed-out'] + counts.cancelled;
  const summary = SEGMENTS.filter((s) => counts[s.key] > 0).map((s) => `${counts[s.key]} ${s.label}`).join(', ');
  return (
    <div class="job-progress">
      <div class="job-bar" role="progressbar" aria-label="Devices done" aria-valuemin={0} aria-valuemax={counts.total} aria-valuenow={done} aria-valuetext={`${done} of ${counts.total} done`}>
        {SEGMENTS.map((s) => counts[s.key] > 0 && <span key={s.key} class={`seg ${s.cls}`} style={{ width: `${(100 * counts[s.key]) / Math.max(1, counts.total)}%` }} title={`${counts[s.key]} ${s.label}`} />)}
      </div>
      <span class="muted">{done}/{counts.total} done{summary ? ` · ${summary}` : ''}</span>
    </div>
  );
}

function operationText(job: JobView): string {
  return `${job.kind} ${JSON.stringify(job.operation.spec)}`;
}

/** /jobs: every job, newest first, with its progress. */
export function JobsPage() {
  const session = useSession();
  const jobs = useLoad((signal) => apiRoute('jobList', { query: { limit: 100 }, signal }), [], POLL_MS);
  if (!session.can('jobs.read')) return <section class="page"><NoPermission what="see jobs" permission="jobs.read" /></section>;
  const list: JobView[] = jobs.data ?? [];
  return (
    <section class="page stack">
      <h1>Jobs</h1>
      <p class="muted">One operation across many devices. Start one with <code>edgehook job run --tag T -- action</code> or <code>POST /api/jobs</code>.</p>
      <ErrorBox error={jobs.error} />
      <div class="card" style={{ overflowX: 'auto' }}>
        <table aria-label="Jobs">
          <thead><tr><th>Job</th><th>Operation</th><th>State</th><th>Progress</th><th>Started</th><th>By</th></tr></thead>
          <tbody>
            {list.map((j) => (
              <tr key={j.id} data-job={j.id}>
                <td><a href={`/jobs/${encodeURIComponent(j.id)}`}>{j.id.slice(0, 8)}</a></td>
                <td><code>{operationText(j)}</code></td>
                <td class={j.state === 'failed' || j.state === 'aborted' ? 'danger-text' : ''}>{j.state}</td>
                <td><Progress counts={j.counts} /></td>
                <td title={j.createdAt}>{ago(j.createdAt)}</td>
                <td>{j.createdBy ?? '–'}</td>
              </tr>
            ))}
            {!jobs.loading && list.length === 0 && <tr><td colSpan={6} class="muted">No jobs yet.</td></tr>}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** /jobs/:id: the job's progress and one row per device, its output tail a click away. */
export function JobPage({ id }: { id: string }) {
  const session = useSession();
  const job = useLoad((signal) => apiRoute('jobGet', { params: { id }, signal }), [id], POLL_MS);
  const cancel = useAction();
  const j: JobDetail | undefined = job.data;
  return (
    <section class="page stack">
      <p><a href="/jobs">← Jobs</a></p>
      <h1>Job {id.slice(0, 8)}</h1>
      <ErrorBox error={job.error ?? cancel.error} />
      {j && (
        <>
          <div class="card stack">
            <div class="row">
              <strong data-testid="job-state">{j.state}</strong>
              <span class="muted">batch {j.batch + 1} of {j.batches}</span>
              <code>{operationText(j)}</code>
              {j.message && <span class="muted">{j.message}</span>}
              {j.state === 'running' && session.can('jobs.run') && (
                <button type="button" class="danger" disabled={cancel.busy} onClick={() => void cancel.run(async () => { await apiRoute('jobCancel', { params: { id } }); job.reload(); })}>Cancel job</button>
              )}
            </div>
            <Progress counts={j.counts} />
          </div>
          <div class="card" style={{ overflowX: 'auto' }}>
            <table aria-label="Devices">
              <thead><tr><th>Device</th><th>Batch</th><th>Status</th><th>Exit</th><th>Detail</th></tr></thead>
              <tbody>
                {j.devices.map((d) => (
                  <tr key={d.deviceId} data-device={d.name}>
                    <td><a href={`/devices/${encodeURIComponent(d.deviceId)}`}>{d.name}</a></td>
                    <td>{d.batch + 1}</td>
                    <td class={d.status === 'failed' || d.status === 'timed-out' ? 'danger-text' : ''}>{d.status}</td>
                    <td>{d.exitCode ?? '–'}</td>
                    <td>
                      {d.message && <span class="muted">{d.message}</span>}
                      {d.output && (
                        <details>
                          <summary>Output</summary>
                          <pre class="job-output">{d.output}</pre>
                        </details>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
