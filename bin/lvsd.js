#!/usr/bin/env node
// The installed entry point: the bundled CLI (built by `npm run build`).
import { cli } from '../dist/lvsd.mjs';

cli();
