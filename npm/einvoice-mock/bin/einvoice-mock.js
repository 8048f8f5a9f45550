#!/usr/bin/env node
'use strict';
// `npx einvoice-mock …`: runs the native binary with the same arguments, stdio and exit status.
const { spawn } = require('node:child_process');
const { constants } = require('node:os');
const { binaryPath } = require('../lib/binary.js');

let binary;
try {
  binary = binaryPath();
} catch (error) {
  console.error(error.message);
  process.exit(2);
}
const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit' });
// SIGINT from a terminal reaches the whole process group, the binary included: not forwarded
// twice. SIGTERM and SIGHUP (a CI runner stopping the job) are forwarded.
process.on('SIGINT', () => {});
for (const signal of ['SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
child.on('error', (error) => {
  console.error(`einvoice-mock: cannot run ${binary}: ${error.message}`);
  process.exit(2);
});
child.on('exit', (code, signal) => {
  process.exit(signal ? 128 + (constants.signals[signal] || 0) : code);
});
