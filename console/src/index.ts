import { fileURLToPath } from 'node:url';

/** Absolute path of the console's static files; the hub serves this folder at `/`. */
export const consolePublicDir = fileURLToPath(new URL('../public', import.meta.url));
