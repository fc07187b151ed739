/**
 * Certificates made at test time (selfsigned): a CA, server certificates for 127.0.0.1/localhost signed
 * by it (valid or expired), client certificates (CN = agent id), and a second, unrelated CA. Written as
 * PEM files so they travel the same way as in production (file paths in env vars and flags).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface PemFiles {
  cert: string;
  key: string;
}

const DAY = 24 * 3600 * 1000;
// EC keys: fast to make on a loaded machine (RSA-2048 takes ~0.5 s each).
const base = { keyType: 'ec' as const, algorithm: 'sha256' };

async function makeCa(cn: string) {
  return generate([{ name: 'commonName', value: cn }], {
    ...base,
    notBeforeDate: new Date(Date.now() - DAY),
    notAfterDate: new Date(Date.now() + 30 * DAY),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
}

async function leaf(
  ca: { key: string; cert: string },
  cn: string,
  usage: 'server' | 'client',
  validity: { from: Date; to: Date },
) {
  return generate([{ name: 'commonName', value: cn }], {
    ...base,
    ca,
    notBeforeDate: validity.from,
    notAfterDate: validity.to,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: usage === 'server', clientAuth: usage === 'client' },
      ...(usage === 'server'
        ? [
            {
              name: 'subjectAltName' as const,
              altNames: [
                { type: 2 as const, value: 'localhost' },
                { type: 7 as const, ip: '127.0.0.1' },
              ],
            },
          ]
        : []),
    ],
  });
}

export interface TestPki {
  dir: string;
  /** the CA that signs everything below */
  ca: string;
  /** an unrelated CA (pinning it must refuse our server) */
  otherCa: string;
  server: PemFiles;
  /** signed by `ca`, expired yesterday */
  expiredServer: PemFiles;
  /** client certificate for an agent id (CN = id), signed by `ca` */
  client(agentId: string): Promise<PemFiles>;
}

export async function makeTestPki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'cf-pki-'));
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text, { mode: 0o600 });
    return p;
  };
  const ca = await makeCa('CityFlow test CA');
  const other = await makeCa('Somebody else');
  const caKeys = { key: ca.private, cert: ca.cert };
  const now = Date.now();
  const server = await leaf(caKeys, 'localhost', 'server', {
    from: new Date(now - DAY),
    to: new Date(now + 30 * DAY),
  });
  const expired = await leaf(caKeys, 'localhost', 'server', {
    from: new Date(now - 30 * DAY),
    to: new Date(now - DAY),
  });
  return {
    dir,
    ca: write('ca.pem', ca.cert),
    otherCa: write('other-ca.pem', other.cert),
    server: { cert: write('server.pem', server.cert), key: write('server.key', server.private) },
    expiredServer: { cert: write('expired.pem', expired.cert), key: write('expired.key', expired.private) },
    client: async (agentId) => {
      const c = await leaf(caKeys, agentId, 'client', {
        from: new Date(now - DAY),
        to: new Date(now + 30 * DAY),
      });
      return { cert: write(`${agentId}.pem`, c.cert), key: write(`${agentId}.key`, c.private) };
    },
  };
}
