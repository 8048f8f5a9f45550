'use strict';
// startFake(): the fake provider for a test run, on a free port, driven through its admin API.
const { spawn } = require('node:child_process');
const { binaryPath } = require('./binary.js');

const STDERR_KEPT = 16 * 1024;

async function startFake(options = {}) {
  const args = ['serve', '--port', String(options.port ?? 0)];
  if (options.config) args.push('--config', options.config);
  if (options.junit) args.push('--junit', options.junit);
  if (options.failOnViolation) args.push('--fail-on-violation');
  if (options.adminToken) args.push('--admin-token', options.adminToken);
  if (options.args) args.push(...options.args);
  const binary = options.binary ?? binaryPath();
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });

  // stderr is the log: drained so that the process never blocks on it, its tail kept for errors.
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-STDERR_KEPT);
  });
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
  // A test run that forgets stop() must not leave the fake behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let url;
  try {
    url = await firstLine(child, options.startTimeoutMs ?? 30000);
  } catch (error) {
    child.kill('SIGKILL');
    process.removeListener('exit', killOnExit);
    throw new Error(`einvoice-mock did not start (${binary} ${args.join(' ')}): ${error.message}\n${stderr}`);
  }

  const headers = options.adminToken ? { 'x-admin-token': options.adminToken } : {};
  async function admin(method, path, body) {
    const init = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url + path, init);
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
  function query(params) {
    const entries = Object.entries(params ?? {}).filter(([, v]) => v !== undefined && v !== null);
    return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}` : '';
  }

  let stopping;
  return {
    url,
    process: child,
    arm: (scenario) => admin('POST', '/__admin/scenarios', scenario),
    disarm: () => admin('DELETE', '/__admin/scenarios'),
    // The whole answer: `requests`, `summary`, and whatever else the server adds (a paging cursor).
    journal: (params) => admin('GET', `/__admin/requests${query(params)}`),
    violations: () => admin('GET', '/__admin/violations'),
    coverage: () => admin('GET', '/__admin/coverage'),
    reset: () => admin('POST', '/__admin/reset'),
    stop() {
      if (!stopping) {
        process.removeListener('exit', killOnExit);
        // SIGTERM: a clean stop, the JUnit report completed; the exit status is the fake's
        // verdict (1 with failOnViolation when a request broke the contract).
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        stopping = exited;
      }
      return stopping;
    },
  };
}

function firstLine(child, timeoutMs) {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => done(new Error(`no "listening on" line in ${timeoutMs} ms`)), timeoutMs);
    function done(error, url) {
      clearTimeout(timer);
      child.stdout.removeListener('data', onData);
      child.removeListener('exit', onExit);
      child.stdout.resume(); // later stdout is drained, never read
      if (error) reject(error);
      else resolve(url);
    }
    function onData(chunk) {
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end < 0) return;
      const match = /^listening on (https?:\/\/\S+)/.exec(buffered.slice(0, end));
      if (match) done(null, match[1]);
      else done(new Error(`unexpected first line: ${JSON.stringify(buffered.slice(0, end))}`));
    }
    function onExit(code) {
      done(new Error(`exited with status ${code}`));
    }
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });
}

module.exports = { startFake, binaryPath };
