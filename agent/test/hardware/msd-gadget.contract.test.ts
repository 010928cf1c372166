import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigfsGadget, SimMsdGadget, type LunSetting, type MsdGadget } from '../../src/hardware/msd/msd-gadget.js';
import { MsdController } from '../../src/hardware/msd/msd.controller.js';

/**
 * The gadget seam over both sides. The real one writes configfs attributes; here its LUN is a
 * directory with the attribute files the kernel creates (file, cdrom, ro, forced_eject), so what
 * it writes can be read back. The simulated one remembers the setting.
 */
async function lunDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'edgehook-lun-'));
  for (const f of ['file', 'cdrom', 'ro', 'forced_eject']) await writeFile(join(dir, f), '');
  return dir;
}

const sides: [string, () => Promise<{ gadget: MsdGadget; read: () => Promise<LunSetting>; done: () => Promise<void> }>][] = [
  [
    'configfs',
    async () => {
      const dir = await lunDir();
      const attr = async (n: string) => (await readFile(join(dir, n), 'utf8')).trim();
      return {
        gadget: new ConfigfsGadget(dir),
        read: async () => ({ file: (await attr('file')) || null, cdrom: (await attr('cdrom')) === '1', rw: (await attr('ro')) === '0' }),
        done: () => rm(dir, { recursive: true, force: true }),
      };
    },
  ],
  [
    'simulated',
    async () => {
      const g = new SimMsdGadget();
      return { gadget: g, read: async () => g.current, done: async () => undefined };
    },
  ],
];

for (const [name, make] of sides) {
  const t = suite(`msd gadget contract: ${name}`);
  t('connect a flash image read-write, then a cdrom (always read-only), then eject', async () => {
    const { gadget, read, done } = await make();
    assert.is(gadget.available, true);
    await gadget.apply({ file: '/images/a.img', cdrom: false, rw: true });
    assert.equal(await read(), { file: '/images/a.img', cdrom: false, rw: true });
    await gadget.apply({ file: '/images/b.iso', cdrom: true, rw: true });
    assert.equal(await read(), { file: '/images/b.iso', cdrom: true, rw: false });
    await gadget.apply({ file: null, cdrom: true, rw: false });
    const after = await read();
    if (name === 'simulated') assert.is(after.file, null);
    await done();
  });
  t.run();
}

const c = suite('msd controller over a store directory');
c('write commits by rename, incomplete uploads vanish, busy while writing, cap enforced', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'edgehook-msd-store-'));
  const gadget = new SimMsdGadget();
  const msd = new MsdController({ lun: 'sim://msd', storage: dir, maxImageBytes: 1000 }, dir, gadget);
  await msd.start();
  const w = await msd.writer('a.img', 10);
  assert.is(msd.state().busy, true);
  await w.write(Buffer.alloc(10, 1));
  assert.equal(msd.state().storage?.uploading, { name: 'a.img', size: 10, written: 10 });
  await w.commit();
  assert.is(msd.state().storage?.images['a.img']?.size, 10);
  const cut = await msd.writer('b.img', 10);
  await cut.write(Buffer.alloc(5));
  await cut.abort();
  assert.equal(Object.keys(msd.state().storage?.images ?? {}), ['a.img']);
  const refused = await msd.writer('big.img', 2000).then(() => undefined, (e: unknown) => e);
  assert.match(String(refused), /at most 1000/);
  assert.is(msd.state().busy, false, 'a refused write leaves the drive free');
  await msd.setParams({ image: 'a.img', rw: true });
  await msd.setConnected(true);
  assert.equal(gadget.current, { file: join(dir, 'a.img'), cdrom: false, rw: true });
  await msd.reset();
  assert.equal(gadget.current.file, null);
  await rm(dir, { recursive: true, force: true });
});
c.run();
