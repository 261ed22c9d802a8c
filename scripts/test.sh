#!/usr/bin/env bash
# Runs every test of the workspace, after installing what the tests need.
# This is the README's test command; CI (.ci/run) calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

# Nothing outside cargo is needed yet: the CPU backend JIT-compiles through
# Cranelift, which is a crate. (The GPU backend will add mesa-vulkan-drivers
# here, for lavapipe.)
command -v cargo >/dev/null || { echo "cargo not found: install a Rust toolchain (rustup.rs)" >&2; exit 1; }

cargo test --workspace --all-targets "$@"
cargo test --workspace --doc "$@"
