import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The web app lives in web/; the build goes to public/, the folder the hub serves at `/`
// (`consolePublicDir`). Relative asset paths so the console also works under a path prefix.
export default defineConfig({
  root: fileURLToPath(new URL('./web', import.meta.url)),
  publicDir: fileURLToPath(new URL('./web/static', import.meta.url)),
  base: './',
  build: {
    outDir: fileURLToPath(new URL('./public', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    // No inline <script>/<style> and no data: modules, so a strict Content-Security-Policy works.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
