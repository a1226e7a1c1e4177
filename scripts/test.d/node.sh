#!/usr/bin/env bash
# Node bindings (bindings-node/): install the napi CLI from npm (`npm ci`, locked), build the module (debug),
# fail when the committed index.d.ts / index.js differ from what the build generates, then
# run `node --test`. Needs Node 18+ and npm; the real-peer tests need Debian's prometheus
# (scripts/test installs it first).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT/bindings-node"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "installing Debian's nodejs and npm"
  sudo="" && [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends nodejs npm
fi
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 18 ] || { echo "Node 18 or newer is required (found $(node --version))"; exit 1; }
echo "node $(node --version), npm $(npm --version)"

# `npm ci` installs exactly what the committed lock records and never rewrites it; it fails
# when package.json and the lock disagree, which is the drift check. Packages of other
# platforms in the lock are skipped, not fetched, so the registry adding or dropping them
# cannot break this step.
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build:debug

# The generated loader and type declarations are committed: they must match the build.
git -C "$ROOT" diff --exit-code -- bindings-node/index.d.ts bindings-node/index.js || {
  echo "bindings-node/index.d.ts or index.js is stale: run 'npm run build:debug' in bindings-node and commit"
  exit 1
}

# The corpus test compares with the Rust parser's own dump (`ipocket expfmt dump`).
cargo build --locked -q -p ipocket-cli --bin ipocket
export IPOCKET_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/ipocket"
export IPOCKET_CORPUS="${IPOCKET_CORPUS:-$ROOT/../shared/corpus}"

node --test __test__/
