#!/usr/bin/env bash
# Runs ompqc's whole test suite. Installs what the suite needs when it is missing (the host C compiler and make, the
# Arm and RISC-V cross toolchains with picolibc, QEMU, the targets' Rust standard libraries and the Rust linters),
# then runs every test. Tests that read ../shared/eval skip with a message without it.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v gcc >/dev/null || need_apt+=(gcc)
# The firmware projects' Makefiles are checked against ompqc's own builds.
command -v make >/dev/null || need_apt+=(make)
command -v arm-none-eabi-gcc >/dev/null || need_apt+=(gcc-arm-none-eabi)
[ -f /usr/lib/picolibc/arm-none-eabi/picolibc.specs ] || need_apt+=(picolibc-arm-none-eabi)
command -v riscv64-unknown-elf-gcc >/dev/null || need_apt+=(gcc-riscv64-unknown-elf)
[ -f /usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs ] || need_apt+=(picolibc-riscv64-unknown-elf)
need_qemu=0
command -v qemu-system-arm >/dev/null || { need_apt+=(qemu-system-arm); need_qemu=1; }
command -v qemu-system-riscv32 >/dev/null || { need_apt+=(qemu-system-misc); need_qemu=1; }
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # A newer qemu-utils (from backports) breaks the distribution's QEMU system emulators: take the qemu-utils of
  # the emulators' own release.
  if [ $need_qemu = 1 ] && dpkg -s qemu-utils >/dev/null 2>&1; then
    need_apt+=("qemu-utils=$(apt-cache policy qemu-system-common | awk '/Candidate:/ {print $2}')")
  fi
  apt-get install -y -qq --no-install-recommends --allow-downgrades "${need_apt[@]}"
fi

# The Rust standard libraries of every target's rust_target (`run --lang rust` builds the generated crate for them),
# and the linters the generated crates are checked with.
need_rust=()
for triple in $(sed -n 's/^rust_target = "\(.*\)"/\1/p' targets/*.toml | sort -u); do
  rustup target list --installed | grep -qx "$triple" || need_rust+=("$triple")
done
if [ ${#need_rust[@]} -gt 0 ]; then
  echo "installing Rust targets: ${need_rust[*]}"
  rustup target add "${need_rust[@]}"
fi
for component in rustfmt clippy; do
  rustup component list --installed | grep -q "^$component" || rustup component add "$component"
done

# The benchmarks must keep building; they run only under `cargo bench`.
cargo build --benches
# Property tests draw from a fixed seed here, so a run is reproducible; a plain `cargo test` draws fresh cases.
export PROPTEST_RNG_SEED="${PROPTEST_RNG_SEED:-20261206}"
cargo test "$@"
