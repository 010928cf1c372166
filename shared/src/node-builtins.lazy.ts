// Node's heavier built-in modules, loaded on first use. A static import is hoisted to the top of
// the agent bundle's entry, so every idle agent would evaluate them (and OpenSSL's state) even
// though each serves a rarer act: TLS only on an mqtts/wss/https link, crypto only to hash,
// verify or draw an id, HTTP only to enroll, download or talk to Docker, the resolver only to
// forward a port to a name (issue 12's lean agent; figures in BENCHMARKS.md). The agent package's build refuses a static import of these.
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/** The built-ins that must be reached through these loaders (the agent build checks its bundle). */
export const LAZY_BUILTINS = ['node:tls', 'node:crypto', 'node:http', 'node:https', 'node:dns/promises'] as const;

export const nodeTls = (): typeof import('node:tls') => load('node:tls') as typeof import('node:tls');
export const nodeCrypto = (): typeof import('node:crypto') => load('node:crypto') as typeof import('node:crypto');
export const nodeHttp = (): typeof import('node:http') => load('node:http') as typeof import('node:http');
export const nodeHttps = (): typeof import('node:https') => load('node:https') as typeof import('node:https');
export const nodeDnsPromises = (): typeof import('node:dns/promises') => load('node:dns/promises') as typeof import('node:dns/promises');
