//! Host-side tensor values: what goes into and comes out of every backend.

use crate::dtype::DType;
use crate::quant;
use bytes::Bytes;
use half::f16;
use rand::Rng;

/// A tensor in host memory, stored exactly as backends and GGUF lay it out
/// (little-endian, row-major, quantized blocks along the last axis).
///
/// The storage is a shared, immutable [`Bytes`]: cloning a tensor is cheap,
/// and weights can point straight into a memory-mapped model file
/// ([`HostTensor::from_bytes`]) instead of being copied.
#[derive(Clone, Debug, PartialEq)]
pub struct HostTensor {
    /// Element type.
    pub dtype: DType,
    /// Concrete shape.
    pub shape: Vec<usize>,
    /// Raw storage bytes.
    pub data: Bytes,
}

impl HostTensor {
    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// A zero-filled tensor.
    pub fn zeros(dtype: DType, shape: &[usize]) -> HostTensor {
        let n: usize = shape.iter().product();
        HostTensor { dtype, shape: shape.to_vec(), data: vec![0; dtype.storage_bytes(n)].into() }
    }

    /// Encode f32 values as `dtype` (rounding to f16, truncating to i32, or
    /// quantizing blocks).
    pub fn from_f32(dtype: DType, shape: &[usize], values: &[f32]) -> HostTensor {
        assert_eq!(values.len(), shape.iter().product::<usize>(), "value count does not match shape");
        let data: Vec<u8> = match dtype {
            DType::F32 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            DType::F16 => values.iter().flat_map(|v| f16::from_f32(*v).to_le_bytes()).collect(),
            DType::I32 => values.iter().flat_map(|v| (*v as i32).to_le_bytes()).collect(),
            q => quant::quantize(q, values),
        };
        HostTensor { dtype, shape: shape.to_vec(), data: data.into() }
    }

    /// A tensor over existing storage (for example a slice of a memory map),
    /// without copying. The byte count is checked against the shape.
    pub fn from_bytes(dtype: DType, shape: &[usize], data: Bytes) -> Result<HostTensor, String> {
        let n: usize = shape.iter().product();
        if dtype.is_quantized() && shape.last().is_some_and(|&k| k % dtype.block_len() != 0) {
            return Err(format!("{dtype}{shape:?}: the last axis is not a whole number of {}-value blocks", dtype.block_len()));
        }
        if data.len() != dtype.storage_bytes(n) {
            return Err(format!("{dtype}{shape:?} needs {} bytes, got {}", dtype.storage_bytes(n), data.len()));
        }
        Ok(HostTensor { dtype, shape: shape.to_vec(), data })
    }

    /// An i32 tensor.
    pub fn from_i32(shape: &[usize], values: &[i32]) -> HostTensor {
        assert_eq!(values.len(), shape.iter().product::<usize>(), "value count does not match shape");
        HostTensor { dtype: DType::I32, shape: shape.to_vec(), data: values.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>().into() }
    }

    /// Fresh random values: floats uniform in [-1, 1), integers in `0..int_bound`.
    pub fn random(dtype: DType, shape: &[usize], int_bound: i32, rng: &mut impl Rng) -> HostTensor {
        let n: usize = shape.iter().product();
        if dtype == DType::I32 {
            let v: Vec<i32> = (0..n).map(|_| rng.random_range(0..int_bound.max(1))).collect();
            return HostTensor::from_i32(shape, &v);
        }
        let v: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        HostTensor::from_f32(dtype, shape, &v)
    }

    /// Element `i` (flat index) as f64, dequantizing if needed.
    pub fn get_f64(&self, i: usize) -> f64 {
        let d = &self.data;
        match self.dtype {
            DType::F32 => f32::from_le_bytes([d[4 * i], d[4 * i + 1], d[4 * i + 2], d[4 * i + 3]]) as f64,
            DType::F16 => f16::from_le_bytes([d[2 * i], d[2 * i + 1]]).to_f64(),
            DType::I32 => i32::from_le_bytes([d[4 * i], d[4 * i + 1], d[4 * i + 2], d[4 * i + 3]]) as f64,
            q => quant::dequantize_one(q, d, i) as f64,
        }
    }

    /// All elements as f64.
    pub fn to_f64(&self) -> Vec<f64> {
        (0..self.numel()).map(|i| self.get_f64(i)).collect()
    }

    /// All elements as f32.
    pub fn to_f32(&self) -> Vec<f32> {
        if self.dtype == DType::F32 {
            return self.data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        }
        (0..self.numel()).map(|i| self.get_f64(i) as f32).collect()
    }
}

/// Relative L2 error `|a - b| / |b|` of `a` against reference `b`; infinite
/// when either holds a NaN or the lengths differ, so NaN never passes.
pub fn rel_l2_error(a: &[f64], reference: &[f64]) -> f64 {
    if a.len() != reference.len() || a.iter().chain(reference).any(|v| v.is_nan()) {
        return f64::INFINITY;
    }
    let (mut num, mut den) = (0.0, 0.0);
    for (x, y) in a.iter().zip(reference) {
        if x.is_infinite() || y.is_infinite() {
            if x != y {
                return f64::INFINITY;
            }
            continue;
        }
        num += (x - y) * (x - y);
        den += y * y;
    }
    if den == 0.0 {
        return if num == 0.0 { 0.0 } else { f64::INFINITY };
    }
    (num / den).sqrt()
}
