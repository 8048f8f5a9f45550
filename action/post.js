'use strict';
// The Action's post step (runs even when the job failed): stop the fake with SIGTERM, so that
// its JUnit report is complete, then show its log's tail and judge the report when asked.
const fs = require('node:fs');

const pid = Number(process.env.STATE_pid);
const alive = () => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function post() {
  if (!pid) return;
  if (alive()) process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 300 && alive(); i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
  if (alive()) process.kill(pid, 'SIGKILL');
  const stderr = process.env.STATE_stderr;
  if (stderr && fs.existsSync(stderr)) {
    const lines = fs.readFileSync(stderr, 'utf8').trimEnd().split('\n');
    console.log(lines.slice(-20).join('\n'));
  }
  const junit = process.env.STATE_junit;
  if (!junit || !fs.existsSync(junit)) {
    console.log('::warning::einvoice-mock left no JUnit report');
    return;
  }
  const failures = (fs.readFileSync(junit, 'utf8').match(/<failure/g) || []).length;
  console.log(`einvoice-mock stopped; JUnit report ${junit}: ${failures} request(s) broke the contract`);
  if (failures > 0 && (process.env['INPUT_FAIL-ON-VIOLATION'] || '').trim() === 'true') {
    console.log(`::error::${failures} request(s) broke the provider's contract (see ${junit})`);
    process.exitCode = 1;
  }
}

post().catch((error) => {
  console.log(`::error::${error.message}`);
  process.exitCode = 1;
});
