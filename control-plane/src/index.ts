export { startControlPlane, VERSION } from './control-plane.js';
export type { RunningControlPlane } from './control-plane.js';
export { loadServeConfig } from './config.js';
export type { ServeConfig } from './config.js';
