import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isIP } from 'node:net';

const run = promisify(execFile);

export interface TestCa {
  certFile: string;
  keyFile: string;
  pem: string;
}

/** A throwaway CA made with the openssl CLI (Debian's openssl package). */
export async function makeCa(dir: string, name = 'ca'): Promise<TestCa> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30', '-subj', `/CN=edgehook test ${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign', '-keyout', keyFile, '-out', certFile]);
  return { certFile, keyFile, pem: await readFile(certFile, 'utf8') };
}

/** A server certificate for `names` signed by `ca`. */
export async function makeServerCert(dir: string, ca: TestCa, names: string[], name = 'server'): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${names[0] ?? 'localhost'}`, '-keyout', keyFile, '-out', csr]);
  const san = names.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  await import('node:fs/promises').then((fs) => fs.writeFile(ext, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`));
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial', '-days', '10', '-extfile', ext, '-out', certFile]);
  return { certFile, keyFile };
}

/** A self-signed pair made outside the control plane (e.g. a second certificate for reload). */
export async function makeSelfSigned(dir: string, name: string, names: string[] = ['localhost', '127.0.0.1']): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const san = names.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '10', '-subj', `/CN=${name}`, '-addext', `subjectAltName=${san}`, '-keyout', keyFile, '-out', certFile]);
  return { certFile, keyFile };
}
