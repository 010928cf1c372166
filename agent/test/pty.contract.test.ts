import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Pty, PtyFactory } from '../src/pty/pty-factory.js';
import { nodePtyFactory } from '../src/pty/node-pty.factory.js';
import { simulatedPtyFactory } from '../src/pty/simulated-pty.factory.js';

/** One contract for every PTY implementation: what the shell relay relies on. */
function contract(factory: PtyFactory): void {
  const t = suite(`pty contract: ${factory.name}`);
  const opts = { cols: 80, rows: 24, cwd: '/tmp', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', TERM: 'xterm', PS1: '$ ', HOME: '/tmp' } };

  async function until(pty: { out: string }, pattern: RegExp, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!pattern.test(pty.out)) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${pattern} in ${JSON.stringify(pty.out.slice(-200))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  async function shell(): Promise<{ pty: Pty; out: string; exit: Promise<{ exitCode: number; signal: string | null }> }> {
    const pty = await factory.spawn('/bin/sh', [], opts);
    const box = { pty, out: '', exit: new Promise<{ exitCode: number; signal: string | null }>((resolve) => pty.onExit(resolve)) };
    pty.onData((d) => {
      assert.ok(Buffer.isBuffer(d), 'output is bytes');
      box.out += d.toString();
    });
    return box;
  }

  t('typed input is echoed and a command runs', async () => {
    const s = await shell();
    assert.type(s.pty.pid, 'number');
    s.pty.write(Buffer.from('echo contract-ok\r'));
    await until(s, /contract-ok[\s\S]*contract-ok/);
    s.pty.kill();
    await s.exit;
  });

  t('resize is seen by the program', async () => {
    const s = await shell();
    s.pty.resize(132, 43);
    s.pty.write(Buffer.from('stty size\r'));
    await until(s, /43 132/);
    s.pty.kill();
    await s.exit;
  });

  t('exit ends the session with its code; writes afterwards are harmless', async () => {
    const s = await shell();
    s.pty.write(Buffer.from('exit\r'));
    const exit = await s.exit;
    assert.is(exit.exitCode, 0);
    s.pty.write(Buffer.from('late'));
    s.pty.resize(10, 10);
    s.pty.kill();
  });

  t('kill ends the session; kill twice is fine', async () => {
    const s = await shell();
    s.pty.kill();
    s.pty.kill();
    await s.exit;
  });

  t('pause holds output until resume', async () => {
    const s = await shell();
    await until(s, /\$ ?$/);
    s.pty.pause();
    const before = s.out.length;
    s.pty.write(Buffer.from('echo held\r'));
    await new Promise((r) => setTimeout(r, 200));
    assert.is(s.out.length, before, 'nothing arrives while paused');
    s.pty.resume();
    await until(s, /held[\s\S]*held/);
    s.pty.kill();
    await s.exit;
  });

  t('the last output before an exit is never lost (100 sessions)', async () => {
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          const s = await shell();
          await until(s, /[$#] ?$/);
          s.pty.write(Buffer.from('echo last-words\rexit\r'));
          await s.exit;
          assert.ok(s.out.split('last-words').length >= 3, `output lost: ${JSON.stringify(s.out)}`);
        }),
      );
    }
  });

  t.run();
}

contract(simulatedPtyFactory());
contract(nodePtyFactory());
