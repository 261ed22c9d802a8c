//! GGUF block quantization: the tensor-expression definition of dequantization
//! (what backends compile) and an independent native implementation (what the
//! reference interpreter and tests use), so each checks the other.

use crate::dim::Dim;
use crate::dtype::DType;
use crate::expr::{int, select, Expr};
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
    let block_len = dtype.block_len() as i64;
    let block = flat.clone().div(int(block_len));
    let j = flat.rem(int(block_len));
    let base = block.mul(int(dtype.block_bytes() as i64));
    let half = |off: i64| Expr::LoadHalf { src, offset: Box::new(base.clone().add(int(off))) };
    let byte_at = |off: Expr, signed: bool| Expr::LoadByte { src, offset: Box::new(base.clone().add(off)), signed };
    let byte = |off: Expr| byte_at(off, false);
    let nibble = |first: i64| {
        let b = byte(int(first).add(j.clone().rem(int(16))));
        b.shr(j.clone().div(int(16)).mul(int(4))).and(int(15)).to_float()
    };
    match dtype {
        DType::Q8_0 => half(0).mul(byte_at(int(2).add(j.clone()), true).to_float()),
        DType::Q8_1 => half(0).mul(byte_at(int(4).add(j.clone()), true).to_float()),
        DType::Q4_0 => half(0).mul(nibble(2).sub(crate::expr::flt(8.0))),
        DType::Q4_1 => half(0).mul(nibble(4)).add(half(2)),
        DType::Q4_K => {
            // sub-block s = j / 32 of 8; its nibbles are the low (even s) or
            // high (odd s) halves of 32 bytes shared by a pair of sub-blocks
            let s = j.clone().div(int(32));
            let q = byte(int(16).add(j.clone().div(int(64)).mul(int(32))).add(j.clone().rem(int(32))));
            let q = q.shr(s.clone().rem(int(2)).mul(int(4))).and(int(15));
            // 6-bit scale and minimum: sub-blocks 0-3 in the low 6 bits of
            // bytes 4+s and 8+s; 4-7 split between byte 8+s (low bits) and
            // the top 2 bits of bytes s and 4+s
            let sc_lo = byte(int(4).add(s.clone())).and(int(63));
            let m_lo = byte(int(8).add(s.clone())).and(int(63));
            let sc_hi = byte(int(8).add(s.clone())).and(int(15)).add(byte(s.clone()).shr(int(6)).mul(int(16)));
            let m_hi = byte(int(8).add(s.clone())).shr(int(4)).add(byte(int(4).add(s.clone())).shr(int(6)).mul(int(16)));
            let first = s.lt(int(4));
            let sc = select(first.clone(), sc_lo, sc_hi).to_float();
            let m = select(first, m_lo, m_hi).to_float();
            half(0).mul(sc).mul(q.to_float()).sub(half(2).mul(m))
        }
        DType::Q6_K => {
            // j = 128 h + 32 quad + l: low nibble pairs in bytes 0..128, high
            // 2-bit pairs in 128..192, one signed scale per 16 values at 192
            let h = j.clone().div(int(128));
            let quad = j.clone().rem(int(128)).div(int(32));
            let l = j.clone().rem(int(32));
            let ql = byte(h.clone().mul(int(64)).add(l.clone()).add(quad.clone().rem(int(2)).mul(int(32))));
            let low = ql.shr(quad.clone().div(int(2)).mul(int(4))).and(int(15));
            let qh = byte(int(128).add(h.mul(int(32))).add(l));
            let high = qh.shr(quad.mul(int(2))).and(int(3));
            let q = low.add(high.mul(int(16))).sub(int(32));
            let sc = byte_at(int(192).add(j.clone().div(int(16))), true);
            half(208).mul(sc.to_float()).mul(q.to_float())
        }
        _ => unreachable!("dequant_expr called on dense dtype {dtype}"),
    }
}

