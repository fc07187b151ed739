/**
 * Entry point of the single executable (deploy/edge: bundled into one CommonJS file, injected into a
 * Node binary). Modules evaluate in import order: setup (tuning, SQLite addon) before the CLI parses.
 */
import './setup.js';
import '../cli.js';
