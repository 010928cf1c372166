// --forward-allow: the parsing corpus (good rules, bad rules with their messages) and the checks
// on resolved addresses, hostname rules and DNS rebinding included.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_FORWARD_ALLOW, ForwardAllow, isAllowed, parseRule, type ForwardRule } from '../../src/forward/allow-list.js';
import { loadAgentConfig, ConfigError } from '../../src/config.js';
import { tcpForwardKind } from '../../src/forward/tcp-forward.js';
import { createLogger, EdgehookError } from '@edgehook/shared';

const rules = (text: string): ForwardRule[] => {
  const parsed = ForwardAllow.safeParse(text);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('; '));
  return parsed.data;
};
const noNames = async (): Promise<string[]> => [];

test('good rules parse to host and port ranges', () => {
  const corpus: Array<[string, string, [number, number]]> = [
    ['127.0.0.1:*', 'net', [1, 65535]],
    ['127.0.0.1', 'net', [1, 65535]],
    ['192.168.1.0/24:22', 'net', [22, 22]],
    ['10.0.0.0/8:8000-8099', 'net', [8000, 8099]],
    ['0.0.0.0/0:443', 'net', [443, 443]],
    ['[::1]:*', 'net', [1, 65535]],
    ['[fd00::/8]:22', 'net', [22, 22]],
    ['::1', 'net', [1, 65535]],
    ['fe80::1', 'net', [1, 65535]],
    ['*:80', 'any', [80, 80]],
    ['*', 'any', [1, 65535]],
    ['printer.lan:631', 'name', [631, 631]],
    ['localhost', 'name', [1, 65535]],
    [' 127.0.0.1:80 ', 'net', [80, 80]],
  ];
  for (const [text, kind, [from, to]] of corpus) {
    const r = parseRule(text);
    if (typeof r === 'string') assert.unreachable(`${text}: ${r}`);
    else {
      assert.is(r.host.kind, kind, text);
      assert.equal([r.ports.from, r.ports.to], [from, to], text);
    }
  }
});

test('bad rules are refused with a message naming the rule', () => {
  const corpus: Array<[string, RegExp]> = [
    ['127.0.0.1:0', /from 1 to 65535/],
    ['127.0.0.1:70000', /from 1 to 65535/],
    ['127.0.0.1:90-80', /low to high/],
    ['127.0.0.1:http', /not a port/],
    ['192.168.1.0/33:22', /prefix length must be 0 to 32/],
    ['[fd00::/129]:22', /0 to 128/],
    ['printer.lan/24', /CIDR needs an IP address/],
    ['1.2.3.4/8/8', /more than one/],
    ['[::1:22', /missing \]/],
    ['[::1]22', /expected :PORT/],
    ['[printer]:22', /IPv6/],
    ['-bad-.lan:22', /not an IP address, a CIDR or a host name/],
    [':22', /no host/],
    ['under_score:1', /host name/],
  ];
  for (const [text, message] of corpus) {
    const r = parseRule(text);
    assert.type(r, 'string', text);
    assert.match(String(r), message, text);
  }
  const whole = ForwardAllow.safeParse('127.0.0.1:*,10.0.0.0/33');
  assert.not.ok(whole.success);
  assert.equal(ForwardAllow.parse('off'), []);
  assert.not.ok(ForwardAllow.safeParse(' , ').success, 'only commas: no rules');
});

test('the agent flag: default is loopback only, errors name the flag', () => {
  const cfg = loadAgentConfig([], {});
  assert.equal(cfg.forwardAllow.map((r) => r.text), DEFAULT_FORWARD_ALLOW.split(','));
  const given = loadAgentConfig(['--forward-allow', '127.0.0.1:*,192.168.1.0/24:22'], {});
  assert.is(given.forwardAllow.length, 2);
  try {
    loadAgentConfig(['--forward-allow', '192.168.1.0/24:abc'], {});
    assert.unreachable('accepted a bad rule');
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.match(String(err), /--forward-allow=.*not a port/);
  }
});

test('checks are on the resolved address: subnets, ports, IPv4-mapped, names resolved at check time', async () => {
  const def = rules(DEFAULT_FORWARD_ALLOW);
  assert.ok(await isAllowed(def, '127.0.0.1', 80, noNames));
  assert.ok(await isAllowed(def, '127.8.9.10', 22, noNames));
  assert.ok(await isAllowed(def, '::1', 8080, noNames));
  assert.ok(await isAllowed(def, '::ffff:127.0.0.1', 8080, noNames), 'IPv4-mapped loopback');
  assert.not.ok(await isAllowed(def, '192.168.1.5', 80, noNames));
  assert.not.ok(await isAllowed(def, '::ffff:192.168.1.5', 80, noNames));
  const lan = rules('192.168.1.0/24:22,printer.lan:631');
  assert.ok(await isAllowed(lan, '192.168.1.200', 22, noNames));
  assert.not.ok(await isAllowed(lan, '192.168.1.200', 23, noNames));
  assert.not.ok(await isAllowed(lan, '192.168.2.1', 22, noNames));
  const printer = async (n: string): Promise<string[]> => (n === 'printer.lan' ? ['10.1.1.7'] : []);
  assert.ok(await isAllowed(lan, '10.1.1.7', 631, printer));
  assert.not.ok(await isAllowed(lan, '10.1.1.8', 631, printer));
  assert.not.ok(await isAllowed(rules('off'), '127.0.0.1', 80, noNames));
});

test('a name that resolves to a refused address is refused (DNS rebinding), with a FORBIDDEN that says why', async () => {
  const log = createLogger({ level: 'error', format: 'json', write: () => undefined });
  // "rebind.example" resolves to the cloud metadata address: the loopback-only device refuses it.
  const kind = tcpForwardKind({ allow: rules(DEFAULT_FORWARD_ALLOW), log, resolveName: async () => ['169.254.169.254'] });
  const stream = { finished: false } as never;
  try {
    await kind.open({ host: 'rebind.example', port: 80 }, stream);
    assert.unreachable('opened');
  } catch (err) {
    assert.instance(err, EdgehookError);
    assert.is((err as EdgehookError).code, 'FORBIDDEN');
    assert.match((err as EdgehookError).message, /rebind\.example \(169\.254\.169\.254\) port 80.*--forward-allow is 127\.0\.0\.0\/8:\*,\[::1\]:\*/);
  }
  // A name that does not resolve is NOT_FOUND, not a hang.
  const none = tcpForwardKind({ allow: rules('*'), log, resolveName: async () => Promise.reject(new Error('ENOTFOUND')) });
  try {
    await none.open({ host: 'nowhere.invalid', port: 80 }, stream);
    assert.unreachable('opened');
  } catch (err) {
    assert.is((err as EdgehookError).code, 'NOT_FOUND');
  }
});

test.run();
