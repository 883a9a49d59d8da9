#!/usr/bin/env bash
# Fuzzes every input ompqc reads with cargo-fuzz (libFuzzer, nightly Rust): ONNX models (imported, and small ones
# compiled to C and Rust), .npy data, target TOML files and bits files. Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
# (default 300 seconds for each of the four targets). Seeds: the bundled example, tests/models and, when present,
# the models of ../shared/eval (copied to fuzz/corpus, which git ignores; never commit them). Crashes land in
# fuzz/artifacts/TARGET; minimise one with `cargo +nightly fuzz tmin TARGET FILE` and add it to tests/fuzz_inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(onnx_model npy target_toml board_toml bits_file)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal

seed() {
  local target=$1; shift
  mkdir -p "fuzz/corpus/$target"
  for f in "$@"; do
    [ -f "$f" ] && cp "$f" "fuzz/corpus/$target/seed-$(echo "$f" | tr '/.' '__')"
  done
  return 0
}
eval_dir=../shared/eval
seed onnx_model examples/digits/model.onnx tests/models/*.onnx tests/fuzz_inputs/onnx_model/* \
  $(ls "$eval_dir"/*/model*.onnx 2>/dev/null | grep -v random_arch || true)
seed npy examples/digits/*.npy tests/fuzz_inputs/npy/*
seed target_toml targets/*.toml tests/fuzz_inputs/target_toml/*
seed board_toml boards/*.toml
mkdir -p fuzz/corpus/bits_file
printf '\x01conv1 = 8\nfc = 2\n' > fuzz/corpus/bits_file/seed-toml
printf '\x00{"conv1": 8, "conv2": 4, "fc": 2}' > fuzz/corpus/bits_file/seed-json
seed bits_file tests/fuzz_inputs/bits_file/*

for target in "${targets[@]}"; do
  echo "== $target: $seconds s"
  (cd fuzz && cargo +nightly fuzz run --fuzz-dir . -O "$target" -- -max_total_time="$seconds" -max_len=1200000 \
    -rss_limit_mb=4096 -timeout=30 -print_final_stats=1) 2>&1 | grep -E '^(#|==|stat::|INFO: Seed|Done|SUMMARY)|panicked|ERROR' | tail -20
done
