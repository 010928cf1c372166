export { runAgent, AGENT_VERSION } from './agent.js';
export type { RunningAgent, AgentDeps } from './agent.js';
export { loadAgentConfig } from './config.js';
