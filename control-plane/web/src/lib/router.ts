import { useEffect, useState } from 'preact/hooks';

/** History-API routing: the control plane answers every non-API path with index.html. */
export function navigate(to: string, replace = false): void {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  dispatchEvent(new Event('edgehook:navigate'));
}

export function useLocation(): string {
  const [path, setPath] = useState(location.pathname + location.search);
  useEffect(() => {
    const update = () => setPath(location.pathname + location.search);
    addEventListener('popstate', update);
    addEventListener('edgehook:navigate', update);
    return () => {
      removeEventListener('popstate', update);
      removeEventListener('edgehook:navigate', update);
    };
  }, []);
  return path;
}

/** `<a>` clicks without modifiers stay in the app. */
export function onLinkClick(e: MouseEvent): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target instanceof Element ? e.target.closest('a') : null;
  const href = a?.getAttribute('href');
  if (!a || !href || !href.startsWith('/') || a.target || href.startsWith('/api/')) return;
  e.preventDefault();
  navigate(href);
}
