#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through the root `prepare`).
// `run` first applies the Pi memory tuning (src/tune.ts; CITYFLOW_AGENT_TUNE=0 switches it off).
import { applyRunTuning } from '../dist/tune.js';

if (process.argv[2] === 'run') applyRunTuning();
await import('../dist/cli.js');
