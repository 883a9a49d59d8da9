#!/usr/bin/env bash
# Runs ompqc's whole test suite. Installs what the suite needs when it is missing (later issues add the cross
# toolchains and QEMU here), then runs every test. Tests that read ../shared/eval skip with a message without it.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v gcc >/dev/null || need_apt+=(gcc)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"
fi

# The benchmarks must keep building; they run only under `cargo bench`.
cargo build --benches
cargo test "$@"
