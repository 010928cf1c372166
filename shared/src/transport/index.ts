export * from './transport.js';
export * from './memory-transport.js';
export * from './mqtt-transport.js';
export * from './tls-trust.js';
export * from './tls-fetch.js';
