#!/usr/bin/env node
// Entry point for the `authgate` server command; the implementation is compiled to dist/.
import { main } from '../dist/proxy/main.js';
await main(process.argv);
