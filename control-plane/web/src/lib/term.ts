// xterm.js and its fit addon: only ever imported from lazily loaded code.
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';

export interface Term {
  term: Terminal;
  fit(): void;
  dispose(): void;
}

/** A terminal in `host` that follows the host's size. */
export function createTerm(host: HTMLElement, onResize: (cols: number, rows: number) => void): Term {
  const term = new Terminal({ cursorBlink: true, fontSize: 14, scrollback: 5000, convertEol: false, fontFamily: 'ui-monospace, Menlo, Consolas, monospace', theme: { background: '#000000' } });
  const fitAddon = new FitAddon();
  term.loadAddon(fitAddon);
  term.open(host);
  const fit = () => {
    if (host.offsetParent === null) return; // hidden tab: fit when shown
    try {
      fitAddon.fit();
    } catch {
      // not laid out yet
    }
  };
  fit();
  term.onResize(({ cols, rows }) => onResize(cols, rows));
  const ro = new ResizeObserver(() => fit());
  ro.observe(host);
  return {
    term,
    fit,
    dispose() {
      ro.disconnect();
      term.dispose();
    },
  };
}
