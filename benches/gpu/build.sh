#!/usr/bin/env bash
# Release builds of what benches/gpu/run.sh runs, stripped, into DIR
# (default .kbin), as one xz archive: `kiln`, the `gpu_gemv` and
# `gpu_out_of_memory` examples, `random_gguf` (the stand-in weights for
# llama.cpp, compare.sh's KILN_PEERS), the `smollm2_gpu` and `gpu_differential`
# tests and the `gpu_kernels` criterion benchmark (run it with `--bench`).
set -eu
DIR=${1:-.kbin}
mkdir -p "$DIR"
# (two commands: `--example` limits a build to the examples, so one command
# naming both would leave an old `kiln` behind)
cargo build --release -p kiln-cli --bin kiln
cargo build --release -p kiln-runtime --example gpu_gemv --example gpu_out_of_memory
cargo build --release -p kiln-llm-zoo --example random_gguf
cargo test --release -p kiln-llm-zoo --test smollm2_gpu --no-run 2>&1 | tee /tmp/kiln-test-build.log
cargo test --release -p kiln-runtime --test gpu_differential --no-run 2>&1 | tee /tmp/kiln-diff-build.log
cargo bench -p kiln-benches --bench gpu_kernels --no-run 2>&1 | tee /tmp/kiln-bench-build.log
cp target/release/kiln target/release/examples/gpu_gemv target/release/examples/gpu_out_of_memory target/release/examples/random_gguf "$DIR/"
cp "$(grep -o 'target/release/deps/smollm2_gpu-[0-9a-f]*' /tmp/kiln-test-build.log | tail -1)" "$DIR/smollm2_gpu"
cp "$(grep -o 'target/release/deps/gpu_differential-[0-9a-f]*' /tmp/kiln-diff-build.log | tail -1)" "$DIR/gpu_differential"
cp "$(grep -o 'target/release/deps/gpu_kernels-[0-9a-f]*' /tmp/kiln-bench-build.log | tail -1)" "$DIR/gpu_kernels"
strip "$DIR"/kiln "$DIR"/gpu_gemv "$DIR"/gpu_out_of_memory "$DIR"/smollm2_gpu "$DIR"/gpu_differential "$DIR"/gpu_kernels "$DIR"/random_gguf
# one compressed archive: the device tool carries at most 64 MiB a call
tar -C "$DIR" -cJf "$DIR/bins.tar.xz" kiln gpu_gemv gpu_out_of_memory random_gguf smollm2_gpu gpu_differential gpu_kernels
rm "$DIR"/kiln "$DIR"/gpu_gemv "$DIR"/gpu_out_of_memory "$DIR"/smollm2_gpu "$DIR"/gpu_differential "$DIR"/gpu_kernels "$DIR"/random_gguf
ls -la "$DIR"
