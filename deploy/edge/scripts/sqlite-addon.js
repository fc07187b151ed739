// The better-sqlite3 native addon for each target. x64: the one `npm ci` built in node_modules
// (same machine, same Node). arm64: cross-compiled from the same sources with Debian's
// g++-aarch64-linux-gnu and node-gyp --arch=arm64 against this machine's Node headers, so the
// addon's ABI (NODE_MODULE_VERSION) is the one of the arm64 Node that ships in the executable
// (same version, see node-binary.js).
import { cpSync, existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheDir, log, NODE_VERSION, packageVersion, REPO_DIR, run } from './lib.js';

const SQLITE_PKG = join(REPO_DIR, 'node_modules', 'better-sqlite3');
const BUILT = ['build', 'Release', 'better_sqlite3.node'];

export function sqliteAddon(target) {
  if (target === 'linux-x64') {
    const file = join(SQLITE_PKG, ...BUILT);
    if (!existsSync(file)) throw new Error(`${file} missing: run npm ci first`);
    return file;
  }
  if (target === 'linux-arm64') return crossBuildArm64();
  throw new Error(`unknown target ${target}`);
}

/** npm's own node-gyp: the one `npm ci` used for the x64 addon (npm sets npm_config_node_gyp in scripts). */
function nodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  const npmCli = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm');
  const guess = join(npmCli, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(guess)) return guess;
  throw new Error(
    'node-gyp not found (run through `npm run package:edge`, which provides npm_config_node_gyp)',
  );
}

/**
 * Headers: npm is configured here with nodedir=/usr (`npm config get nodedir`), i.e. the headers of
 * the installed Node in /usr/include/node, which node-gyp cannot download offline. They are
 * architecture-neutral; node-gyp's --arch overrides target_arch from their config.gypi.
 */
function nodeDir() {
  const configured = process.env.npm_config_nodedir;
  if (configured && existsSync(join(configured, 'include', 'node', 'node.h'))) return configured;
  const prefix = join(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include', 'node', 'node.h'))) return prefix;
  throw new Error('Node headers not found: set npm_config_nodedir to a directory with include/node/node.h');
}

function crossBuildArm64() {
  const version = packageVersion('better-sqlite3');
  const dir = cacheDir(`better-sqlite3-${version}-node${NODE_VERSION}-arm64`);
  const out = join(dir, ...BUILT);
  if (existsSync(out)) return out;
  log(`cross-compiling better-sqlite3 ${version} for arm64 (once; cached in ${dir})`);
  rmSync(dir, { recursive: true, force: true });
  for (const part of ['binding.gyp', 'src', 'deps', 'package.json'])
    cpSync(join(SQLITE_PKG, part), join(dir, part), { recursive: true });
  const env = {
    ...process.env,
    CC: 'aarch64-linux-gnu-gcc',
    CXX: 'aarch64-linux-gnu-g++',
    LINK: 'aarch64-linux-gnu-g++',
    AR: 'aarch64-linux-gnu-ar',
    STRIP: 'aarch64-linux-gnu-strip',
  };
  const jobs = String(Math.max(1, Number(process.env.CITYFLOW_EDGE_JOBS ?? 2)));
  try {
    run(
      process.execPath,
      [nodeGyp(), 'rebuild', '--loglevel=warn', '--arch=arm64', `--nodedir=${nodeDir()}`, `--jobs=${jobs}`],
      {
        cwd: dir,
        env,
      },
    );
  } catch (e) {
    throw new Error(
      `${e.message}\n(the arm64 addon needs Debian's g++-aarch64-linux-gnu: apt-get install g++-aarch64-linux-gnu)`,
    );
  }
  if (!existsSync(out)) throw new Error(`node-gyp finished but ${out} is missing`);
  return out;
}