/// How a backend keeps block-quantized tensors in its memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum QuantLayout {
    /// GGUF's blocks, as in the file.
    #[default]
    Gguf,
    /// Q4_0 rows (along the last axis, whole blocks) split in two: first the
    /// row's nibbles, 16 bytes per block in element order (byte `t` holds
    /// element `2t` in its low and `2t + 1` in its high nibble; GGUF pairs
    /// `t` with `t + 16`), then the row's f16 scales. A row keeps its size
    /// and place, every block's nibbles start at a multiple of 4 bytes, and
    /// 8 consecutive elements are one aligned word: a GPU's lanes read a
    /// word together and take their nibbles at constant shifts (GGUF's
    /// 18-byte blocks put them 2 bytes off). Other dtypes keep GGUF's
    /// blocks: Q4_1's 20-byte blocks are aligned already, and Q8_0/Q8_1 are
    /// also written by kernels.
    SplitQ4_0Rows,
}

impl QuantLayout {
    /// Whether `dtype` is stored in rows split this way.
    pub fn splits(self, dtype: DType) -> bool {
        self == QuantLayout::SplitQ4_0Rows && dtype == DType::Q4_0
    }
}

/// [`dequant_expr`] for storage in `layout`, of a source whose rows (last
/// axis) are `row_len` elements long.
pub fn dequant_expr_in(layout: QuantLayout, dtype: DType, src: u32, flat: Expr, row_len: &Dim) -> Expr {
    if !layout.splits(dtype) {
        return dequant_expr(dtype, src, flat);
    }
    let row_len_e = crate::expr::dim(row_len);
    let row = flat.clone().div(row_len_e.clone());
    let within = flat.rem(row_len_e.clone());
    let block = within.clone().div(int(32));
    let j = within.rem(int(32));
    // a row's bytes: 18 per block, nibbles (16 per block) first
    let row_start = row.mul(match row_len.as_const() {
        Some(n) => int(n / 32 * 18),
        None => row_len_e.clone().div(int(32)).mul(int(18)),
    });
    let scales = match row_len.as_const() {
        Some(n) => int(n / 2),
        None => row_len_e.div(int(2)),
    };
    let scale = Expr::LoadHalf { src, offset: Box::new(row_start.clone().add(scales).add(block.clone().mul(int(2)))) };
    // byte j / 2 written as (j / 8) * 4 + (j % 8) / 2: lanes walking 8
    // elements from a multiple of 8 share the first term and the word, and
    // their byte and shift within it are constants
    let in_word = j.clone().rem(int(8));
    let byte = Expr::LoadByte { src, offset: Box::new(row_start.add(block.mul(int(16))).add(j.div(int(8)).mul(int(4))).add(in_word.clone().div(int(2)))), signed: false };
    let nibble = byte.shr(in_word.rem(int(2)).mul(int(4))).and(int(15)).to_float();
    scale.mul(nibble.sub(crate::expr::flt(8.0)))
}

/// Replace every load of a quantized source by its dequantization rule.
/// `sources` gives each source's dtype and shape.
pub fn expand_quant_loads(body: &Expr, sources: &[(DType, Vec<Dim>)]) -> Expr {
    expand_quant_loads_in(QuantLayout::Gguf, body, sources)
}

/// [`expand_quant_loads`] for storage in `layout`.
pub fn expand_quant_loads_in(layout: QuantLayout, body: &Expr, sources: &[(DType, Vec<Dim>)]) -> Expr {
    body.rewrite(&mut |e| match e {
        Expr::Load { src, index } if sources[*src as usize].0.is_quantized() => {
            let (dt, shape) = &sources[*src as usize];
            let index: Vec<Expr> = index.iter().map(|i| expand_quant_loads_in(layout, i, sources)).collect();
            let row_len = shape.last().cloned().unwrap_or(Dim::new(1));
            Some(dequant_expr_in(layout, *dt, *src, flat_index(&index, shape), &row_len))
        }
        _ => None,
    })
}

