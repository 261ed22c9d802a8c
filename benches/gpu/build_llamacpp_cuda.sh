#!/usr/bin/env bash
# Builds llama.cpp's `llama-bench` with its CUDA backend on a GPU machine
# that has CUDA's compiler, cmake and ninja (the H100 machines do), from the
# source archive benches/gpu/build_llamacpp.sh packs (llama.cpp-src.tar.xz),
# into DIR: llama.cpp as NVIDIA users run it, the peer beside its Vulkan
# build. Only the card's architecture is compiled (KILN_CUDA_ARCH, default
# 90 for Hopper): about 5 minutes on 16 cores.
#
#   benches/gpu/build_llamacpp_cuda.sh SRC.tar.xz DIR
set -eu
SRC=$1
DIR=$2
WORK=${KILN_LLAMACPP_WORK:-/tmp/kiln-llamacpp-cuda}
mkdir -p "$WORK" "$DIR"
tar -C "$WORK" -xJf "$SRC"
cmake -S "$WORK/llama.cpp" -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="${KILN_CUDA_ARCH:-90}" -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=OFF \
    -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
    -DLLAMA_BUILD_APP=OFF >"$WORK/cmake.log" 2>&1 || { tail -40 "$WORK/cmake.log"; exit 1; }
cmake --build "$WORK/build" --target llama-bench -j "$(nproc)" >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; exit 1; }
cp "$WORK/build/bin/llama-bench" "$DIR/"
