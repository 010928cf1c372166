/**
 * The shared zod schemas the console validates with, in a chunk of their own: api.ts imports this
 * module dynamically, so zod is not in the first-load bundle and downloads beside the first paint.
 */
export { RestRoutes, pathFor } from '@edgehook/shared/rest';
export { AtxState, DeclaredServer, FleetEvent, GpioModel, GpioState, LiveFrame, PowerState, pullText, RelayServerMessage, ShellServerMessage, WingsFrame } from '@edgehook/shared';
