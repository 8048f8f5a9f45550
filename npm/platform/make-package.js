#!/usr/bin/env node
'use strict';
// Writes one platform package (`einvoice-mock-<os>-<cpu>`): the native binary under bin/ and a
// package.json whose `os` and `cpu` fields let npm install it only where it runs. The version is
// the main package's (which is Cargo.toml's). Used by .ci/npm-check.sh and the release workflow:
//
//   node npm/platform/make-package.js --os linux --cpu x64 --binary target/release/einvoice-mock --out DIR
const fs = require('node:fs');
const path = require('node:path');

const PLATFORMS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64'];

function main(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) usage(`bad argument ${argv[i]}`);
    args[argv[i].slice(2)] = argv[i + 1];
  }
  for (const key of ['os', 'cpu', 'binary', 'out']) if (!args[key]) usage(`missing --${key}`);
  const platform = `${args.os}-${args.cpu}`;
  if (!PLATFORMS.includes(platform)) usage(`unknown platform ${platform}`);
  const main = require(path.join(__dirname, '..', 'einvoice-mock', 'package.json'));
  const name = `einvoice-mock-${platform}`;
  if (!(name in main.optionalDependencies)) usage(`${name} is not among the main package's optionalDependencies`);
  const exe = args.os === 'win32' ? 'einvoice-mock.exe' : 'einvoice-mock';

  fs.rmSync(args.out, { recursive: true, force: true });
  fs.mkdirSync(path.join(args.out, 'bin'), { recursive: true });
  fs.copyFileSync(args.binary, path.join(args.out, 'bin', exe));
  fs.chmodSync(path.join(args.out, 'bin', exe), 0o755);
  const pkg = {
    name,
    version: main.version,
    description: `The einvoice-mock binary for ${platform} (installed by the einvoice-mock package).`,
    license: main.license,
    os: [args.os],
    cpu: [args.cpu],
    files: ['bin/', 'README.md'],
    preferUnplugged: true,
  };
  fs.writeFileSync(path.join(args.out, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  fs.writeFileSync(
    path.join(args.out, 'README.md'),
    `# ${name}\n\nThe \`einvoice-mock\` binary for ${platform}. Install \`einvoice-mock\` instead: it picks this package on ${platform}.\n`,
  );
  console.log(`${name}@${main.version} in ${args.out}`);
}

function usage(message) {
  console.error(`make-package: ${message}\nusage: make-package.js --os OS --cpu CPU --binary FILE --out DIR (${PLATFORMS.join(', ')})`);
  process.exit(2);
}

main(process.argv.slice(2));
