import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { SerialDriver } from '../../src/hardware/serial/serial.driver.js';
import { SerialportDriver } from '../../src/hardware/serial/serialport.driver.js';
import { SimSerialDriver } from '../../src/hardware/serial/sim-serial.driver.js';
import { SerialService } from '../../src/hardware/serial/serial.service.js';
import { profile, rejection, tick } from './helpers.js';

function until(check: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  return (async () => {
    while (!check()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await tick(5);
    }
  })();
}

/** Both drivers on a loopback port: bytes written come back, baud can change, close stops data. */
function serialContract(name: string, make: () => Promise<{ driver: SerialDriver; path: string }>): void {
  const t = suite(`serial driver contract: ${name}`);
  t('echo through a loopback port, and a baud change keeps the port usable', async () => {
    const { driver, path } = await make();
    const conn = await driver.open(path, 115200);
    let got = '';
    conn.onData((c) => (got += c.toString('utf8')));
    await conn.write(Buffer.from('hello\r\n'));
    await until(() => got === 'hello\r\n');
    await conn.setBaud(9600);
    await conn.write(Buffer.from('again'));
    await until(() => got.endsWith('again'));
    await conn.close();
  });
  t('writing after close fails', async () => {
    const { driver, path } = await make();
    const conn = await driver.open(path, 9600);
    await conn.close();
    const failed = await conn.write(Buffer.from('x')).then(() => false, () => true);
    assert.ok(failed);
  });
  t.run();
}

serialContract('simulated', async () => ({ driver: new SimSerialDriver(), path: 'sim://serial0' }));

let n = 0;
serialContract('serialport (real driver, @serialport/binding-mock)', async () => {
  const { SerialPortMock } = await import('serialport');
  const path = `/dev/ttyMOCK${n++}`;
  SerialPortMock.binding.createPort(path, { echo: true, record: true });
  return { driver: new SerialportDriver({ binding: 'mock' }), path };
});

const svc = suite('serial service');
svc('exchange by port name on the simulated board; unknown ports and concurrent use are refused', async () => {
  const s = new SerialService(await profile('simulated'), () => new SimSerialDriver());
  assert.equal(s.list().map((p) => p.name), ['console', 'aux']);
  assert.is(await s.exchange('console', 'ping', { readMs: 30 }), 'ping');
  assert.is(await s.exchange('aux', 'x', { baud: 19200, readMs: 20 }), 'x');
  const first = s.exchange('console', 'a', { readMs: 50 });
  await tick(5);
  assert.is((await rejection(s.exchange('console', 'b', { readMs: 10 }))).pikvm, 'SerialIsBusyError');
  await first;
  assert.is((await rejection(s.exchange('nope', 'x', { readMs: 1 }))).pikvm, 'SerialPortNotFoundError');
  await s.close();
});
svc('a real port that does not exist fails with a clear error', async () => {
  const s = new SerialService(await profile('raspberry-pi-4b'), () => new SerialportDriver());
  const err = await rejection(s.exchange('console', 'x', { readMs: 1 }));
  assert.is(err.pikvm, 'SerialOfflineError');
  assert.match(err.message, /\/dev\/serial0/);
});
svc.run();