/// `bytes` (GGUF blocks of `dtype`, rows of `row_len` elements) stored in
/// `layout`: the same bytes where the layout keeps GGUF's blocks. Rows
/// must be whole blocks where it splits them.
pub fn to_layout(layout: QuantLayout, dtype: DType, bytes: &[u8], row_len: usize) -> Result<Vec<u8>, String> {
    relayout(layout, dtype, bytes, row_len, true)
}

/// The inverse of [`to_layout`]: GGUF blocks from storage in `layout`.
pub fn from_layout(layout: QuantLayout, dtype: DType, bytes: &[u8], row_len: usize) -> Result<Vec<u8>, String> {
    relayout(layout, dtype, bytes, row_len, false)
}

fn relayout(layout: QuantLayout, dtype: DType, bytes: &[u8], row_len: usize, split: bool) -> Result<Vec<u8>, String> {
    if !layout.splits(dtype) {
        return Ok(bytes.to_vec());
    }
    let row_bytes = row_len / 32 * 18;
    if row_len == 0 || row_len % 32 != 0 || bytes.len() % row_bytes != 0 {
        return Err(format!("{dtype} rows of {row_len} elements in {} bytes are not whole blocks", bytes.len()));
    }
    // element e's nibble in GGUF's block and in the split one
    let gguf = |qs: &[u8], e: usize| if e < 16 { qs[e] & 15 } else { qs[e - 16] >> 4 };
    let ordered = |qs: &[u8], e: usize| if e % 2 == 0 { qs[e / 2] & 15 } else { qs[e / 2] >> 4 };
    let (nibbles, blocks) = (row_len / 2, row_len / 32);
    let mut out = vec![0u8; bytes.len()];
    for (from, to) in bytes.chunks(row_bytes).zip(out.chunks_mut(row_bytes)) {
        for b in 0..blocks {
            let (block, nib, scale) = (18 * b, 16 * b, nibbles + 2 * b);
            if split {
                let qs = &from[block + 2..block + 18];
                for t in 0..16 {
                    to[nib + t] = gguf(qs, 2 * t) | (gguf(qs, 2 * t + 1) << 4);
                }
                to[scale..scale + 2].copy_from_slice(&from[block..block + 2]);
            } else {
                let qs = &from[nib..nib + 16];
                for t in 0..16 {
                    to[block + 2 + t] = ordered(qs, t) | (ordered(qs, t + 16) << 4);
                }
                to[block..block + 2].copy_from_slice(&from[scale..scale + 2]);
            }
        }
    }
    Ok(out)
}

fn rd_f16(b: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([b[at], b[at + 1]]).to_f32()
}

/// The 6-bit scale and minimum of Q4_K sub-block `s` from its 12 packed bytes.
fn q4_k_scale_min(scales: &[u8], s: usize) -> (u8, u8) {
    if s < 4 {
        (scales[s] & 63, scales[s + 4] & 63)
    } else {
        ((scales[s + 4] & 15) | ((scales[s - 4] >> 6) << 4), (scales[s + 4] >> 4) | ((scales[s] >> 6) << 4))
    }
}

