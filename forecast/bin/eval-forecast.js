#!/usr/bin/env node
import '../dist/eval/cli.js';
