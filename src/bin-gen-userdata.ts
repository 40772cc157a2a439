#!/usr/bin/env node
import { main } from './main.js';

const code = await main(['gen-userdata', ...process.argv.slice(2)], {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  stderrIsTTY: Boolean(process.stderr.isTTY),
  env: process.env,
  cwd: process.cwd(),
});
process.exitCode = code;
