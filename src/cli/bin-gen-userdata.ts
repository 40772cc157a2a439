#!/usr/bin/env node
import { main, processIo } from './main.js';

process.exitCode = await main(['gen-userdata', ...process.argv.slice(2)], processIo());
