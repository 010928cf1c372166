export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export function clientHelp(): string {
  return 'Usage: edgehook <command> [options]\n\nCommands:\n  serve            run the control plane';
}

/** Client commands (login, devices, ping, ...). Returns the exit code. */
export async function runClientCommand(command: string, _argv: string[], io: CliIo): Promise<number> {
  io.stderr(`edgehook: unknown command ${command}\n\n${clientHelp()}\n`);
  return 2;
}
