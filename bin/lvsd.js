#!/usr/bin/env node
// The installed entry point: the bundled CLI (built by `npm run build`). check-config has a
// bundle of its own, the same CLI in one module that starts sooner (scripts/build.mjs says
// why); where it was not installed alongside, the full CLI runs check-config just the same.
import { existsSync } from 'node:fs';

const own = new URL('../dist/check-config.mjs', import.meta.url);
const entry = process.argv[2] === 'check-config' && existsSync(own) ? own.href : '../dist/lvsd.mjs';
const { cli } = await import(entry);

cli();
