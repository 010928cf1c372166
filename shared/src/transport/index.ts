export * from './transport.js';
export * from './memory-transport.js';
export * from './mqtt-transport.js';
