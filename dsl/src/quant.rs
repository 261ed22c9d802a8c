//! GGUF block quantization: the tensor-expression definition of dequantization
//! (what backends compile) and an independent native implementation (what the
//! reference interpreter and tests use), so each checks the other.

use crate::dim::Dim;
use crate::dtype::DType;
use crate::expr::{int, Expr};
use half::f16;

/// Row-major flat element index of a multi-dimensional index into `shape`.
pub fn flat_index(index: &[Expr], shape: &[Dim]) -> Expr {
    let mut flat: Option<Expr> = None;
    for (e, d) in index.iter().zip(shape) {
        flat = Some(match flat {
            None => e.clone(),
            Some(f) => f.mul(crate::expr::dim(d)).add(e.clone()),
        });
    }
    flat.unwrap_or(Expr::Int(0))
}

/// The tensor expression that dequantizes element `flat` (a flat element
/// index) of quantized source `src`.
pub fn dequant_expr(dtype: DType, src: u32, flat: Expr) -> Expr {
    let block = flat.clone().div(int(32));
    let j = flat.rem(int(32));
    let base = block.mul(int(dtype.block_bytes() as i64));
    let half = |off: i64| Expr::LoadHalf { src, offset: Box::new(base.clone().add(int(off))) };
    let byte = |off: Expr, signed: bool| Expr::LoadByte { src, offset: Box::new(base.clone().add(off)), signed };
    let nibble = |first: i64| {
        let b = byte(int(first).add(j.clone().rem(int(16))), false);
        b.shr(j.clone().div(int(16)).mul(int(4))).and(int(15)).to_float()
    };
    match dtype {
        DType::Q8_0 => half(0).mul(byte(int(2).add(j.clone()), true).to_float()),
        DType::Q4_0 => half(0).mul(nibble(2).sub(crate::expr::flt(8.0))),
        DType::Q4_1 => half(0).mul(nibble(4)).add(half(2)),
        _ => unreachable!("dequant_expr called on dense dtype {dtype}"),
    }
}

/// Replace every load of a quantized source by its dequantization rule.
/// `sources` gives each source's dtype and shape.
pub fn expand_quant_loads(body: &Expr, sources: &[(DType, Vec<Dim>)]) -> Expr {
    body.rewrite(&mut |e| match e {
        Expr::Load { src, index } if sources[*src as usize].0.is_quantized() => {
            let (dt, shape) = &sources[*src as usize];
            let index: Vec<Expr> = index.iter().map(|i| expand_quant_loads(i, sources)).collect();
            Some(dequant_expr(*dt, *src, flat_index(&index, shape)))
        }
        _ => None,
    })
}

fn rd_f16(b: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([b[at], b[at + 1]]).to_f32()
}

/// Dequantize element `i` (flat index) of packed storage `bytes`.
pub fn dequantize_one(dtype: DType, bytes: &[u8], i: usize) -> f32 {
    let (blk, j) = (i / 32, i % 32);
    let base = blk * dtype.block_bytes();
    match dtype {
        DType::Q8_0 => rd_f16(bytes, base) * (bytes[base + 2 + j] as i8) as f32,
        DType::Q4_0 | DType::Q4_1 => {
            let qoff = if dtype == DType::Q4_0 { 2 } else { 4 };
            let b = bytes[base + qoff + j % 16];
            let q = if j < 16 { b & 15 } else { b >> 4 } as f32;
            if dtype == DType::Q4_0 {
                rd_f16(bytes, base) * (q - 8.0)
            } else {
                rd_f16(bytes, base) * q + rd_f16(bytes, base + 2)
            }
        }
        _ => unreachable!("dequantize_one called on dense dtype {dtype}"),
    }
}

/// Quantize `values` (length a multiple of 32) the way ggml's reference
/// quantizers do.
pub fn quantize(dtype: DType, values: &[f32]) -> Vec<u8> {
    assert!(values.len() % 32 == 0, "quantize needs whole blocks of 32");
    let mut out = Vec::with_capacity(dtype.storage_bytes(values.len()));
    for blk in values.chunks(32) {
        match dtype {
            DType::Q8_0 => {
                let amax = blk.iter().fold(0f32, |m, v| m.max(v.abs()));
                let d = amax / 127.0;
                let id = if d != 0.0 { 1.0 / d } else { 0.0 };
                out.extend(f16::from_f32(d).to_le_bytes());
                out.extend(blk.iter().map(|v| (v * id).round() as i8 as u8));
            }
            DType::Q4_0 => {
                let max = blk.iter().fold(0f32, |m, &v| if v.abs() > m.abs() { v } else { m });
                let d = max / -8.0;
                let id = if d != 0.0 { 1.0 / d } else { 0.0 };
                out.extend(f16::from_f32(d).to_le_bytes());
                let q = |v: f32| ((v * id + 8.5) as i32).clamp(0, 15) as u8;
                out.extend((0..16).map(|i| q(blk[i]) | (q(blk[i + 16]) << 4)));
            }
            DType::Q4_1 => {
                let min = blk.iter().copied().fold(f32::INFINITY, f32::min);
                let max = blk.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let d = (max - min) / 15.0;
                let id = if d != 0.0 { 1.0 / d } else { 0.0 };
                out.extend(f16::from_f32(d).to_le_bytes());
                out.extend(f16::from_f32(min).to_le_bytes());
                let q = |v: f32| (((v - min) * id + 0.5) as i32).clamp(0, 15) as u8;
                out.extend((0..16).map(|i| q(blk[i]) | (q(blk[i + 16]) << 4)));
            }
            _ => unreachable!("quantize called on dense dtype {dtype}"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantize_round_trips_within_the_format_precision() {
        let v: Vec<f32> = (0..64).map(|i| ((i * 37 % 64) as f32 - 31.5) / 10.0).collect();
        for (dt, tol) in [(DType::Q8_0, 0.02), (DType::Q4_0, 0.45), (DType::Q4_1, 0.25)] {
            let q = quantize(dt, &v);
            assert_eq!(q.len(), dt.storage_bytes(64));
            for (i, x) in v.iter().enumerate() {
                let y = dequantize_one(dt, &q, i);
                assert!((x - y).abs() <= tol, "{dt} element {i}: {x} vs {y}");
            }
        }
    }
}
