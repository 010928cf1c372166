import { Readable } from 'node:stream';
import { ReadStream } from 'node:tty';
import type { CliIo } from './context.js';
import { CliError } from './errors.js';

/** Reads up to the first newline (or the end) of a piped stdin, then stops reading. */
function readFirstLine(stdin: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const finish = (): void => {
      stdin.off('data', onData);
      stdin.off('end', finish);
      stdin.off('error', onError);
      stdin.pause();
      // A pipe that stays open (the writer never closes it) would keep the process alive.
      if (stdin instanceof Readable) stdin.destroy();
      resolve((buffered.split('\n')[0] ?? '').replace(/\r$/, ''));
    };
    const onData = (chunk: Buffer | string): void => {
      buffered += chunk.toString();
      if (buffered.includes('\n')) finish();
    };
    const onError = (err: Error): void => {
      stdin.off('data', onData);
      stdin.off('end', finish);
      reject(new CliError(`cannot read the password from stdin: ${err.message}`));
    };
    stdin.on('data', onData);
    stdin.once('end', finish);
    stdin.once('error', onError);
    stdin.resume();
  });
}

/** Prompts on a terminal without echo. Resolves null on Ctrl-C. */
function promptHidden(stdin: ReadStream, write: (s: string) => void, prompt: string): Promise<string | null> {
  return new Promise((resolve) => {
    let value = '';
    const wasRaw = stdin.isRaw;
    const done = (result: string | null): void => {
      stdin.off('data', onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      write('\n');
      resolve(result);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') return done(value);
        if (ch === '\u0003') return done(null);
        if (ch === '\u0004') return done(value === '' ? null : value);
        if (ch === '\u007f' || ch === '\b') value = Array.from(value).slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    write(prompt);
    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}

/**
 * EDGEHOOK_PASSWORD, else the first line of stdin; on a terminal, a prompt without echo.
 * Never a flag: flags show up in `ps` and shell history.
 */
export async function readPassword(io: CliIo, prompt: string): Promise<string> {
  const fromEnv = io.env['EDGEHOOK_PASSWORD'];
  if (fromEnv) return fromEnv;
  let password: string | null;
  if (io.stdin instanceof ReadStream && io.stdin.isTTY) {
    password = await promptHidden(io.stdin, io.stderr, prompt);
    if (password === null) throw new CliError('cancelled', 130);
  } else {
    password = await readFirstLine(io.stdin);
  }
  if (password === '') throw new CliError('no password given: type it at the prompt, pipe it on stdin, or set EDGEHOOK_PASSWORD');
  return password;
}

/**
 * The second factor: `--totp`, else EDGEHOOK_TOTP, else a prompt on a terminal. A code lives 30
 * seconds, so a flag is acceptable where a password's would not be.
 */
export async function readOneTimeCode(io: CliIo, given: string | undefined, prompt: string): Promise<string> {
  const code = given ?? io.env['EDGEHOOK_TOTP'];
  if (code) return code.trim();
  if (io.stdin instanceof ReadStream && io.stdin.isTTY) {
    const typed = await promptHidden(io.stdin, io.stderr, prompt);
    if (typed === null) throw new CliError('cancelled', 130);
    if (typed.trim() !== '') return typed.trim();
  }
  throw new CliError('this account has two-factor authentication: give the 6-digit code (or a recovery code) with --totp CODE or EDGEHOOK_TOTP, or run on a terminal to be asked');
}
