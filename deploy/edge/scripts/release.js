// `npm run package:edge -- --release`: what a technician copies to a Pi (USB stick, scp), one folder
// and one .tar.gz per target in dist/: the executable beside install.sh, the unit, the example
// config, the first-boot scripts and the README, so `sudo ./install.sh install --config agent.yaml`
// works from inside it.
import { chmodSync, copyFileSync, cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DIST_DIR, EDGE_DIR, log, run } from './lib.js';

const FILES = ['install.sh', 'cityflow-agent.service', 'agent.example.yaml', 'README.md'];

export function releaseFolder(target, version) {
  const name = `cityflow-agent-${version}-${target}`;
  const dir = join(DIST_DIR, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of FILES) copyFileSync(join(EDGE_DIR, f), join(dir, f));
  chmodSync(join(dir, 'install.sh'), 0o755);
  cpSync(join(EDGE_DIR, 'firstboot'), join(dir, 'firstboot'), { recursive: true });
  copyFileSync(join(DIST_DIR, `cityflow-agent-${target}`), join(dir, `cityflow-agent-${target}`));
  chmodSync(join(dir, `cityflow-agent-${target}`), 0o755);
  run('tar', ['-czf', `${dir}.tar.gz`, '-C', DIST_DIR, name]);
  log(`release ${dir}.tar.gz`);
  return dir;
}
