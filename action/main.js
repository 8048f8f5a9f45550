'use strict';
// The Action's main step: download the release binary, start the fake, export its URL.
// Built-in modules only: a JavaScript action runs from the repository as checked in.
const crypto = require('node:crypto');
const fs = require('node:fs');
const https = require('node:https');
const http = require('node:http');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');

const input = (name) => (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] || '').trim();

function append(file, line) {
  if (file) fs.appendFileSync(file, `${line}\n`);
}

function target() {
  const key = `${process.platform}-${process.arch}`;
  const targets = {
    'linux-x64': 'x86_64-unknown-linux-gnu',
    'linux-arm64': 'aarch64-unknown-linux-gnu',
    'darwin-x64': 'x86_64-apple-darwin',
    'darwin-arm64': 'aarch64-apple-darwin',
    'win32-x64': 'x86_64-pc-windows-msvc',
  };
  if (!targets[key]) throw new Error(`no einvoice-mock release binary for ${key}`);
  return targets[key];
}

function download(url, redirects = 5) {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http;
    client
      .get(url, { headers: { 'user-agent': 'einvoice-mock-action' } }, (response) => {
        if ([301, 302, 303, 307, 308].includes(response.statusCode) && redirects > 0) {
          response.resume();
          resolve(download(new URL(response.headers.location, url).toString(), redirects - 1));
          return;
        }
        if (response.statusCode !== 200) {
          response.resume();
          reject(new Error(`GET ${url}: ${response.statusCode}`));
          return;
        }
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => resolve(Buffer.concat(chunks)));
        response.on('error', reject);
      })
      .on('error', reject);
  });
}

async function install(temp) {
  const version = input('version') || process.env.GITHUB_ACTION_REF;
  if (!version) throw new Error('no version: set the `version` input (a release tag such as v0.1.0)');
  const base =
    input('download-url') ||
    `https://github.com/${process.env.GITHUB_ACTION_REPOSITORY || process.env.GITHUB_REPOSITORY}/releases/download`;
  const name = `einvoice-mock-${version}-${target()}`;
  const archive = process.platform === 'win32' ? `${name}.zip` : `${name}.tar.gz`;
  const [bytes, sums] = await Promise.all([
    download(`${base}/${version}/${archive}`),
    download(`${base}/${version}/SHA256SUMS`),
  ]);
  const digest = crypto.createHash('sha256').update(bytes).digest('hex');
  const expected = sums
    .toString()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find(([, file]) => file === archive);
  if (!expected) throw new Error(`${archive} is not in the release's SHA256SUMS`);
  if (expected[0] !== digest) throw new Error(`${archive}: SHA-256 ${digest}, the release says ${expected[0]}`);
  fs.writeFileSync(path.join(temp, archive), bytes);
  // tar reads both formats on every runner (bsdtar on macOS and Windows).
  execFileSync('tar', ['-xf', archive], { cwd: temp });
  const exe = path.join(temp, name, process.platform === 'win32' ? 'einvoice-mock.exe' : 'einvoice-mock');
  if (process.platform !== 'win32') fs.chmodSync(exe, 0o755);
  append(process.env.GITHUB_PATH, path.dirname(exe));
  return exe;
}

async function main() {
  const temp = fs.mkdtempSync(path.join(process.env.RUNNER_TEMP || require('node:os').tmpdir(), 'einvoice-mock-'));
  const binary = process.env.EINVOICE_MOCK_BINARY || (await install(temp));
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  const junit = path.resolve(workspace, input('junit') || 'contract.xml');
  const args = ['serve', '--port', '0', '--junit', junit];
  if (input('config')) args.push('--config', path.resolve(workspace, input('config')));
  if (input('args')) args.push(...input('args').split(/\s+/));
  const out = path.join(temp, 'stdout.log');
  const err = path.join(temp, 'stderr.log');
  // Detached, its output in files: the fake outlives this step and is stopped by post.js.
  const child = spawn(binary, args, {
    detached: true,
    stdio: ['ignore', fs.openSync(out, 'w'), fs.openSync(err, 'w')],
  });
  child.unref();
  append(process.env.GITHUB_STATE, `pid=${child.pid}`);
  append(process.env.GITHUB_STATE, `stderr=${err}`);
  append(process.env.GITHUB_STATE, `junit=${junit}`);

  let url;
  for (let i = 0; i < 300 && !url; i += 1) {
    const match = /^listening on (https?:\/\/\S+)/m.exec(fs.readFileSync(out, 'utf8'));
    if (match) url = match[1];
    else if (child.exitCode !== null) break;
    else await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!url) throw new Error(`einvoice-mock did not start:\n${fs.readFileSync(err, 'utf8')}`);
  append(process.env.GITHUB_ENV, `EINVOICE_MOCK_URL=${url}`);
  append(process.env.GITHUB_OUTPUT, `url=${url}`);
  console.log(`einvoice-mock listening on ${url} (JUnit report: ${junit})`);
}

main().catch((error) => {
  console.log(`::error::${error.message}`);
  process.exitCode = 1;
});