/// Dequantize element `i` (flat index) of packed storage `bytes`.
pub fn dequantize_one(dtype: DType, bytes: &[u8], i: usize) -> f32 {
    let (blk, j) = (i / dtype.block_len(), i % dtype.block_len());
    let base = blk * dtype.block_bytes();
    let b = &bytes[base..base + dtype.block_bytes()];
    match dtype {
        DType::Q8_0 => rd_f16(b, 0) * (b[2 + j] as i8) as f32,
        DType::Q8_1 => rd_f16(b, 0) * (b[4 + j] as i8) as f32,
        DType::Q4_0 | DType::Q4_1 => {
            let qoff = if dtype == DType::Q4_0 { 2 } else { 4 };
            let byte = b[qoff + j % 16];
            let q = if j < 16 { byte & 15 } else { byte >> 4 } as f32;
            if dtype == DType::Q4_0 {
                rd_f16(b, 0) * (q - 8.0)
            } else {
                rd_f16(b, 0) * q + rd_f16(b, 2)
            }
        }
        DType::Q4_K => {
            let s = j / 32;
            let byte = b[16 + 32 * (j / 64) + j % 32];
            let q = if s % 2 == 0 { byte & 15 } else { byte >> 4 };
            let (sc, m) = q4_k_scale_min(&b[4..16], s);
            rd_f16(b, 0) * sc as f32 * q as f32 - rd_f16(b, 2) * m as f32
        }
        DType::Q6_K => {
            let (h, quad, l) = (j / 128, j % 128 / 32, j % 32);
            let ql = b[64 * h + l + 32 * (quad % 2)];
            let low = if quad < 2 { ql & 15 } else { ql >> 4 };
            let high = (b[128 + 32 * h + l] >> (2 * quad)) & 3;
            let q = (low | (high << 4)) as i32 - 32;
            rd_f16(b, 208) * (b[192 + j / 16] as i8) as f32 * q as f32
        }
        _ => unreachable!("dequantize_one called on dense dtype {dtype}"),
    }
}

