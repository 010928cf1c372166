import { defineConfig } from 'vite';

// The console is served by the control plane from dist/; `npm run build` at the root builds it.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
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
