#!/usr/bin/env bash
# Python bindings: build `ipocket` into a virtualenv with maturin (debug build), then run
# pytest (bindings-python/tests), which also runs mypy.stubtest on the stubs and the tests
# against the real Prometheus. The venv lives under the cargo target folder (git-ignored)
# and is reused between runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
VENV=$TARGET/pyvenv

if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends python3-venv python3-dev
fi
python3 --version

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"
# Exact versions of every test tool and what they pull in (one file).
python -m pip install -q --disable-pip-version-check -r bindings-python/requirements-test.txt

(cd bindings-python && maturin develop --locked -q)
# The remote-mode tests run the real `ipocket serve` (already built by `cargo test`).
cargo build -q --locked -p ipocket-cli --bin ipocket
export IPOCKET_BIN=$TARGET/debug/ipocket
python -m pytest -q bindings-python/tests
