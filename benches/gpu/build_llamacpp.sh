#!/usr/bin/env bash
# Builds llama.cpp's `llama-bench` with its Vulkan backend, the peer kiln's
# GPU figures are compared against on the same card and the same API, into
# DIR (default .lcbin) as one xz archive, llama-bench.tar.xz, ready to carry
# to a GPU machine (`KILN_PEERS=vulkan=DIR benches/gpu/compare.sh` runs it
# there); beside it the source that build_llamacpp_cuda.sh builds on a
# machine with CUDA's compiler, llama.cpp-src.tar.xz (no models or docs).
#
# The source is the llama.cpp that llama-cpp-python vendors (fetched with
# pip, the same project shared/tools/llamacpp_ref.py uses for goldens), its
# version printed by llama-bench itself. What the build needs besides a C++
# compiler comes as Debian packages unpacked into a scratch folder (glslc,
# the Vulkan headers and loader; nothing is installed system-wide) and cmake
# from pip. The binary links libstdc++ statically: GPU hosts may lack it.
# Takes ~15-25 minutes on 2 cores (most of it compiling the shaders).
set -eu
DIR=${1:-.lcbin}
WORK=${KILN_LLAMACPP_WORK:-/tmp/kiln-llamacpp}
VERSION=${KILN_LLAMACPP_PY_VERSION:-0.3.36}
mkdir -p "$DIR" "$WORK/debs" "$WORK/root" "$WORK/apt-lists/partial"
DIR=$(cd "$DIR" && pwd)
cd "$WORK"

if [ ! -d "llama_cpp_python-$VERSION" ]; then
    pip download "llama-cpp-python==$VERSION" --no-binary llama-cpp-python --no-deps -d . >pip.log 2>&1 || { cat pip.log; exit 1; }
    tar xzf "llama_cpp_python-$VERSION.tar.gz"
fi
SRC=$WORK/llama_cpp_python-$VERSION/vendor/llama.cpp
tar -C "$SRC/.." -cJf "$DIR/llama.cpp-src.tar.xz" --exclude=llama.cpp/models --exclude=llama.cpp/docs \
    --exclude=llama.cpp/tests --exclude=llama.cpp/examples --exclude=llama.cpp/media llama.cpp

# glslc and the Vulkan loader from this machine's Debian release; the
# headers (Vulkan, SPIR-V) from Debian 13, since this llama.cpp needs
# Vulkan headers newer than Debian 12's 1.3.239 (VK_EXT_layer_settings)
apt_amd64="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$WORK/apt-lists"
echo "deb http://deb.debian.org/debian trixie main" >trixie.list
apt_trixie="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$WORK/trixie-lists -oDir::Etc::SourceList=$WORK/trixie.list -oDir::Etc::SourceParts=/dev/null"
if [ ! -d root/usr/share/cmake/SPIRV-Headers ]; then
    mkdir -p trixie-lists/partial debs-trixie
    apt-get $apt_amd64 update >/dev/null
    apt-get $apt_trixie update >/dev/null
    (cd debs && apt-get $apt_amd64 download glslc libshaderc1 libvulkan1)
    (cd debs-trixie && apt-get $apt_trixie download libvulkan-dev spirv-headers)
    for f in debs/*.deb debs-trixie/*.deb; do dpkg -x "$f" root; done
fi
ROOT=$WORK/root
LIB=$ROOT/usr/lib/x86_64-linux-gnu

if [ ! -x venv/bin/cmake ]; then
    python3 -m venv venv
    venv/bin/pip install --quiet cmake ninja
fi

export LD_LIBRARY_PATH=$LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}   # glslc's libshaderc
export PATH=$WORK/venv/bin:$PATH   # ninja, for the shader generator's own build too
cmake -S "$SRC" -B build -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DGGML_VULKAN=ON -DGGML_NATIVE=OFF \
    -DGGML_OPENMP=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF \
    -DVulkan_INCLUDE_DIR="$ROOT/usr/include" -DVulkan_LIBRARY="$LIB/libvulkan.so" \
    -DVulkan_GLSLC_EXECUTABLE="$ROOT/usr/bin/glslc" -DCMAKE_PREFIX_PATH="$ROOT/usr" \
    -DCMAKE_EXE_LINKER_FLAGS="-static-libstdc++ -static-libgcc" >cmake.log 2>&1 || { tail -40 cmake.log; exit 1; }
cmake --build build --target llama-bench -j "$(nproc)" >build.log 2>&1 || { tail -40 build.log; exit 1; }
cp build/bin/llama-bench "$DIR/"
strip "$DIR/llama-bench"
tar -C "$DIR" -cJf "$DIR/llama-bench.tar.xz" llama-bench
rm "$DIR/llama-bench"
ls -la "$DIR"
