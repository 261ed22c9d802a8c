#!/usr/bin/env bash
# Release builds of what benches/gpu/run.sh runs, stripped, into DIR
# (default .kbin), as one xz archive: `kiln`, the `gpu_gemv` example and the
# `smollm2_gpu` test.
set -eu
DIR=${1:-.kbin}
mkdir -p "$DIR"
cargo build --release -p kiln-cli -p kiln-runtime --example gpu_gemv
cargo test --release -p kiln-llm-zoo --test smollm2_gpu --no-run 2>&1 | tee /tmp/kiln-test-build.log
cp target/release/kiln target/release/examples/gpu_gemv "$DIR/"
cp "$(grep -o 'target/release/deps/smollm2_gpu-[0-9a-f]*' /tmp/kiln-test-build.log | tail -1)" "$DIR/smollm2_gpu"
strip "$DIR"/kiln "$DIR"/gpu_gemv "$DIR"/smollm2_gpu
# one compressed archive: the device tool carries at most 64 MiB a call
tar -C "$DIR" -cJf "$DIR/bins.tar.xz" kiln gpu_gemv smollm2_gpu
rm "$DIR"/kiln "$DIR"/gpu_gemv "$DIR"/smollm2_gpu
ls -la "$DIR"
