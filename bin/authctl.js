#!/usr/bin/env node
// Entry point for the `authctl` admin CLI; the implementation is compiled to dist/.
import { main } from '../dist/cli/main.js';
await main(process.argv);
