import { ConfigError, loadServeConfig, serveHelp } from './config.js';
import { TlsConfigError } from './tls/tls-material.js';
import { startControlPlane } from './control-plane.js';
import { runClientCommand, clientHelp } from './cli/cli.js';

/** Composition root of the `edgehook` command: `serve` runs the control plane, the rest are clients. */
async function serve(argv: string[]): Promise<void> {
  const config = loadServeConfig(argv, process.env);
  const cp = await startControlPlane(config);
  const banner = [`Edgehook control plane: ${cp.url}  (${cp.mqttsPort !== undefined ? `MQTT over TLS on port ${cp.mqttsPort}, plain MQTT on ${config.allowPlain ? '' : 'loopback '}port ${cp.mqttPort}` : `MQTT on port ${cp.mqttPort}`})`];
  if (cp.tls) {
    banner.push(`TLS certificate ${cp.tls.certFile}${cp.tls.generated ? ' (generated now)' : ''}${cp.tls.selfSigned ? ', self-signed' : ''}`, `  fingerprint ${cp.tls.fingerprint}${cp.tls.selfSigned ? '  (devices pin it: --server-fingerprint; `edgehook enroll-token create` prints it)' : ''}`);
  }
  if (cp.generatedAdminPassword) {
    banner.push(`First start: log in as admin with password ${cp.generatedAdminPassword}`, 'It is shown only once; set EDGEHOOK_ADMIN_PASSWORD to choose it yourself.');
  } else {
    banner.push(`Log in with an existing user, e.g.: npx edgehook login --server ${cp.url}${cp.tls?.selfSigned ? ` --fingerprint ${cp.tls.fingerprint}` : ''} --username admin`);
  }
  process.stdout.write(banner.join('\n') + '\n');

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: shutting down\n`);
    setTimeout(() => process.exit(1), 10_000).unref();
    cp.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  // New certificates (e.g. renewed by certbot) for new connections; connected devices stay up.
  process.on('SIGHUP', () => {
    cp.reloadTls().then(
      (info) => process.stdout.write(info ? `SIGHUP: TLS certificate reloaded, fingerprint ${info.fingerprint}\n` : 'SIGHUP: TLS is off, nothing to reload\n'),
      (err: unknown) => process.stderr.write(`SIGHUP: TLS reload failed, keeping the current certificate: ${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'serve') return serve(rest);
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${clientHelp()}\n\n${serveHelp()}\n`);
    return;
  }
  process.exitCode = await runClientCommand(command, rest, {
    env: process.env,
    stdin: process.stdin,
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    stdoutBytes: (b) => process.stdout.write(b),
    stderrBytes: (b) => process.stderr.write(b),
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`edgehook: ${err instanceof ConfigError || err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof ConfigError || err instanceof TlsConfigError ? 2 : 1);
});
