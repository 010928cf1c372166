import { ConfigError, loadServeConfig, serveHelp } from './config.js';
import { TlsConfigError } from './tls/tls-material.js';
import { startControlPlane, VERSION } from './control-plane.js';
import { runClientCommand, clientHelp } from './cli/cli.js';
import { networkInterfaces } from 'node:os';
import { reachableUrls } from './http/addresses.js';

/** Composition root of the `edgehook` command: `serve` runs the control plane, the rest are clients. */
async function serve(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(serveHelp() + '\n');
    return;
  }
  const config = loadServeConfig(argv, process.env);
  // A lost store (data directory deleted under us) ends the process loudly: a supervisor restarts
  // it, and the start fails or begins afresh visibly instead of writing into a deleted file.
  const cp = await startControlPlane(config, {
    onFatal: (reason) => {
      process.stderr.write(`edgehook: fatal: ${reason}\n`);
      setTimeout(() => process.exit(70), 5000).unref();
      cp.close().finally(() => process.exit(70));
    },
  });
  // Listening on every interface: show the addresses devices can reach, not only 127.0.0.1.
  const urls = reachableUrls(config.host, cp.port, networkInterfaces(), cp.tls ? 'https' : 'http');
  const banner = [`Edgehook control plane: ${urls[0] ?? cp.url}  (${cp.mqttsPort !== undefined ? `MQTT over TLS on port ${cp.mqttsPort}, plain MQTT on ${config.allowPlain ? '' : 'loopback '}port ${cp.mqttPort}` : `MQTT on port ${cp.mqttPort}`})`];
  if (urls.length > 1) banner.push(`Reachable at: ${urls.join('  ')}`);
  if (cp.tls) {
    banner.push(`TLS certificate ${cp.tls.certFile}${cp.tls.generated ? ' (generated now)' : ''}${cp.tls.selfSigned ? ', self-signed' : ''}`, `  fingerprint ${cp.tls.fingerprint}${cp.tls.selfSigned ? '  (devices pin it: --server-fingerprint; `edgehook enroll-token create` prints it)' : ''}`);
  }
  if (cp.generatedAdminPassword) {
    banner.push(`First start: log in as admin with password ${cp.generatedAdminPassword}`, 'It is shown only once; set EDGEHOOK_ADMIN_PASSWORD to choose it yourself (lost it? edgehook admin reset-password --username admin).');
  } else {
    banner.push(`Log in with an existing user, e.g.: npx edgehook login --server ${urls[0] ?? cp.url}${cp.tls?.selfSigned ? ` --fingerprint ${cp.tls.fingerprint}` : ''} --username admin`);
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
    // The command list only; `edgehook serve --help` shows the server's flags.
    process.stdout.write(`${clientHelp()}\n`);
    return;
  }
  if (command === '--version' || command === '-V' || command === 'version') {
    process.stdout.write(`edgehook ${VERSION}\n`);
    return;
  }
  process.exitCode = await runClientCommand(command, rest, {
    env: process.env,
    stdin: process.stdin,
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    stdoutBytes: (b) => process.stdout.write(b),
    stderrBytes: (b) => process.stderr.write(b),
    stdoutIsTTY: process.stdout.isTTY === true,
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`edgehook: ${err instanceof ConfigError || err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof ConfigError || err instanceof TlsConfigError ? 2 : 1);
});
