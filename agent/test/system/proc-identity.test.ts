import { spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { groupMembers, isSameProcess, parseStat, procStat } from '../../src/system/proc-identity.js';

test('parseStat reads pgrp and start time past a command name holding spaces and parentheses', () => {
  // Fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime priority nice threads itreal starttime ...
  const line = '4242 (evil) (name x) S 1 4240 4240 0 -1 4194560 10 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 0';
  assert.equal(parseStat(line), { pid: 4242, pgrp: 4240, startTicks: 987654, state: 'S' });
  assert.is(parseStat('garbage'), undefined);
});

test('a live process is itself; a reused pid with another start time is not; group members are found', async () => {
  const me = await procStat(process.pid);
  assert.ok(me, 'this machine has /proc');
  assert.ok(await isSameProcess(process.pid, me?.startTicks ?? -1));
  assert.not.ok(await isSameProcess(process.pid, (me?.startTicks ?? 0) + 1));
  const child = spawn('sh', ['-c', 'sleep 30 & exec sleep 31'], { detached: true, stdio: 'ignore' });
  const pid = child.pid ?? 0;
  const leader = await procStat(pid);
  let members: number[] = [];
  for (let i = 0; i < 100 && members.length < 2; i++) {
    members = (await groupMembers(pid, leader?.startTicks ?? 0)).map((m) => m.pid);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(members.includes(pid) && members.length === 2, `leader and its background child: ${members}`);
  process.kill(-pid, 'SIGKILL');
});

test.run();
