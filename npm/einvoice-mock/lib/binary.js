'use strict';
// Where the native `einvoice-mock` binary is: EINVOICE_MOCK_BINARY when set, else the platform
// package npm installed for this machine (one of the optionalDependencies, picked by their
// `os` and `cpu` fields, as esbuild and biome do).
const path = require('node:path');
const fs = require('node:fs');

function platformPackage() {
  return `einvoice-mock-${process.platform}-${process.arch}`;
}

function binaryPath() {
  const override = process.env.EINVOICE_MOCK_BINARY;
  if (override) return path.resolve(override);
  const name = platformPackage();
  const exe = process.platform === 'win32' ? 'einvoice-mock.exe' : 'einvoice-mock';
  let found;
  try {
    found = require.resolve(`${name}/bin/${exe}`);
  } catch {
    throw new Error(
      `einvoice-mock: the package ${name} (the binary for ${process.platform}-${process.arch}) ` +
        'is not installed. Reinstall without --no-optional / --omit=optional, or set ' +
        'EINVOICE_MOCK_BINARY to an einvoice-mock binary.',
    );
  }
  if (process.platform !== 'win32') {
    // Some installers drop the executable bit of files in tarballs.
    try {
      fs.accessSync(found, fs.constants.X_OK);
    } catch {
      fs.chmodSync(found, 0o755);
    }
  }
  return found;
}

module.exports = { binaryPath, platformPackage };
