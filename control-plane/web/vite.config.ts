import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
// @ts-expect-error: a plain .mjs build script (no types), shared with the agent bundle.
import { rewriteLazySchemas } from '../../scripts/lazy-schemas.esbuild-plugin.mjs';

const sharedDist = fileURLToPath(new URL('../../shared/dist/', import.meta.url));

/**
 * shared/'s schemas are built on first use in the console too (the agent bundle's rewrite,
 * scripts/lazy-schemas.esbuild-plugin.mjs): evaluating the schemas chunk built every REST schema at
 * once, the fleet page's last long task on a cold load. The console only parses, never generates
 * JSON Schema, which is what a lazy stand-in does not support.
 */
const lazySchemas: Plugin = {
  name: 'lazy-schemas',
  transform(code, id) {
    if (!id.startsWith(sharedDist) || !id.endsWith('.js')) return null;
    const out: { code: string; count: number } = rewriteLazySchemas(code, id);
    return out.count > 0 ? { code: out.code, map: null } : null;
  },
};

// The console is served by the control plane from dist/; `npm run build` at the root builds it.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [lazySchemas],
  // Preact's automatic JSX runtime, no React compat layer.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: { proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true }, '/kvm': { target: 'http://127.0.0.1:8080', ws: true } } },
});
