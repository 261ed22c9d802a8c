//! kiln's code generators.
//!
//! Owns the translation of a validated loop nest
//! ([`kiln_schedule::Validated`]) into something a device runs. Today: the
//! CPU backend ([`cpu`]), which emits Cranelift IR — SIMD `f32x4` where the
//! schedule vectorizes — and JIT-compiles it, caching kernels per process.
//!
//! In: `Validated` nests. Out: callable kernels ([`cpu::CpuKernel`]).
#![warn(missing_docs)]

pub mod cpu;
mod error;

pub use error::CodegenError;
