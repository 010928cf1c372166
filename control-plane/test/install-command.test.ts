import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ServerFingerprint } from '@edgehook/shared/transport';
import { buildInstallCommand } from '../src/devices/install-command.js';

const FP = `sha256:${'ab'.repeat(32)}`;
const tls = { fingerprint: FP, publicKeyPin: 'sha256//q1w2e3r4t5y6u7i8o9p0AAAAAAAAAAAAAAAAAAAAAAA=', selfSigned: true };

test('the install command: public certificate, self-signed (pinned), plain HTTP, loopback', () => {
  const pub = buildInstallCommand('https://cp.example.com/', { ...tls, selfSigned: false });
  assert.is(pub.command, 'curl -fsSL https://cp.example.com/install.sh | sudo sh -s -- --token-file -');
  assert.is(pub.fingerprint, undefined);
  assert.equal(pub.warnings, []);
  const pinned = buildInstallCommand('https://10.0.0.5:8080', tls);
  assert.is(pinned.command, `curl -fsSLk --pinnedpubkey ${tls.publicKeyPin} https://10.0.0.5:8080/install.sh | sudo sh -s -- --token-file - --server-fingerprint ${FP}`);
  assert.is(pinned.fingerprint, FP);
  const plain = buildInstallCommand('http://127.0.0.1:8080', undefined);
  assert.is(plain.command, 'curl -fsSL http://127.0.0.1:8080/install.sh | sudo sh -s -- --token-file -');
  assert.is(plain.warnings.length, 2);
  assert.match(plain.warnings.join(' '), 'loopback');
  assert.match(plain.warnings.join(' '), 'plain HTTP');
  // A URL a shell would split is quoted.
  assert.match(buildInstallCommand("https://h/a b'c", undefined).command, `'https://h/a b'\\''c/install.sh'`);
});

test('fingerprints: colons and case accepted, anything else refused', () => {
  assert.is(ServerFingerprint.parse(`sha256:${'AB:'.repeat(31)}AB`), FP);
  assert.is(ServerFingerprint.parse(` ${FP.toUpperCase().replace('SHA256', 'sha256')} `), FP);
  for (const bad of ['', 'sha1:abcd', `sha256:${'ab'.repeat(31)}`, `sha256:${'zz'.repeat(32)}`, FP.slice(7)]) assert.not.ok(ServerFingerprint.safeParse(bad).success, bad);
});

test.run();
