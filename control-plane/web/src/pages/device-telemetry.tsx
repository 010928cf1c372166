import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { DeviceView } from '@edgehook/shared';
import { apiRoute, loadSchemas, openSocket, parseFrame } from '../lib/api.js';
import { formatMetricTicks, formatMetricValue, metricUnit, unitLabel } from '@edgehook/shared/units';
import { ErrorBox, Spinner, useLoad } from '../lib/ui.js';

const RANGES = [
  { from: '-15m', label: '15 min', step: '10s' },
  { from: '-1h', label: '1 hour', step: '30s' },
  { from: '-6h', label: '6 hours', step: '2m' },
  { from: '-24h', label: '24 hours', step: '10m' },
  { from: '-7d', label: '7 days', step: '1h' },
] as const;

const labelKey = (l: Record<string, string> | undefined) => (l ? Object.entries(l).sort().map(([k, v]) => `${k}=${v}`).join(',') : '');

export function TelemetryTab({ device }: { device: DeviceView }) {
  const metrics = useLoad((s) => apiRoute('telemetryMetrics', { params: { id: device.id }, signal: s }), [device.id], 30_000);
  const [metric, setMetric] = useState('cpu.usage');
  const [range, setRange] = useState<(typeof RANGES)[number]>(RANGES[0]);
  const [live, setLive] = useState(true);
  const names = metrics.data?.metrics.map((m) => m.metric) ?? [];
  useEffect(() => {
    if (names.length && !names.includes(metric)) setMetric(names.includes('cpu.usage') ? 'cpu.usage' : names[0] ?? metric);
  }, [names.join()]);

  return (
    <div class="stack">
      <div class="toolbar">
        <label>
          Metric
          <select value={metric} onChange={(e) => setMetric(e.currentTarget.value)} disabled={names.length === 0}>
            {(names.length ? names : [metric]).map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
        <fieldset class="row" style={{ border: 0, padding: 0, margin: 0 }}>
          <legend class="muted">Range</legend>
          {RANGES.map((r) => (
            <button key={r.from} type="button" aria-pressed={r === range} class={r === range ? 'primary' : ''} onClick={() => setRange(r)}>
              {r.label}
            </button>
          ))}
        </fieldset>
        <label class="inline">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.currentTarget.checked)} /> Live tail
        </label>
      </div>
      <ErrorBox error={metrics.error} />
      {metrics.data && names.length === 0 ? (
        <p class="muted">The device has reported no telemetry yet.</p>
      ) : (
        <Chart deviceId={device.id} metric={metric} range={range} live={live} />
      )}
    </div>
  );
}

function Chart({ deviceId, metric, range, live }: { deviceId: string; metric: string; range: (typeof RANGES)[number]; live: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const data = useRef<{ keys: string[]; x: number[]; ys: (number | null)[][] }>({ keys: [], x: [], ys: [] });
  const [points, setPoints] = useState(0);
  const [last, setLast] = useState<{ ts: number; value: number } | undefined>(undefined);
  const result = useLoad((s) => apiRoute('telemetryQuery', { params: { id: deviceId }, query: { metric, from: range.from, step: range.step, agg: 'avg' }, signal: s }), [deviceId, metric, range.from]);

  const redraw = () => {
    const d = data.current;
    plot.current?.setData([d.x, ...d.ys] as uPlot.AlignedData);
    setPoints(d.ys.reduce((n, y) => n + y.filter((v) => v !== null).length, 0));
  };

  // (Re)build the chart from a query result.
  useEffect(() => {
    const el = host.current;
    const r = result.data;
    if (!el || !r) return;
    const keys = r.series.map((s) => labelKey(s.labels));
    const x = (r.series[0]?.points ?? []).map((p) => p[0] / 1000);
    const ys = r.series.map((s) => s.points.map((p) => p[1]));
    data.current = { keys, x, ys };
    const styles = getComputedStyle(document.documentElement);
    const fg = styles.getPropertyValue('--muted').trim() || '#888';
    // Ticks with the metric's unit and SI prefixes (12.3 kB/s, 1.2 GB), never "0,000".
    const unit = metricUnit(metric);
    const tick = (_u: uPlot, splits: number[]) => {
      const out = formatMetricTicks(unit, splits);
      // uPlot draws ticks on the canvas: the texts are also kept here, for tests and screen readers' tools.
      el.dataset['yTicks'] = JSON.stringify(out);
      return out;
    };
    const palette = ['#2f7d6d', '#d9822b', '#3b82f6', '#b3261e', '#8b5cf6', '#0ea5e9', '#ca8a04', '#db2777'];
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height: 300,
      scales: { x: { time: true } },
      axes: [
        { stroke: fg, grid: { stroke: 'rgba(128,128,128,.15)' } },
        { stroke: fg, grid: { stroke: 'rgba(128,128,128,.15)' }, values: tick, size: 70, label: unitLabel(unit), labelSize: 18 },
      ],
      series: [{}, ...keys.map((k, i) => ({ label: k || metric, stroke: palette[i % palette.length] ?? '#888', width: 1.5, spanGaps: true, points: { show: false } }))],
      legend: { show: keys.length > 1 || keys[0] !== '' },
    };
    plot.current?.destroy();
    plot.current = new uPlot(opts, [x, ...ys] as uPlot.AlignedData, el);
    redraw();
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth, height: 300 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [result.data]);

  // Live tail: samples of this metric appended as they are stored.
  useEffect(() => {
    if (!live) return;
    let ws: WebSocket | undefined;
    let closed = false;
    Promise.all([loadSchemas(), openSocket(`/api/telemetry/live?device=${encodeURIComponent(deviceId)}&metric=${encodeURIComponent(metric)}`)])
      .then(([{ LiveFrame }, s]) => {
        if (closed) return s.close();
        ws = s;
        s.onmessage = (m) => {
          const f = parseFrame(LiveFrame, m.data);
          if (f?.type !== 'samples') return;
          const d = data.current;
          const byKey = new Map(f.samples.filter((x) => x.m === metric).map((x) => [labelKey(x.l), x]));
          if (byKey.size === 0) return;
          if (d.keys.length === 0) {
            d.keys = [...byKey.keys()];
            d.ys = d.keys.map(() => []);
          }
          d.x.push(f.ts / 1000);
          d.keys.forEach((k, i) => d.ys[i]?.push(byKey.get(k)?.v ?? null));
          const first = byKey.values().next().value;
          if (first) setLast({ ts: f.ts, value: first.v });
          // Keep the visible window: drop points older than the range start.
          const horizon = Date.now() / 1000 + Number(range.from.slice(0, -1)) * ({ m: 60, h: 3600, d: 86400 }[range.from.slice(-1)] ?? 60);
          while (d.x.length > 0 && (d.x[0] ?? 0) < horizon) {
            d.x.shift();
            d.ys.forEach((y) => y.shift());
          }
          if (!plot.current && host.current && result.data) return;
          redraw();
        };
      })
      .catch(() => undefined);
    return () => {
      closed = true;
      ws?.close();
    };
  }, [deviceId, metric, live, range.from]);

  return (
    <div class="card">
      <ErrorBox error={result.error} />
      {result.loading && !result.data && <Spinner label="Loading series" />}
      <div class="chart" ref={host} data-testid="telemetry-chart" data-unit={metricUnit(metric)} data-points={points} aria-label={`${metric} chart, ${points} points`} role="img" />
      <p class="muted" aria-live="polite">
        {points} points{last ? ` · latest ${formatMetricValue(metricUnit(metric), last.value)} at ${new Date(last.ts).toLocaleTimeString()}` : ''}
      </p>
    </div>
  );
}
