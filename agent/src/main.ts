import { createLogger, systemClock } from '@edgehook/shared';
import { defaultProfileDirs, loadProfiles } from '@edgehook/firmware-profiles';
import { ConfigError, loadAgentConfig } from './config.js';
import { runAgent } from './agent.js';

/** Composition root: the only place that builds real dependencies. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadAgentConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger({ level: config.logLevel, format: config.logFormat, base: { app: 'agent' } });
  const profiles = await loadProfiles(defaultProfileDirs());
  const agent = await runAgent({
    config,
    clock: systemClock,
    log,
    profileExists: (id) => profiles.has(id),
    onFatal: () => {
      agent.stop().finally(() => process.exit(1));
    },
  });

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    agent.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      },
    );
    setTimeout(() => process.exit(1), 5000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`edgehook-agent: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
