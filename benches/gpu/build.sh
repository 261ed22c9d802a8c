#!/usr/bin/env bash
# Release builds of what benches/gpu/run.sh runs, stripped, into DIR
# (default .kbin), as one xz archive: `kiln`, the `gpu_gemv` and
# `gpu_out_of_memory` examples and the `smollm2_gpu` test.
set -eu
DIR=${1:-.kbin}
mkdir -p "$DIR"
# (two commands: `--example` limits a build to the examples, so one command
# naming both would leave an old `kiln` behind)
cargo build --release -p kiln-cli --bin kiln
cargo build --release -p kiln-runtime --example gpu_gemv --example gpu_out_of_memory
cargo test --release -p kiln-llm-zoo --test smollm2_gpu --no-run 2>&1 | tee /tmp/kiln-test-build.log
cp target/release/kiln target/release/examples/gpu_gemv target/release/examples/gpu_out_of_memory "$DIR/"
cp "$(grep -o 'target/release/deps/smollm2_gpu-[0-9a-f]*' /tmp/kiln-test-build.log | tail -1)" "$DIR/smollm2_gpu"
strip "$DIR"/kiln "$DIR"/gpu_gemv "$DIR"/gpu_out_of_memory "$DIR"/smollm2_gpu
# one compressed archive: the device tool carries at most 64 MiB a call
tar -C "$DIR" -cJf "$DIR/bins.tar.xz" kiln gpu_gemv gpu_out_of_memory smollm2_gpu
rm "$DIR"/kiln "$DIR"/gpu_gemv "$DIR"/gpu_out_of_memory "$DIR"/smollm2_gpu
ls -la "$DIR"
