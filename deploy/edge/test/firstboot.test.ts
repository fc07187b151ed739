import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { tempDir, useCleanups } from '../../../edge-agent/test/helpers/util.js';
import { ensureExecutables } from './executables.js';
import { EDGE, GOOD, lib, same, sandbox } from './sandbox.js';

const FIRSTBOOT = join(EDGE, 'firstboot', 'firstboot.sh');
const CA = '-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n';

describe('flashing many cards: golden image, per-card node.env, first boot', () => {
  const cleanups = useCleanups();
  beforeAll(ensureExecutables, 600_000);

  async function golden() {
    const s = await sandbox(cleanups);
    mkdirSync(join(s.root, 'etc'), { recursive: true });
    const prep = spawnSync('bash', [join(EDGE, 'firstboot', 'prepare-image.sh'), s.root, '--binary', GOOD], {
      encoding: 'utf8',
    });
    expect(prep.status, prep.stderr).toBe(0);
    const boot = join(s.dir, 'boot', 'cityflow');
    mkdirSync(boot, { recursive: true });
    return { ...s, boot, release: join(s.root, 'usr/local/lib/cityflow/release') };
  }

  it('prepare-image bakes the release in and enables the first-boot unit; nothing per node', async () => {
    const g = await golden();
    for (const f of ['cityflow-agent', 'install.sh', 'firstboot.sh', 'cityflow-agent.service'])
      expect(existsSync(join(g.release, f)), f).toBe(true);
    expect(same(join(g.release, 'cityflow-agent'), GOOD)).toBe(true);
    expect(
      existsSync(join(g.root, 'etc/systemd/system/multi-user.target.wants/cityflow-firstboot.service')),
    ).toBe(true);
    expect(existsSync(join(g.root, 'etc/cityflow'))).toBe(false);
    expect(g.calls()).toEqual([]);
  });

  it('first boot: node.env (hostile values stay text) and ca.pem become /etc/cityflow; agent up; secrets leave the card', async () => {
    const g = await golden();
    const pwned = join(g.dir, 'pwned');
    const password = `p"a\\ss $(touch ${pwned}) 'x' #not-a-comment`;
    const ports = parse(readFileSync(g.config, 'utf8')) as { mqttPort: number; httpPort: number };
    // written on Windows (CRLF), as a technician's laptop may
    writeFileSync(
      join(g.boot, 'node.env'),
      [
        '# node 42',
        'CITYFLOW_AGENT_ID=A-42',
        'CITYFLOW_HUB_URL=mqtts://hub.example:8883',
        `CITYFLOW_HUB_PASSWORD=${password}`,
        `CITYFLOW_MQTT_PORT=${ports.mqttPort}`, // 1883 is taken on a test machine
        `CITYFLOW_HTTP_PORT=${ports.httpPort}`,
        '',
      ].join('\r\n'),
    );
    writeFileSync(join(g.boot, 'ca.pem'), CA);
    const r = await g.run(['--boot', g.boot, '--release', g.release], FIRSTBOOT);
    expect(r.code, r.out).toBe(0);
    const cfg = parse(readFileSync(join(g.root, 'etc/cityflow/agent.yaml'), 'utf8'));
    expect(cfg).toEqual({
      agentId: 'A-42',
      hubUrl: 'mqtts://hub.example:8883',
      hubUsername: 'A-42',
      hubPassword: password,
      ...ports,
      // the city's CA pinned (the path is the installed system's: the test's root stands in for /)
      hubCa: join(g.root, 'etc/cityflow/tls/ca.pem'),
    });
    expect(await g.health()).toMatchObject({ agent_id: 'A-42' });
    expect(existsSync(pwned)).toBe(false);
    expect(readFileSync(join(g.root, 'etc/cityflow/tls/ca.pem'), 'utf8')).toBe(CA);
    expect(readFileSync(join(g.root, 'etc/cityflow/agent.env'), 'utf8')).toBe('');
    expect(same(lib(g.root), GOOD)).toBe(true);
    expect(existsSync(join(g.boot, 'node.env'))).toBe(false);
    expect(readFileSync(join(g.boot, 'node.done'), 'utf8')).toMatch(/^agent A-42 installed /);
    expect(g.calls()).toContain('systemctl restart cityflow-agent.service');
  }, 120_000);
});

describe('render-cards.sh: per-card files from a CSV of nodes', () => {
  const cleanups = useCleanups();
  const render = (csv: string, withCa = true) => {
    const tmp = tempDir('cf-cards-');
    cleanups.push(tmp.cleanup);
    writeFileSync(join(tmp.dir, 'nodes.csv'), csv);
    writeFileSync(join(tmp.dir, 'ca.pem'), CA);
    const out = join(tmp.dir, 'out');
    const args = [join(EDGE, 'firstboot', 'render-cards.sh'), join(tmp.dir, 'nodes.csv'), out];
    const r = spawnSync('bash', withCa ? [...args, '--ca', join(tmp.dir, 'ca.pem')] : args, {
      encoding: 'utf8',
    });
    return { ...r, out };
  };
  const HEADER = 'agent_id,hub_url,hub_username,hub_password\n';

  it('writes node.env, ca.pem and a cloud-init user-data per node', () => {
    const r = render(`${HEADER}A-01,mqtts://hub:8883,A-01,pw-1_x\r\nB.2,mqtts://hub:8883,B.2,pw-2\n`);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(r.out, 'A-01/cityflow/node.env'), 'utf8')).toBe(
      'CITYFLOW_AGENT_ID=A-01\nCITYFLOW_HUB_URL=mqtts://hub:8883\nCITYFLOW_HUB_USERNAME=A-01\nCITYFLOW_HUB_PASSWORD=pw-1_x\n',
    );
    expect(readFileSync(join(r.out, 'B.2/cityflow/ca.pem'), 'utf8')).toBe(CA);
    const ud = parse(readFileSync(join(r.out, 'B.2/user-data'), 'utf8'));
    expect(ud.hostname).toBe('cityflow-b-2');
    expect(ud.write_files[0].content).toContain('CITYFLOW_HUB_PASSWORD=pw-2\n');
    expect(Buffer.from(ud.write_files[1].content, 'base64').toString()).toBe(CA);
    expect(ud.runcmd[0][0]).toBe('/usr/local/lib/cityflow/release/firstboot.sh');
  });

  it.each([
    ['a bad header', 'id,url\nA-1,mqtt://h,A-1,p\n', 'line 1: expected the header'],
    ['a missing field', `${HEADER}A-1,mqtt://h,A-1\n`, 'line 2: expected 4 fields'],
    ['a bad agent id', `${HEADER}../etc,mqtt://h,u,p\n`, "agent id '../etc' is not a valid id"],
    ['a non-MQTT hub url', `${HEADER}A-1,http://h,u,p\n`, 'is not mqtt(s)://'],
    ['a quote', `${HEADER}A-1,mqtt://h,u,p"w\n`, 'quotes, backslashes'],
    ['an & (sed would expand it)', `${HEADER}A-1,mqtt://h,u,p&w\n`, "'|' and '&' are not allowed"],
  ])('refuses %s, naming the line', (_what, csv, message) => {
    const r = render(csv, false);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(message);
  });
});
