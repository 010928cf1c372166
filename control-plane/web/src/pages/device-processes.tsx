import { useRef, useState } from 'preact/hooks';
import type { DeviceView, ProcessSignalName } from '@edgehook/shared';
import { apiRoute, loadSchemas, messageOf, openSocket, parseFrame } from '../lib/api.js';
import { useSession } from '../lib/session.js';
import { ErrorBox, Spinner, useAction, useLoad } from '../lib/ui.js';
import { ActionPicker, checkParams, splitArgs } from './action-picker.js';

export { splitArgs };

const SIGNALS: readonly ProcessSignalName[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGKILL'];

type Run = { state: 'idle' } | { state: 'running'; pid?: number } | { state: 'done'; result: string; ok: boolean };

export function ProcessesTab({ device }: { device: DeviceView }) {
  const session = useSession();
  const arbitrary = session.can('devices.exec.arbitrary');
  const [mode, setMode] = useState<'action' | 'command'>('action');
  const [action, setAction] = useState('echo');
  const [params, setParams] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [command, setCommand] = useState('');
  const [input, setInput] = useState('');
  const [output, setOutput] = useState('');
  const [run, setRun] = useState<Run>({ state: 'idle' });
  const [error, setError] = useState<unknown>(undefined);
  const sock = useRef<WebSocket | undefined>(undefined);
  const running = useLoad((s) => (device.online ? apiRoute('processList', { params: { id: device.id }, signal: s }) : Promise.resolve([])), [device.id, device.online], 5000);
  const signal = useAction();
  const declared = useLoad((s) => (device.online ? apiRoute('powActions', { params: { id: device.id }, signal: s }) : Promise.resolve(undefined)), [device.id, device.online]);
  const actions = declared.data;
  // Keep the choice when it is declared; otherwise the first declared action.
  const selected = actions && !actions.some((a) => a.name === action) ? (actions[0]?.name ?? '') : action;

  const start = async (e: Event) => {
    e.preventDefault();
    const chosen = actions?.find((a) => a.name === selected);
    if (mode === 'action' && chosen) {
      const bad = checkParams(chosen, chosen.params.max > 0 ? splitArgs(params) : []);
      setProblem(bad);
      if (bad) return;
    }
    setOutput('');
    setError(undefined);
    setRun({ state: 'running' });
    const dec = new TextDecoder();
    try {
      const { RelayServerMessage } = await loadSchemas();
      const ws = await openSocket(`/api/devices/${encodeURIComponent(device.id)}/exec`);
      sock.current = ws;
      const open = mode === 'action' ? { type: 'open', call: selected.trim(), params: chosen && chosen.params.max === 0 ? [] : splitArgs(params) } : { type: 'open', argv: splitArgs(command) };
      ws.send(JSON.stringify(open));
      ws.onmessage = (m) => {
        if (m.data instanceof ArrayBuffer) {
          const bytes = new Uint8Array(m.data);
          const text = dec.decode(bytes.subarray(1), { stream: true });
          setOutput((o) => (o + text).slice(-200_000));
          return;
        }
        const msg = parseFrame(RelayServerMessage, m.data);
        if (!msg) return;
        if (msg.type === 'opened') {
          const pid = msg.info['pid'];
          setRun({ state: 'running', ...(typeof pid === 'number' ? { pid } : {}) });
          running.reload();
        } else if (msg.type === 'error') {
          setError(new Error(msg.message || 'the process could not start'));
          setRun({ state: 'done', result: 'failed to start', ok: false });
        } else if (msg.type === 'notice') setOutput((o) => `${o}\n[${msg.message}]\n`);
        else if (msg.type === 'end') {
          const r = msg.result;
          const text =
            r.status === 'fulfilled'
              ? `fulfilled${r.value !== undefined ? `: ${JSON.stringify(r.value)}` : ''}${r.exitCode !== undefined && r.exitCode !== null ? ` (exit ${r.exitCode})` : ''}`
              : `rejected: ${r.reason}`;
          setRun({ state: 'done', result: text, ok: r.status === 'fulfilled' });
          // The agent drops the entry just after the end: look again a moment later.
          setTimeout(running.reload, 1000);
        }
      };
      ws.onclose = () => setRun((r) => (r.state === 'running' ? { state: 'done', result: 'connection closed', ok: false } : r));
    } catch (err) {
      setError(err);
      setRun({ state: 'idle' });
    }
  };
  const send = (data: object | string) => {
    const ws = sock.current;
    if (ws?.readyState !== WebSocket.OPEN) return;
    ws.send(typeof data === 'string' ? new TextEncoder().encode(data) : JSON.stringify(data));
  };
  const active = run.state === 'running';

  return (
    <div class="grid2">
      <form class="card stack" onSubmit={start} aria-label="Run a process">
        <h2>Run</h2>
        {arbitrary && (
          <div class="row" role="radiogroup" aria-label="What to run">
            <label class="inline"><input type="radio" name="mode" checked={mode === 'action'} onChange={() => setMode('action')} /> Declared action</label>
            <label class="inline"><input type="radio" name="mode" checked={mode === 'command'} onChange={() => setMode('command')} /> Command</label>
          </div>
        )}
        {mode === 'action' && actions ? (
          <ActionPicker actions={actions} selected={selected} onSelect={(n) => { setAction(n); setProblem(undefined); }} params={params} onParams={(v) => { setParams(v); setProblem(undefined); }} problem={problem} />
        ) : mode === 'action' && device.online && declared.loading ? (
          <Spinner label="Loading the declared actions" />
        ) : mode === 'action' ? (
          <>
            <ErrorBox error={declared.error} />
            <label>
              Action
              <input name="action" value={action} onInput={(e) => setAction(e.currentTarget.value)} required placeholder="echo" />
            </label>
            <label>
              Parameters (space separated, "quotes" for spaces)
              <input name="params" value={params} onInput={(e) => setParams(e.currentTarget.value)} />
            </label>
            <p class="muted">Actions are declared in the agent's actions file (<code>--actions</code>); the device checks the name and parameters.</p>
          </>
        ) : (
          <label>
            Command (argv, no shell)
            <input name="command" value={command} onInput={(e) => setCommand(e.currentTarget.value)} required placeholder="uname -a" />
          </label>
        )}
        <div class="row">
          <button type="submit" class="primary" disabled={!device.online || active || (mode === 'action' && actions?.length === 0)}>{active ? 'Running…' : 'Run'}</button>
          <button type="button" disabled={!active} onClick={() => send({ type: 'cancel' })}>Cancel</button>
        </div>
        <ErrorBox error={error} />
        <label>
          Input
          <textarea name="stdin" rows={2} value={input} onInput={(e) => setInput(e.currentTarget.value)} disabled={!active} />
        </label>
        <div class="row">
          <button type="button" disabled={!active || !input} onClick={() => { send(input + '\n'); setInput(''); }}>Send input</button>
          <button type="button" disabled={!active} onClick={() => send({ type: 'close-input' })}>Close input</button>
        </div>
        <h3>Output {run.state === 'running' && run.pid !== undefined && <span class="muted">(pid {run.pid})</span>}</h3>
        <pre class="output" aria-live="polite" data-testid="process-output">{output}</pre>
        {run.state === 'done' && (
          <p role="status" data-testid="process-result" class={run.ok ? '' : 'error'}>Result: {run.result}</p>
        )}
      </form>
      <div class="card">
        <div class="row between">
          <h2>Running</h2>
          <button type="button" onClick={running.reload}>Refresh</button>
        </div>
        <ErrorBox error={running.error} />
        <ErrorBox error={signal.error} />
        <table>
          <thead><tr><th>PID</th><th>Title</th><th>CPU %</th><th>Mem %</th><th>RSS</th><th>Ports</th><th><span class="muted">Signal</span></th></tr></thead>
          <tbody>
            {(running.data ?? []).map((p) => (
              <tr key={p.id}>
                <td class="num">{p.pid}</td>
                <td class="mono">{p.title}</td>
                <td class="num">{p.cpu_util.toFixed(1)}</td>
                <td class="num" data-testid="mem-percent">{p.mem_percent === undefined ? '–' : p.mem_percent.toFixed(1)}</td>
                <td class="num">{p.mem_util.toFixed(1)} MB</td>
                <td>{p.port_util.join(', ') || '–'}</td>
                <td>
                  <select
                    aria-label={`Send a signal to ${p.pid}`}
                    value=""
                    onChange={(e) => {
                      const picked = e.currentTarget.value;
                      const mode = SIGNALS.find((s) => s === picked);
                      if (mode) void signal.run(async () => { await apiRoute('processSignal', { params: { id: device.id }, body: { pid: p.pid, mode } }); running.reload(); });
                    }}
                  >
                    <option value="">send…</option>
                    {SIGNALS.map((s) => <option key={s}>{s}</option>)}
                  </select>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {running.data?.length === 0 && <p class="muted">Nothing the agent started is running.</p>}
        {!device.online && <p class="muted">{messageOf(new Error('The device is offline.'))}</p>}
      </div>
    </div>
  );
}
