/** The agent's version (package.json's), reported at enrollment, in `--version` and in the PiKVM info. */
export const AGENT_VERSION = '0.1.0';
