// After `vite build`: precompress text assets (the control plane serves .gz when the client accepts
// gzip) and fail the build when the first load (the entry script and what index.html preloads)
// exceeds the budget of compressed JavaScript. Lazy chunks (terminal, charts) are listed, not counted.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET_KB = 300;
const dist = fileURLToPath(new URL('./dist', import.meta.url));
const assets = join(dist, 'assets');
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const initial = new Set([...html.matchAll(/(?:src|href)="\/assets\/([^"]+\.js)"/g)].map((m) => m[1]));

const kb = (n) => Math.round((n / 1024) * 10) / 10;
let firstLoad = 0;
const lazy = [];
for (const name of readdirSync(assets).sort()) {
  if (!/\.(js|css|svg|json)$/.test(name)) continue;
  const raw = readFileSync(join(assets, name));
  const gz = gzipSync(raw, { level: 9 });
  writeFileSync(join(assets, name + '.gz'), gz);
  if (!name.endsWith('.js')) continue;
  if (initial.has(name)) firstLoad += gz.length;
  else lazy.push(`${name} ${kb(gz.length)} KB`);
}
writeFileSync(join(dist, 'index.html.gz'), gzipSync(html, { level: 9 }));
console.log(`web console: first load ${kb(firstLoad)} KB gzip JS (${[...initial].join(', ')}); lazy: ${lazy.join(', ')}`);
if (initial.size === 0) {
  console.error('web console: index.html references no script: the build is broken');
  process.exit(1);
}
if (firstLoad > BUDGET_KB * 1024) {
  console.error(`web console: first load ${kb(firstLoad)} KB gzip exceeds the ${BUDGET_KB} KB budget`);
  process.exit(1);
}
