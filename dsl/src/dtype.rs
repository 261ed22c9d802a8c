//! Element types of tensors, including GGUF's packed block-quantized types.

use std::fmt;

/// The element type of a tensor.
///
/// Dense types hold one value per element. Quantized types pack blocks of
/// [`DType::block_len`] values along the last axis into [`DType::block_bytes`]
/// bytes each, laid out exactly as GGUF stores them, so weights can be used in
/// place without conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(non_camel_case_types)] // GGUF's names
pub enum DType {
    /// IEEE 754 binary32.
    F32,
    /// IEEE 754 binary16; computed in f32, stored as f16.
    F16,
    /// Signed 32-bit integer (token ids, argmax results, positions).
    I32,
    /// GGUF Q8_0: blocks of 32 values, an f16 scale `d` and 32 signed bytes `q`; `x = d * q`.
    Q8_0,
    /// GGUF Q8_1: Q8_0 plus `s = d * Σq` (f16) after `d`: the 8-bit blocks
    /// activations take before a matmul with Q4_1 weights (llama.cpp uses
    /// `s` for the minimums' share). `x = d * q`.
    Q8_1,
    /// GGUF Q4_0: blocks of 32 values, an f16 scale `d` and 16 bytes of nibbles;
    /// value `i < 16` is the low nibble of byte `i`, value `i + 16` the high one; `x = d * (q - 8)`.
    Q4_0,
    /// GGUF Q4_1: like Q4_0 with an f16 scale `d` and an f16 minimum `m`; `x = d * q + m`.
    Q4_1,
    /// GGUF Q4_K: super-blocks of 256 values in 8 sub-blocks of 32: f16 `d`
    /// and `dmin`, 12 bytes packing a 6-bit scale and minimum per sub-block,
    /// 128 bytes of nibbles; `x = d * sc * q - dmin * m`.
    Q4_K,
    /// GGUF Q6_K: super-blocks of 256 values in 16 sub-blocks of 16: 128
    /// bytes of low nibbles, 64 bytes of high 2-bit pairs, 16 signed 8-bit
    /// scales and an f16 `d`; `x = d * sc * (q - 32)`.
    Q6_K,
}

/// Whether values of a dtype compute as floats or integers inside kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarKind {
    /// Computed as f32 by backends and as f64 by the reference interpreter.
    Float,
    /// Computed as i64 everywhere.
    Int,
}

impl DType {
    /// All dtypes, for tests that sweep them.
    pub const ALL: [DType; 9] = [DType::F32, DType::F16, DType::I32, DType::Q8_0, DType::Q8_1, DType::Q4_0, DType::Q4_1, DType::Q4_K, DType::Q6_K];

    /// True for the packed block-quantized types.
    pub fn is_quantized(self) -> bool {
        matches!(self, DType::Q8_0 | DType::Q8_1 | DType::Q4_0 | DType::Q4_1 | DType::Q4_K | DType::Q6_K)
    }

    /// How a loaded element computes.
    pub fn scalar_kind(self) -> ScalarKind {
        match self {
            DType::I32 => ScalarKind::Int,
            _ => ScalarKind::Float,
        }
    }

    /// Values per block along the last axis (1 for dense types).
    pub fn block_len(self) -> usize {
        match self {
            DType::Q4_K | DType::Q6_K => 256,
            d if d.is_quantized() => 32,
            _ => 1,
        }
    }

    /// Bytes per block (per element for dense types).
    pub fn block_bytes(self) -> usize {
        match self {
            DType::F32 | DType::I32 => 4,
            DType::F16 => 2,
            DType::Q8_0 => 34,
            DType::Q8_1 => 36,
            DType::Q4_0 => 18,
            DType::Q4_1 => 20,
            DType::Q4_K => 144,
            DType::Q6_K => 210,
        }
    }

    /// Bytes needed to store `n` elements laid out in rows of `row_len`
    /// (`row_len` must be a multiple of [`DType::block_len`]).
    pub fn storage_bytes(self, n: usize) -> usize {
        n / self.block_len() * self.block_bytes()
    }

    /// The dtype named `name` as [`DType::name`] writes it.
    pub fn parse(name: &str) -> Option<DType> {
        use DType::*;
        [F32, F16, I32, Q8_0, Q8_1, Q4_0, Q4_1, Q4_K, Q6_K].into_iter().find(|d| d.name() == name)
    }

    /// The lower-case name used in text forms (`f32`, `q4_0`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F16 => "f16",
            DType::I32 => "i32",
            DType::Q8_0 => "q8_0",
            DType::Q8_1 => "q8_1",
            DType::Q4_0 => "q4_0",
            DType::Q4_1 => "q4_1",
            DType::Q4_K => "q4_k",
            DType::Q6_K => "q6_k",
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
