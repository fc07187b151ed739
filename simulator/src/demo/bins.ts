import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CityFlowError } from '@cityflow/protocol';

/**
 * Finds a workspace package's binary (its `bin` entry) by walking up to a `node_modules` that
 * holds it, as npm would for `npx`. The demo drives the hub and agents through their binaries,
 * exactly as outside tools do.
 */
export function resolveBin(pkg: string, bin: string, from = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    const manifest = join(dir, 'node_modules', pkg, 'package.json');
    if (existsSync(manifest)) {
      const bins = (JSON.parse(readFileSync(manifest, 'utf8')) as { bin?: Record<string, string> }).bin ?? {};
      const rel = bins[bin];
      if (rel) return join(dirname(manifest), rel);
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new CityFlowError(
    'CF_INVALID_CONFIG',
    `cannot find the ${bin} binary of ${pkg}: run npm ci at the repository root`,
  );
}