/// Quantize `values` (length a multiple of the block length): the 32-value
/// types the way ggml's reference quantizers do, the K-quants with a plain
/// min/max fit (ggml searches for better scales; any valid block serves
/// kiln's tests, which compare dequantizations).
pub fn quantize(dtype: DType, values: &[f32]) -> Vec<u8> {
    let n = dtype.block_len();
    assert!(values.len() % n == 0, "quantize needs whole blocks of {n}");
    let mut out = Vec::with_capacity(dtype.storage_bytes(values.len()));
    for blk in values.chunks(n) {
        match dtype {
            DType::Q8_0 | DType::Q8_1 => {
                let amax = blk.iter().fold(0f32, |m, v| m.max(v.abs()));
                let d = amax / 127.0;
                let id = if d != 0.0 { 1.0 / d } else { 0.0 };
                let q: Vec<i8> = blk.iter().map(|v| (v * id).round() as i8).collect();
                out.extend(f16::from_f32(d).to_le_bytes());
                if dtype == DType::Q8_1 {
                    out.extend(f16::from_f32(d * q.iter().map(|&x| x as i32).sum::<i32>() as f32).to_le_bytes());
                }
                out.extend(q.iter().map(|&x| x as u8));
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
            DType::Q4_K => quantize_q4_k(blk, &mut out),
            DType::Q6_K => quantize_q6_k(blk, &mut out),
            _ => unreachable!("quantize called on dense dtype {dtype}"),
        }
    }
    out
}

/// Quantize activations to Q8_0 or Q8_1 blocks the way ggml's SIMD row
/// quantizers do before a quantized matmul (not its reference quantizers):
/// per block `amax = max |x|`, `d = amax / 127` stored as f16, `q = x * (127
/// / amax)` rounded half to even, and for Q8_1 `s = d * Σq` (with the f32
/// `d`) stored as f16. The integer-dot matmul kernels read these blocks;
/// kernels and the reference interpreter share this one definition.
pub fn quantize_activations(dtype: DType, values: &[f32]) -> Vec<u8> {
    assert!(matches!(dtype, DType::Q8_0 | DType::Q8_1), "activations quantize to q8_0 or q8_1, not {dtype}");
    assert!(values.len() % 32 == 0, "activation quantization needs whole blocks of 32");
    let mut out = Vec::with_capacity(dtype.storage_bytes(values.len()));
    for blk in values.chunks(32) {
        let amax = blk.iter().fold(0f32, |m, v| m.max(v.abs()));
        let id = if amax != 0.0 { 127.0 / amax } else { 0.0 };
        let d = amax / 127.0;
        let q: Vec<i8> = blk.iter().map(|v| (v * id).round_ties_even() as i8).collect();
        out.extend(f16::from_f32(d).to_le_bytes());
        if dtype == DType::Q8_1 {
            out.extend(f16::from_f32(d * q.iter().map(|&x| x as i32).sum::<i32>() as f32).to_le_bytes());
        }
        out.extend(q.iter().map(|&x| x as u8));
    }
    out
}

fn f16_round(x: f32) -> f32 {
    f16::from_f32(x).to_f32()
}

fn quantize_q4_k(blk: &[f32], out: &mut Vec<u8>) {
    // per sub-block: x ~ scale * q - min, q in 0..16
    let mut scale = [0f32; 8];
    let mut min = [0f32; 8];
    for (s, sub) in blk.chunks(32).enumerate() {
        let lo = sub.iter().copied().fold(0f32, f32::min);
        let hi = sub.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        scale[s] = (hi - lo) / 15.0;
        min[s] = -lo;
    }
    let d = f16_round(scale.iter().copied().fold(0f32, f32::max) / 63.0);
    let dmin = f16_round(min.iter().copied().fold(0f32, f32::max) / 63.0);
    let six = |v: f32, unit: f32| if unit > 0.0 { (v / unit).round().clamp(0.0, 63.0) as u8 } else { 0 };
    let sc: Vec<u8> = scale.iter().map(|&v| six(v, d)).collect();
    let m: Vec<u8> = min.iter().map(|&v| six(v, dmin)).collect();
    out.extend(f16::from_f32(d).to_le_bytes());
    out.extend(f16::from_f32(dmin).to_le_bytes());
    let mut packed = [0u8; 12];
    for j in 0..4 {
        packed[j] = sc[j] | ((sc[j + 4] >> 4) << 6);
        packed[j + 4] = m[j] | ((m[j + 4] >> 4) << 6);
        packed[j + 8] = (sc[j + 4] & 15) | ((m[j + 4] & 15) << 4);
    }
    out.extend(packed);
    let q = |i: usize| {
        let s = i / 32;
        let step = d * sc[s] as f32;
        if step > 0.0 { ((blk[i] + dmin * m[s] as f32) / step).round().clamp(0.0, 15.0) as u8 } else { 0 }
    };
    for chunk in 0..4 {
        for l in 0..32 {
            out.push(q(64 * chunk + l) | (q(64 * chunk + 32 + l) << 4));
        }
    }
}

fn quantize_q6_k(blk: &[f32], out: &mut Vec<u8>) {
    // per 16 values: x ~ scale * q, q in -32..32
    let scale: Vec<f32> = blk.chunks(16).map(|s| s.iter().fold(0f32, |m, v| m.max(v.abs())) / 31.0).collect();
    let d = f16_round(scale.iter().copied().fold(0f32, f32::max) / 127.0);
    let sc: Vec<i8> = scale.iter().map(|&v| if d > 0.0 { (v / d).round().clamp(-128.0, 127.0) as i8 } else { 0 }).collect();
    let q: Vec<u8> = (0..256)
        .map(|i| {
            let step = d * sc[i / 16] as f32;
            let q = if step != 0.0 { (blk[i] / step).round().clamp(-32.0, 31.0) as i32 } else { 0 };
            (q + 32) as u8
        })
        .collect();
    let mut ql = [0u8; 128];
    let mut qh = [0u8; 64];
    for (i, &v) in q.iter().enumerate() {
        let (h, quad, l) = (i / 128, i % 128 / 32, i % 32);
        ql[64 * h + l + 32 * (quad % 2)] |= (v & 15) << (4 * (quad / 2));
        qh[32 * h + l] |= (v >> 4) << (2 * quad);
    }
    out.extend(ql);
    out.extend(qh);
    out.extend(sc.iter().map(|&s| s as u8));
    out.extend(f16::from_f32(d).to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantize_round_trips_within_the_format_precision() {
        let v: Vec<f32> = (0..256).map(|i| ((i * 37 % 64) as f32 - 31.5) / 10.0).collect();
        for (dt, tol) in [(DType::Q8_0, 0.02), (DType::Q8_1, 0.02), (DType::Q4_0, 0.45), (DType::Q4_1, 0.25), (DType::Q4_K, 0.3), (DType::Q6_K, 0.1)] {
            let q = quantize(dt, &v);
            assert_eq!(q.len(), dt.storage_bytes(256));
            for (i, x) in v.iter().enumerate() {
                let y = dequantize_one(dt, &q, i);
                assert!((x - y).abs() <= tol, "{dt} element {i}: {x} vs {y}");
            }
        }
    }

    /// The value of a dequantization expression over the flat index (axis
    /// 0) with `bytes` as source 0.
    fn eval(e: &Expr, flat: i64, bytes: &[u8]) -> f64 {
        use crate::expr::BinOp;
        match e {
            Expr::Int(v) => *v as f64,
            Expr::Float(v) => *v,
            Expr::Axis(0) => flat as f64,
            Expr::Dim(d) => d.as_const().expect("constant dims") as f64,
            Expr::LoadByte { offset, signed: false, .. } => bytes[eval(offset, flat, bytes) as usize] as f64,
            Expr::LoadHalf { offset, .. } => rd_f16(bytes, eval(offset, flat, bytes) as usize) as f64,
            Expr::Cast(_, a) => eval(a, flat, bytes),
            Expr::Binary(op, a, b) => {
                let (a, b) = (eval(a, flat, bytes), eval(b, flat, bytes));
                let (i, j) = (a as i64, b as i64);
                match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    BinOp::Div => (i / j) as f64,
                    BinOp::Rem => (i % j) as f64,
                    BinOp::Shr => (i >> j) as f64,
                    BinOp::And => (i & j) as f64,
                    _ => unreachable!("{op:?} in a dequantization"),
                }
            }
            _ => unreachable!("{e:?} in a dequantization"),
        }
    }

    #[test]
    fn split_q4_0_rows_hold_the_same_values() {
        let (rows, row_len) = (3, 96);
        let v: Vec<f32> = (0..rows * row_len).map(|i| ((i * 53 % 97) as f32 - 48.0) / 7.0).collect();
        let gguf = quantize(DType::Q4_0, &v);
        let layout = QuantLayout::SplitQ4_0Rows;
        let split = to_layout(layout, DType::Q4_0, &gguf, row_len).unwrap();
        assert_ne!(split, gguf);
        assert_eq!(from_layout(layout, DType::Q4_0, &split, row_len).unwrap(), gguf);
        // the second block of the first row: its nibbles at 16 (elements 32 and 33 in byte 16), its scale after the row's 48 nibble bytes
        assert_eq!(split[16], (gguf[20] & 15) | (gguf[21] & 15) << 4);
        assert_eq!(split[31], (gguf[34] >> 4) | (gguf[35] & 0xf0));
        assert_eq!(split[48 + 2..48 + 4], gguf[18..20]);
        for row_dim in [Dim::new(row_len as i64), Dim::sym("k")] {
            let e = dequant_expr_in(layout, DType::Q4_0, 0, Expr::Axis(0), &row_dim);
            let e = e.rewrite(&mut |x| matches!(x, Expr::Dim(d) if d.as_const().is_none()).then(|| Expr::Int(row_len as i64)));
            for i in 0..rows * row_len {
                assert_eq!(eval(&e, i as i64, &split) as f32, dequantize_one(DType::Q4_0, &gguf, i), "element {i}, rows of {row_dim}");
            }
        }
        // other dtypes keep GGUF's blocks
        let q8 = quantize(DType::Q8_0, &v);
        assert_eq!(to_layout(layout, DType::Q8_0, &q8, row_len).unwrap(), q8);
        assert!(to_layout(layout, DType::Q4_0, &gguf, 48).is_err(), "rows of a block and a half");
    }
}
