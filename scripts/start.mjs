// `npm start`: the control plane on embedded defaults (embedded broker, SQLite in ./data)
// plus one simulated demo device. Every EDGEHOOK_* variable still applies.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../control-plane/dist/main.js', import.meta.url));
const child = spawn(process.execPath, [main, 'serve', '--demo', process.env.EDGEHOOK_DEMO ?? 'true', ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
