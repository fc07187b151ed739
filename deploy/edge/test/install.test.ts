import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useCleanups, waitFor } from '../../../edge-agent/test/helpers/util.js';
import { ensureExecutables, executable } from './executables.js';
import { releaseFolder } from '../scripts/release.js';
import { EDGE, GOOD, lib, same, sandbox } from './sandbox.js';

describe('deploy/edge/install.sh against a throwaway root', () => {
  const cleanups = useCleanups();
  beforeAll(ensureExecutables, 600_000);

  it('install: user, executable, config, hardened unit, enabled and started, healthy', async () => {
    const s = await sandbox(cleanups);
    const r = await s.run(['install', '--binary', GOOD, '--config', s.config]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('running and healthy (0.1.0)');
    expect(same(lib(s.root), GOOD)).toBe(true);
    expect(statSync(lib(s.root)).mode & 0o777).toBe(0o755);
    const link = join(s.root, 'usr/local/bin/cityflow-agent');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('../lib/cityflow/cityflow-agent'); // relative: right in an image too
    const cfg = join(s.root, 'etc/cityflow/agent.yaml');
    expect(readFileSync(cfg, 'utf8')).toBe(readFileSync(s.config, 'utf8'));
    expect(statSync(cfg).mode & 0o777).toBe(0o640);
    const unit = readFileSync(join(s.root, 'etc/systemd/system/cityflow-agent.service'), 'utf8');
    expect(unit).toBe(readFileSync(join(EDGE, 'cityflow-agent.service'), 'utf8'));
    for (const line of [
      'Type=notify',
      'NotifyAccess=all',
      'Restart=on-failure',
      'WatchdogSec=60',
      'ExecStart=/usr/local/bin/cityflow-agent run --config /etc/cityflow/agent.yaml --data-dir /var/lib/cityflow',
      'User=cityflow',
      'StateDirectory=cityflow',
      'CacheDirectory=cityflow',
      'ProtectSystem=strict',
      'ProtectHome=yes',
      'NoNewPrivileges=yes',
      'PrivateTmp=yes',
      'CapabilityBoundingSet=',
      'WantedBy=multi-user.target',
    ])
      expect(unit.split('\n')).toContain(line);
    // (is-active is polled until healthy: how often depends on the machine's speed)
    expect(s.calls().filter((c) => !c.startsWith('systemctl is-active'))).toEqual([
      expect.stringMatching(/^useradd --system .*--shell \/usr\/sbin\/nologin .*cityflow$/),
      `chown -R root:cityflow ${join(s.root, 'etc/cityflow')}`,
      `chown cityflow:cityflow ${join(s.root, 'var/lib/cityflow')} ${join(s.root, 'var/cache/cityflow')}`,
      'systemctl daemon-reload',
      'systemctl enable --quiet cityflow-agent.service',
      'systemctl restart cityflow-agent.service',
    ]);
    expect(await s.health()).toMatchObject({ agent_id: 'A-42' });
    // the agent runs from the root: its buffer in /var/lib/cityflow, its addon in CacheDirectory
    expect(existsSync(join(s.root, 'var/lib/cityflow/agent.sqlite'))).toBe(true);
    expect(readdirSync(join(s.root, 'var/cache/cityflow'))).toEqual([
      expect.stringMatching(/^better_sqlite3-.*\.node$/),
    ]);
  }, 120_000);

  it('--no-system (image building) writes the same files and touches nothing else; the unit rates as hardened', async () => {
    const s = await sandbox(cleanups);
    const r = await s.run(['install', '--no-system', '--binary', GOOD, '--config', s.config]);
    expect(r.code, r.out).toBe(0);
    expect(s.calls()).toEqual([]);
    expect(same(lib(s.root), GOOD)).toBe(true);
    const unit = join(s.root, 'etc/systemd/system/cityflow-agent.service');
    // systemd's own score of the sandboxing (0 = fully locked down, 10 = none); 1.8 today
    const sec = spawnSync(
      'systemd-analyze',
      ['security', '--offline=yes', `--root=${s.root}`, '--threshold=20', unit],
      { encoding: 'utf8' },
    );
    expect(sec.stdout).toMatch(/Overall exposure level for cityflow-agent.service: 1\.\d/);
    expect(sec.status, sec.stdout).toBe(0);
  }, 120_000);

  it('from a release folder (package:edge --release), install.sh finds its executable by itself', async () => {
    const s = await sandbox(cleanups);
    const dir = releaseFolder('linux-x64', 'test');
    cleanups.push(
      () => rmSync(dir, { recursive: true, force: true }),
      () => rmSync(`${dir}.tar.gz`),
    );
    const listed = spawnSync('tar', ['-tzf', `${dir}.tar.gz`], { encoding: 'utf8' }).stdout.split('\n');
    for (const f of [
      'install.sh',
      'cityflow-agent.service',
      'cityflow-agent-linux-x64',
      'firstboot/firstboot.sh',
    ])
      expect(listed).toContain(`cityflow-agent-test-linux-x64/${f}`);
    const r = await s.run(['install', '--config', s.config], join(dir, 'install.sh'));
    expect(r.code, r.out).toBe(0);
    expect(same(lib(s.root), GOOD)).toBe(true);
  }, 120_000);

  it('is idempotent: a second install changes no file, restarts nothing, creates no user', async () => {
    const s = await sandbox(cleanups);
    expect((await s.run(['install', '--binary', GOOD, '--config', s.config])).code).toBe(0);
    const before = [lib(s.root), join(s.root, 'etc/cityflow/agent.yaml')].map((f) => statSync(f).mtimeMs);
    const pid = readFileSync(s.pidFile, 'utf8');
    const n = s.calls().length;
    const again = await s.run(['install', '--binary', GOOD, '--config', s.config]);
    expect(again.code, again.out).toBe(0);
    expect([lib(s.root), join(s.root, 'etc/cityflow/agent.yaml')].map((f) => statSync(f).mtimeMs)).toEqual(
      before,
    );
    const later = s.calls().slice(n);
    expect(later.filter((c) => /useradd|restart|daemon-reload/.test(c))).toEqual([]);
    expect(readFileSync(s.pidFile, 'utf8')).toBe(pid); // the same agent process
    expect(existsSync(lib(s.root, 'cityflow-agent.previous'))).toBe(false);
  }, 120_000);

  it('upgrade: keeps the previous executable; a new one that fails its health check is rolled back', async () => {
    const s = await sandbox(cleanups);
    expect((await s.run(['install', '--binary', GOOD, '--config', s.config])).code).toBe(0);
    // a good new build (same code, other bytes): installed, previous kept for the next rollback
    const v2 = join(s.dir, 'cityflow-agent-v2');
    copyFileSync(GOOD, v2);
    writeFileSync(v2, '\n# build 2\n', { flag: 'a' });
    const up = await s.run(['upgrade', '--binary', v2]);
    expect(up.code, up.out).toBe(0);
    expect(same(lib(s.root), v2)).toBe(true);
    expect(same(lib(s.root, 'cityflow-agent.previous'), GOOD)).toBe(true);
    // a broken build: runs --version and config check, but its service never serves /health
    const bad = join(s.dir, 'cityflow-agent-bad');
    writeFileSync(
      bad,
      '#!/bin/sh\ncase "$1" in --version) echo 9.9.9 ;; config) exit 0 ;; *) exit 3 ;; esac\n',
    );
    chmodSync(bad, 0o755);
    const r = await s.run(['upgrade', '--binary', bad, '--health-timeout', '5']);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('9.9.9 failed its health check');
    expect(r.out).toContain('rolled back to 0.1.0');
    expect(same(lib(s.root), v2)).toBe(true);
    expect(same(lib(s.root, 'cityflow-agent.failed'), bad)).toBe(true);
    expect(s.calls()).toContain('systemctl reset-failed cityflow-agent.service'); // past StartLimitBurst
    await waitFor(() => s.health(), 'the rolled-back agent serving /health', 30_000, 200);
  }, 180_000);

  it('refuses, before touching anything, an executable that does not run here and an invalid config', async () => {
    const s = await sandbox(cleanups);
    const wrong = join(s.dir, 'not-for-this-cpu');
    copyFileSync(executable('linux-arm64'), wrong); // exec format error on x64 without qemu binfmt
    const r1 = await s.run(['install', '--binary', wrong, '--config', s.config]);
    expect(r1.code).not.toBe(0);
    expect(r1.out).toContain('does not run on this machine');
    const badCfg = join(s.dir, 'bad.yaml');
    writeFileSync(badCfg, 'agentId: A-1\nhttpPort: 99999\nnoSuchKey: 1\n');
    const r2 = await s.run(['install', '--binary', GOOD, '--config', badCfg]);
    expect(r2.code).not.toBe(0);
    expect(r2.out).toContain('httpPort: Expected integer to be less or equal to 65535');
    expect(r2.out).toContain('is not a valid agent config');
    expect(existsSync(s.root)).toBe(false);
    expect(s.calls()).toEqual([]);
  }, 120_000);

  it('uninstall stops and removes the service but keeps config and buffer; --purge removes those and the user', async () => {
    const s = await sandbox(cleanups);
    expect((await s.run(['install', '--binary', GOOD, '--config', s.config])).code).toBe(0);
    const pid = Number(readFileSync(s.pidFile, 'utf8'));
    const r = await s.run(['uninstall']);
    expect(r.code, r.out).toBe(0);
    expect(s.calls()).toContain('systemctl disable --now --quiet cityflow-agent.service');
    expect(() => process.kill(pid, 0)).toThrow(); // the agent process is gone
    for (const f of [
      'etc/systemd/system/cityflow-agent.service',
      'usr/local/bin/cityflow-agent',
      'usr/local/lib/cityflow',
    ])
      expect(existsSync(join(s.root, f)), f).toBe(false);
    expect(existsSync(join(s.root, 'etc/cityflow/agent.yaml'))).toBe(true);
    expect(existsSync(join(s.root, 'var/lib/cityflow/agent.sqlite'))).toBe(true);
    expect((await s.run(['uninstall'])).code).toBe(0); // twice is fine
    const p = await s.run(['uninstall', '--purge']);
    expect(p.code, p.out).toBe(0);
    expect(existsSync(join(s.root, 'etc/cityflow'))).toBe(false);
    expect(existsSync(join(s.root, 'var/lib/cityflow'))).toBe(false);
    expect(s.calls().at(-1)).toBe('userdel cityflow');
  }, 120_000);
});
