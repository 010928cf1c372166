import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { base32Decode, base32Encode, hotp, newTotpSecret, totp, verifyTotp, otpauthUri, newRecoveryCodes } from '../../src/auth/totp.js';

// RFC 6238 appendix B: the seeds are the ASCII strings below; 8-digit codes.
const SEEDS = {
  sha1: Buffer.from('12345678901234567890'),
  sha256: Buffer.from('12345678901234567890123456789012'),
  sha512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234'),
} as const;
const VECTORS: [number, string, keyof typeof SEEDS][] = [
  [59, '94287082', 'sha1'],
  [59, '46119246', 'sha256'],
  [59, '90693936', 'sha512'],
  [1111111109, '07081804', 'sha1'],
  [1111111109, '68084774', 'sha256'],
  [1111111109, '25091201', 'sha512'],
  [1111111111, '14050471', 'sha1'],
  [1111111111, '67062674', 'sha256'],
  [1111111111, '99943326', 'sha512'],
  [1234567890, '89005924', 'sha1'],
  [1234567890, '91819424', 'sha256'],
  [1234567890, '93441116', 'sha512'],
  [2000000000, '69279037', 'sha1'],
  [2000000000, '90698825', 'sha256'],
  [2000000000, '38618901', 'sha512'],
  [20000000000, '65353130', 'sha1'],
  [20000000000, '77737706', 'sha256'],
  [20000000000, '47863826', 'sha512'],
];

test('RFC 6238 appendix B test vectors (SHA-1, SHA-256, SHA-512, 8 digits)', () => {
  for (const [seconds, code, algo] of VECTORS) assert.is(totp(SEEDS[algo], seconds * 1000, 8, algo), code, `T=${seconds} ${algo}`);
});

test('RFC 4226 appendix D HOTP values (6 digits)', () => {
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  expected.forEach((code, counter) => assert.is(hotp(SEEDS.sha1, counter), code));
});

test('base32 round-trips and decodes the RFC 4648 vectors', () => {
  assert.is(base32Encode(Buffer.from('foobar')), 'MZXW6YTBOI');
  assert.is(base32Decode('MZXW6YTBOI======').toString(), 'foobar');
  const secret = newTotpSecret();
  assert.is(base32Encode(base32Decode(secret)), secret);
  assert.is(base32Decode(secret).length, 20);
});

test('verifyTotp: the current step and one either side; a used step is refused; junk is refused', () => {
  const secret = newTotpSecret();
  const now = 1_700_000_000_000;
  const key = base32Decode(secret);
  const code = totp(key, now);
  const step = verifyTotp(secret, code, now);
  assert.ok(step !== undefined);
  assert.is(verifyTotp(secret, code, now, step), undefined, 'replay refused');
  assert.ok(verifyTotp(secret, totp(key, now - 30_000), now) !== undefined, 'previous step');
  assert.is(verifyTotp(secret, totp(key, now - 90_000), now), undefined, 'three steps old');
  assert.is(verifyTotp(secret, '12345', now), undefined);
  assert.is(verifyTotp(secret, 'abcdef', now), undefined);
});

test('otpauth URI and recovery codes', () => {
  assert.match(otpauthUri('Edgehook', 'rita', 'ABC'), /^otpauth:\/\/totp\/Edgehook:rita\?secret=ABC&issuer=Edgehook/);
  const codes = newRecoveryCodes();
  assert.is(codes.length, 10);
  assert.is(new Set(codes).size, 10);
  for (const c of codes) assert.match(c, /^[a-z2-9]{4}-[a-z2-9]{4}$/);
});

test.run();
