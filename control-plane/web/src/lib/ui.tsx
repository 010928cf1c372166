import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { messageOf } from './api.js';

export function ErrorBox({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  if (error === undefined || error === null) return null;
  return (
    <div class="error" role="alert">
      <span>{messageOf(error)}</span>
      {onDismiss && (
        <button type="button" class="link" onClick={onDismiss} aria-label="Dismiss error">
          ×
        </button>
      )}
    </div>
  );
}

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return (
    <span class="spinner" role="status">
      <span class="dot" aria-hidden="true" /> {label}…
    </span>
  );
}

/** Runs an async action with a busy flag and a readable error. */
export function useAction(): { busy: boolean; error: unknown; run: (fn: () => Promise<unknown>) => Promise<void>; clear: () => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, clear: () => setError(undefined) };
}

/** Loads data and reloads on demand or on an interval. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[], everyMs?: number): { data: T | undefined; error: unknown; loading: boolean; reload: () => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    load(ctl.signal).then(
      (d) => {
        if (ctl.signal.aborted) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (err: unknown) => {
        if (ctl.signal.aborted) return;
        setError(err);
        setLoading(false);
      },
    );
    const timer = everyMs ? setTimeout(() => setTick((t) => t + 1), everyMs) : undefined;
    return () => {
      ctl.abort();
      if (timer) clearTimeout(timer);
    };
  }, [...deps, tick]);
  return { data, error, loading, reload: () => setTick((t) => t + 1) };
}

/** A native <dialog> shown modally while `open` (focus trap and Escape for free). */
function useModalDialog(open: boolean) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return ref;
}

/** A modal confirmation. */
export function Confirm(props: { open: boolean; title: string; children: ComponentChildren; confirmLabel: string; danger?: boolean; onConfirm: () => void; onCancel: () => void }) {
  const ref = useModalDialog(props.open);
  return (
    <dialog ref={ref} class="dialog" aria-label={props.title} onClose={() => props.open && props.onCancel()}>
      <h2>{props.title}</h2>
      <div>{props.children}</div>
      <div class="row end">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="button" class={props.danger ? 'danger' : 'primary'} onClick={props.onConfirm}>
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

export function Modal(props: { open: boolean; title: string; children: ComponentChildren; onClose: () => void }) {
  const ref = useModalDialog(props.open);
  return (
    <dialog ref={ref} class="dialog wide" aria-label={props.title} onClose={() => props.open && props.onClose()}>
      <div class="row between">
        <h2>{props.title}</h2>
        <button type="button" class="link" aria-label="Close" onClick={props.onClose}>
          ×
        </button>
      </div>
      {props.open && props.children}
    </dialog>
  );
}

interface Ask {
  kind: 'confirm' | 'prompt';
  title: string;
  message?: ComponentChildren;
  /** The text field's label (prompt only). */
  label?: string;
  initial?: string;
  confirmLabel: string;
  danger?: boolean;
  /** A readable reason the value cannot be used, or undefined. */
  validate?: (value: string) => string | undefined;
}

/**
 * In-page replacements for window.confirm/prompt: a labelled modal <dialog> (showModal makes the
 * rest of the page inert, so focus stays inside; Escape cancels; focus returns to the opener).
 * `confirm` resolves true/false, `prompt` the trimmed text or null.
 */
export function useDialogs(): { element: ComponentChildren; confirm: (a: Omit<Ask, 'kind'>) => Promise<boolean>; prompt: (a: Omit<Ask, 'kind'>) => Promise<string | null> } {
  const [ask, setAsk] = useState<(Ask & { resolve: (v: string | null) => void }) | undefined>(undefined);
  const open = (a: Ask) => new Promise<string | null>((resolve) => setAsk({ ...a, resolve }));
  const done = (v: string | null) => {
    ask?.resolve(v);
    setAsk(undefined);
  };
  return {
    element: <AskDialog ask={ask} onDone={done} />,
    confirm: (a) => open({ ...a, kind: 'confirm' }).then((v) => v !== null),
    prompt: (a) => open({ ...a, kind: 'prompt' }),
  };
}

function AskDialog({ ask, onDone }: { ask: Ask | undefined; onDone: (v: string | null) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  const [value, setValue] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (ask && !d.open) {
      setValue(ask.initial ?? '');
      setProblem(undefined);
      d.showModal();
    }
    if (!ask && d.open) d.close();
  }, [ask]);
  const submit = (e: Event) => {
    e.preventDefault();
    if (!ask) return;
    if (ask.kind === 'confirm') return onDone('');
    const v = value.trim();
    const bad = v === '' ? `${ask.label ?? 'A value'} is required.` : ask.validate?.(v);
    setProblem(bad);
    if (!bad) onDone(v);
  };
  return (
    <dialog ref={ref} class="dialog" aria-labelledby={`${id}-title`} onClose={() => ask && onDone(null)}>
      {ask && (
        <form class="stack" onSubmit={submit} noValidate>
          <h2 id={`${id}-title`}>{ask.title}</h2>
          {ask.message && <div>{ask.message}</div>}
          {ask.kind === 'prompt' && (
            <label>
              {ask.label ?? 'Value'}
              <input name="value" value={value} autoFocus onInput={(e) => { setValue(e.currentTarget.value); setProblem(undefined); }} aria-invalid={problem ? 'true' : 'false'} />
            </label>
          )}
          {problem && <p class="error" role="alert">{problem}</p>}
          <div class="row end">
            <button type="button" onClick={() => onDone(null)}>Cancel</button>
            <button type="submit" class={ask.danger ? 'danger' : 'primary'}>{ask.confirmLabel}</button>
          </div>
        </form>
      )}
    </dialog>
  );
}

/** Why a device action cannot run right now, shown instead of dead buttons. */
export function OfflineNote({ online, lastSeen }: { online: boolean; lastSeen?: string | null }) {
  if (online) return null;
  return (
    <p class="notice" role="note">
      The device is offline{lastSeen ? ` (last seen ${new Date(lastSeen).toLocaleString()})` : ''}: actions need its agent connected. They come back when it reconnects.
    </p>
  );
}

export function NoPermission({ what, permission }: { what: string; permission: string }) {
  return (
    <p class="notice" role="note">
      Your role cannot {what} (needs <code>{permission}</code>).
    </p>
  );
}
