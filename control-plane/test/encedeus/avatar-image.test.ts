import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkAvatarImage } from '../../src/users/avatar-image.js';
import { jpeg, png, webp } from './images.js';

const t = suite('profile picture sniffing');

t('PNG, JPEG and WebP are recognised from their bytes with their dimensions', () => {
  assert.equal(checkAvatarImage(png(3, 2)), { ok: true, mime: 'image/png', width: 3, height: 2 });
  assert.equal(checkAvatarImage(jpeg(640, 480)), { ok: true, mime: 'image/jpeg', width: 640, height: 480 });
  assert.equal(checkAvatarImage(webp(300, 1000)), { ok: true, mime: 'image/webp', width: 300, height: 1000 });
});

t('anything else, truncated headers, empty images, huge sides and > 1 MB are refused with a reason', () => {
  const refused = (b: Buffer) => {
    const r = checkAvatarImage(b);
    assert.not.ok(r.ok);
    return r.ok ? '' : r.reason;
  };
  assert.match(refused(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')), /not a PNG, JPEG or WebP/);
  assert.match(refused(Buffer.from('GIF89a\x01\x00\x01\x00')), /not a PNG/);
  assert.match(refused(Buffer.alloc(0)), /empty/);
  assert.match(refused(png(2, 2).subarray(0, 20)), /IHDR/);
  assert.match(refused(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a])), /frame header/);
  assert.match(refused(webp(10, 10).subarray(0, 20)), /truncated/);
  assert.match(refused(png(5000, 1)), /5000x1/);
  assert.match(refused(jpeg(0, 10)), /no pixels/);
  assert.match(refused(Buffer.concat([png(1, 1), Buffer.alloc(1024 * 1024)])), /at most 1 MB/);
});

t.run();
