//! kiln's code generators.
//!
//! Owns the translation of a validated loop nest
//! ([`kiln_schedule::Validated`]) into something a device runs. Today: the
//! CPU backend ([`cpu`]), which emits Cranelift IR — SIMD `f32x4` where the
//! schedule vectorizes — and JIT-compiles it, caching kernels per process.
//! Stages whose compute rule matches a known template (integer-dot matmuls
//! of 8-bit blocks, row quantization, concatenation of rows, `rms_norm`'s
//! mean, the attention stages) get a hand-scheduled instruction sequence
//! instead of the generic emitter's; the rule still defines what it
//! computes, and the differential tests hold both to the interpreter.
//!
//! The GPU backend ([`gpu`]) builds a compute shader per scheduled stage as
//! a `naga::Module` (GPU-bound loops become workgroup and invocation ids; a
//! reduction bound to invocations is combined in workgroup memory with
//! barriers; cached operands are staged there in tiles; f16 and quantized tensors are read from u32 words; f16
//! outputs are written with atomics; a vectorized loop's lanes are
//! unrolled, reading consecutive aligned elements with vector loads where
//! `lanes` proves them so), validated by naga and written as WGSL, SPIR-V
//! or MSL. Some kernels are built whole rather than loop by loop: a matmul
//! over rows on the matrix units, a GEMV of 8-bit activations by integer
//! dot products, a quantize stage (with the reduction over its rows it
//! reads, as an f32 stage may be too: [`gpu::lower_row_reduced`]), and an
//! attention's stages
//! as one kernel or, for a few queries, three splitting the keys
//! ([`gpu::lower_attention`]).
//!
//! In: `Validated` nests (and [`gpu::FusedAttention`]s). Out: callable kernels ([`cpu::CpuKernel`]) and
//! shaders ([`gpu::GpuKernel`]).
#![warn(missing_docs)]

pub mod cpu;
mod error;
pub mod gpu;
mod lanes;

pub use error::CodegenError;
