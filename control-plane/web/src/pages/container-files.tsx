import { useState } from 'preact/hooks';
import { apiRoute, refreshSession } from '../lib/api.js';
import { bytes } from '../lib/format.js';
import { ErrorBox, useAction, useDialogs, useLoad } from '../lib/ui.js';

const join = (dir: string, name: string) => (dir.endsWith('/') ? dir + name : `${dir}/${name}`);
const parent = (dir: string) => dir.replace(/\/[^/]+\/?$/, '') || '/';
const plainName = (v: string) => (v.includes('/') ? 'A name cannot contain "/".' : v === '.' || v === '..' ? 'Choose another name.' : undefined);

/** XMLHttpRequest for its upload progress events (fetch has none for request bodies). */
function upload(url: string, file: File, onProgress: (done: number, total: number) => void): Promise<void> {
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PUT', url);
      xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
      xhr.onload = () => (xhr.status < 300 ? resolve(xhr.status) : xhr.status === 401 ? resolve(401) : reject(new Error(errorText(xhr.responseText, xhr.status))));
      xhr.onerror = () => reject(new Error('upload failed: the connection broke'));
      xhr.send(file);
    });
  return once().then(async (s) => {
    if (s !== 401) return;
    if (!(await refreshSession())) throw new Error('your session has ended; log in again');
    if ((await once()) === 401) throw new Error('your session has ended; log in again');
  });
}
function errorText(body: string, status: number): string {
  try {
    const v: unknown = JSON.parse(body);
    if (v && typeof v === 'object' && 'error' in v) {
      const e: unknown = v.error;
      if (e && typeof e === 'object' && 'message' in e && typeof e.message === 'string') return e.message;
    }
  } catch {
    // not JSON
  }
  return `upload failed (HTTP ${status})`;
}

export function FilesPanel({ deviceId, server }: { deviceId: string; server: string }) {
  const [dir, setDir] = useState('/');
  const params = { id: deviceId, name: server };
  // Up- and downloads are streamed bodies (XHR with progress, a plain link), not JSON calls.
  const base = `/api/devices/${encodeURIComponent(deviceId)}/servers/${encodeURIComponent(server)}`;
  const files = useLoad((s) => apiRoute('fileList', { params, query: { path: dir }, signal: s }), [deviceId, server, dir]);
  const action = useAction();
  const dialogs = useDialogs();
  const [progress, setProgress] = useState<{ name: string; done: number; total: number } | undefined>(undefined);
  const entries = [...(files.data ?? [])].sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type === 'directory' ? -1 : 1));
  const doUpload = (list: FileList | null) => {
    const file = list?.[0];
    if (!file) return;
    void action.run(async () => {
      setProgress({ name: file.name, done: 0, total: file.size });
      try {
        await upload(`${base}/files/content?path=${encodeURIComponent(join(dir, file.name))}`, file, (done, total) => setProgress({ name: file.name, done, total }));
      } finally {
        setProgress(undefined);
      }
      files.reload();
    });
  };
  return (
    <div class="stack">
      <div class="row">
        <strong class="mono" aria-label="Current folder">{dir}</strong>
        {dir !== '/' && <button type="button" onClick={() => setDir(parent(dir))}>Up</button>}
        <button type="button" onClick={async () => { const name = await dialogs.prompt({ title: 'New folder', message: <>In <code>{dir}</code></>, label: 'Folder name', confirmLabel: 'Create', validate: plainName }); if (name) void action.run(async () => { await apiRoute('fileMkdir', { params, body: { path: join(dir, name) } }); files.reload(); }); }}>New folder</button>
        <label class="inline">
          Upload <input type="file" onChange={(e) => doUpload(e.currentTarget.files)} disabled={action.busy} />
        </label>
      </div>
      {progress && (
        <div role="status">
          Uploading {progress.name}: {bytes(progress.done)} of {bytes(progress.total)}
          <progress class="progress" max={progress.total || 1} value={progress.done} />
        </div>
      )}
      <ErrorBox error={files.error ?? action.error} />
      <table class="files" aria-label="Files">
        <thead><tr><th>Name</th><th>Size</th><th>Modified</th><th><span class="muted">Actions</span></th></tr></thead>
        <tbody>
          {entries.map((f) => {
            const path = join(dir, f.name);
            return (
              <tr key={f.name}>
                <td>{f.type === 'directory' ? <button type="button" class="link" style={{ fontSize: '1em' }} onClick={() => setDir(path)}>📁 {f.name}</button> : <span class="mono">{f.name}</span>}</td>
                <td class="num">{f.type === 'directory' ? '' : bytes(f.size)}</td>
                <td class="muted">{new Date(f.modifiedAt).toLocaleString()}</td>
                <td class="row">
                  {f.type === 'file' && <a href={`${base}/files/content?path=${encodeURIComponent(path)}`} download={f.name}>Download</a>}
                  <button type="button" onClick={async () => { const to = await dialogs.prompt({ title: `Rename ${f.name}`, label: 'New name', initial: f.name, confirmLabel: 'Rename', validate: plainName }); if (to && to !== f.name) void action.run(async () => { await apiRoute('fileRename', { params, body: { from: path, to: join(dir, to) } }); files.reload(); }); }}>Rename</button>
                  <button type="button" class="danger" onClick={async () => { if (await dialogs.confirm({ title: `Delete ${f.name}?`, message: <>This removes <code>{path}</code>{f.type === 'directory' ? ' and everything in it' : ''} from the container. It cannot be undone.</>, confirmLabel: 'Delete', danger: true })) void action.run(async () => { await apiRoute('fileDelete', { params, body: { path } }); files.reload(); }); }}>Delete</button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {files.data?.length === 0 && <p class="muted">Empty folder.</p>}
      {dialogs.element}
    </div>
  );
}
