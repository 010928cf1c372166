// node:http and node:https loaded on first use. Each is needed only for a rare act (enrolling,
// downloading an update, the Docker API, a video source, a local app's first push), and a static
// import is hoisted to the top of the agent's one-file bundle, so every idle agent would carry
// the HTTP client and server code and state (issue 12's lean agent).
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

export const nodeHttp = (): typeof import('node:http') => load('node:http') as typeof import('node:http');
export const nodeHttps = (): typeof import('node:https') => load('node:https') as typeof import('node:https');
