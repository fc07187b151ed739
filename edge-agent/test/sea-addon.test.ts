import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dlopenAddon, materializeAddon } from '../src/sea/addon-file.js';
import { openDb, useNativeBinding } from '../src/storage/sqlite.js';
import { tempDir, useCleanups } from './helpers/util.js';

const ADDON = join(
  createRequire(import.meta.url).resolve('better-sqlite3'),
  '..',
  '..',
  'build',
  'Release',
  'better_sqlite3.node',
);

describe('single executable: the SQLite addon from an embedded asset', () => {
  const cleanups = useCleanups();

  it('writes the bytes once under a hash name, reuses an intact file, rewrites a damaged one', () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const dir = join(tmp.dir, 'cache');
    const bytes = new Uint8Array(Buffer.from('addon bytes v1'));
    const file = materializeAddon('better_sqlite3.node', bytes, [dir]);
    expect(file).toMatch(/better_sqlite3-[0-9a-f]{16}\.node$/);
    expect(readFileSync(file, 'utf8')).toBe('addon bytes v1');
    expect(statSync(file).mode & 0o777).toBe(0o500);
    const ino = statSync(file).ino;
    expect(materializeAddon('better_sqlite3.node', bytes, [dir])).toBe(file);
    expect(statSync(file).ino).toBe(ino); // reused, not rewritten
    chmodSync(file, 0o600);
    writeFileSync(file, 'bit rot');
    expect(materializeAddon('better_sqlite3.node', bytes, [dir])).toBe(file);
    expect(readFileSync(file, 'utf8')).toBe('addon bytes v1');
    const v2 = materializeAddon('better_sqlite3.node', new Uint8Array(Buffer.from('v2')), [dir]);
    expect(v2).not.toBe(file); // a new executable's addon never overwrites the old one's
  });

  it('skips a directory others can write to (they could swap the code) and unusable ones', () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const open = join(tmp.dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const notDir = join(tmp.dir, 'file');
    writeFileSync(notDir, '');
    const good = join(tmp.dir, 'good');
    const file = materializeAddon('x.node', new Uint8Array([1, 2, 3]), [open, notDir, good]);
    expect(file.startsWith(`${good}/`)).toBe(true);
    expect(() => materializeAddon('x.node', new Uint8Array([1]), [open, notDir])).toThrow(
      /open: writable by others; .*file: /,
    );
  });

  it('openDb uses the addon handed over (process.dlopen), not its own lookup', () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup, () => useNativeBinding(undefined));
    const bogus = {
      setErrorConstructor() {},
      Database: class {
        constructor() {
          throw new Error('bogus addon used');
        }
      },
    };
    useNativeBinding(bogus);
    expect(() => openDb(join(tmp.dir, 'a'))).toThrow('bogus addon used');
    // the real addon, loaded the way the executable loads its copy
    const file = materializeAddon('better_sqlite3.node', readFileSync(ADDON), [join(tmp.dir, 'cache')]);
    useNativeBinding(dlopenAddon(file));
    const db = openDb(join(tmp.dir, 'b'));
    expect(db.prepare('select 6 * 7 as v').get()).toEqual({ v: 42 });
    db.close();
  });
});
