// The agent as ONE CommonJS file: Node's single-executable applications run a single script (its
// require() loads only built-in modules), so every dependency is bundled in. Built from the
// type-checked dist/ output of `npm run build`, the same code `npx cityflow-agent` runs.
import { join } from 'node:path';
import { build } from 'esbuild';
import { REPO_DIR } from './lib.js';

export const SEA_ENTRY = join(REPO_DIR, 'edge-agent', 'dist', 'sea', 'main.js');

export async function bundleAgent(outfile) {
  const result = await build({
    entryPoints: [SEA_ENTRY],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // ws' optional native speed-ups, tried in a try/catch: absent from the executable
    external: ['bufferutil', 'utf-8-validate'],
    // ESM code asks import.meta.url for its own location; inside the executable that is the
    // executable (its __filename), so lookups of files beside a module fail as "not found".
    banner: { js: "const __cf_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
    define: { 'import.meta.url': '__cf_import_meta_url' },
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'eof',
    logLevel: 'warning',
    metafile: true,
  });
  return { outfile, inputs: Object.keys(result.metafile.inputs).length };
}
