//! Kernel templates: stages that a known instruction sequence computes
//! better than the generic loop-nest emitter can (TVM calls this
//! *tensorizing*).
//!
//! Three stage shapes are recognized, by their compute rule, not their name:
//!
//! - **Row quantization** (`KernelClass::Quantize`, body `x[i..]`): each run
//!   of 32 values becomes a Q8_0 block exactly as
//!   [`kiln_dsl::quant::quantize_activations_q8_0`] defines it.
//! - **Quantized matmul** (`KernelClass::Matmul`, body `a[.., m, k] *
//!   w[n, k]` with `a` Q8_0 and `w` Q4_0, Q4_1 or Q8_0): per 32-value block
//!   the products of 8-bit activations and 4- or 8-bit weights are summed
//!   as integers (`pmaddubsw`/`pmaddwd`), exactly, and only the block sums
//!   are scaled in f32: `d_w d_a Σ q_w q_a` (Q4_0: `q_w - 8`), plus `m_w d_a
//!   Σ q_a` for Q4_1. That is 4-8x fewer instructions per weight than
//!   dequantizing every weight to f32.
//! - **Concatenation along the first axis** (the body `concat` builds, for
//!   any number of inputs): whole rows copied 16 bytes at a time, whatever
//!   the element type (the KV cache grows this way every decoded token).
//!
//! The loop nest of such a stage still describes the computation (other
//! backends compile it); here it is replaced by the kernel below, which
//! keeps the kernel ABI: its outermost loop (rows of the quantization; tiles
//! of weight rows times activation rows for the matmul) runs
//! `start..end` and is split across threads.

use super::emit::{f16_table, f32_to_f16_bits};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value};
use cranelift_frontend::{FunctionBuilder, Variable};
use kiln_dsl::{ax, load, Builtin, DType, Dim, Expr, KernelClass, OpDef, ReduceOp, TensorType};
use kiln_schedule::Validated;
use std::collections::HashMap;

/// A recognized integer-dot stage.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Template {
    /// f32 rows of `k` values to Q8_0 blocks.
    QuantizeRows { k: i64 },
    /// `out[m, n] = Σ_k a[m, k] w[n, k]`, `a` Q8_0, `w: [n, k]` of `weights`.
    QuantMatmul { weights: DType, n: i64, k: i64 },
    /// The sources stacked along axis 0; each row (all later axes) is
    /// `row_bytes` bytes.
    ConcatRows { row_bytes: i64 },
}

/// Output weight rows each tile of the matmul computes (sharing the
/// activation block loads); a tail of fewer rows runs one row at a time.
///
/// Measured (`cargo run --release -p kiln-benches --example qdot_speed`, one
/// thread): with weights in cache, 4 rows are fastest for every type, but
/// streaming Q8_0 weights from memory (the 30 MB output head of SmolLM2)
/// ran at 3.3-4.0 GB/s with 4 rows, 5.3 with 2 and 8.6-9.3 with 1, while
/// Q4_0/Q4_1 weights stream fastest with 4 (8.4-9.4 GB/s against 6.1-7.4
/// with 1). Not understood yet: the hardware prefetcher and the 612-byte
/// row stride of Q8_0 are the suspects.
fn tile_rows(weights: DType) -> i64 {
    match weights {
        DType::Q8_0 => 1,
        _ => 4,
    }
}

fn const_dim(d: &Dim) -> Option<i64> {
    d.as_const()
}

/// The template that computes `v`'s stage, if one does.
pub(super) fn recognize(v: &Validated) -> Option<Template> {
    let nest = v.nest();
    let rank = nest.output.shape.len();
    let axes = |n: usize| (0..n).map(ax).collect::<Vec<_>>();
    match nest.class {
        KernelClass::Quantize => {
            let [src] = nest.sources.as_slice() else { return None };
            let k = const_dim(nest.output.shape.last()?)?;
            let fits = nest.output.dtype == DType::Q8_0 && src.dtype == DType::F32 && src.shape == nest.output.shape && k % 32 == 0;
            (fits && nest.body == load(0, axes(rank))).then_some(Template::QuantizeRows { k })
        }
        KernelClass::Matmul if nest.reduce == Some(ReduceOp::Sum) && rank >= 2 => {
            let [a, w] = nest.sources.as_slice() else { return None };
            if a.dtype != DType::Q8_0 || !matches!(w.dtype, DType::Q4_0 | DType::Q4_1 | DType::Q8_0) || w.shape.len() != 2 {
                return None;
            }
            let (n, k) = (const_dim(&w.shape[0])?, const_dim(&w.shape[1])?);
            let mut ia = axes(rank - 1);
            ia.push(ax(rank));
            let body = load(0, ia).mul(load(1, vec![ax(rank - 1), ax(rank)]));
            let fits = nest.body == body && a.shape.last() == Some(&Dim::new(k)) && k % 32 == 0 && nest.output.shape[rank - 1] == Dim::new(n);
            fits.then_some(Template::QuantMatmul { weights: w.dtype, n, k })
        }
        KernelClass::Elementwise if nest.reduce.is_none() && rank >= 1 && !nest.sources.is_empty() => {
            // exactly the rule `concat` along axis 0 defines for these sources
            let types: Vec<TensorType> = nest.sources.iter().map(|b| TensorType::new(b.dtype, b.shape.clone())).collect();
            let out = TensorType::new(nest.output.dtype, nest.output.shape.clone());
            let dense = types.iter().all(|t| t.dtype == out.dtype && !t.dtype.is_quantized() && t.shape.len() == rank && t.shape[1..] == out.shape[1..]);
            if !dense {
                return None;
            }
            let rule = Builtin::Concat(0).compute(&types, &out);
            let row: i64 = nest.output.shape[1..].iter().map(const_dim).product::<Option<i64>>()?;
            (rule.len() == 1 && rule[0].body == nest.body).then_some(Template::ConcatRows { row_bytes: row * out.dtype.block_bytes() as i64 })
        }
        _ => None,
    }
}

/// Rows of the stage: the product of all output axes but the last.
fn rows_expr(v: &Validated) -> Expr {
    let shape = &v.nest().output.shape;
    shape[..shape.len() - 1].iter().fold(Expr::Int(1), |acc, d| acc.mul(kiln_dsl::dim(d)))
}

impl Template {
    /// Trip count of the outermost (thread-split) loop.
    pub(super) fn outer_extent(&self, v: &Validated) -> Expr {
        match *self {
            Template::QuantizeRows { .. } => rows_expr(v),
            Template::ConcatRows { .. } => kiln_dsl::dim(&v.nest().output.shape[0]),
            Template::QuantMatmul { weights, n, .. } => rows_expr(v).mul(Expr::Int((n + tile_rows(weights) - 1) / tile_rows(weights))),
        }
    }

    /// Loop trip counts whose product estimates the work.
    pub(super) fn work(&self, v: &Validated) -> Vec<Expr> {
        match *self {
            Template::QuantizeRows { k } => vec![rows_expr(v), Expr::Int(k)],
            Template::ConcatRows { row_bytes } => vec![self.outer_extent(v), Expr::Int(row_bytes / 4)],
            Template::QuantMatmul { weights, k, .. } => vec![self.outer_extent(v), Expr::Int(tile_rows(weights) * k)],
        }
    }
}

fn flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

fn little() -> MemFlagsData {
    MemFlagsData::new().with_endianness(cranelift_codegen::ir::Endianness::Little)
}

/// Builds one template kernel into the function being built.
pub(super) struct TemplateEmitter<'a, 'b> {
    b: &'a mut FunctionBuilder<'b>,
    /// Source buffers, then the output.
    bufs: Vec<Value>,
    syms: HashMap<String, Value>,
    /// `start..end` of the outermost loop.
    range: (Value, Value),
    fma: bool,
}

impl<'a, 'b> TemplateEmitter<'a, 'b> {
    pub(super) fn new(b: &'a mut FunctionBuilder<'b>, bufs: Vec<Value>, syms: HashMap<String, Value>, range: (Value, Value), fma: bool) -> Self {
        TemplateEmitter { b, bufs, syms, range, fma }
    }

    fn dim_value(&mut self, d: &Dim) -> Value {
        let mut total = self.b.ins().iconst(types::I64, 0);
        for (mono, c) in d.terms() {
            let mut term = self.b.ins().iconst(types::I64, c);
            for s in mono {
                term = self.b.ins().imul(term, self.syms[s]);
            }
            total = self.b.ins().iadd(total, term);
        }
        total
    }

    fn rows(&mut self, v: &Validated) -> Value {
        let shape = v.nest().output.shape.clone();
        let mut m = self.b.ins().iconst(types::I64, 1);
        for d in &shape[..shape.len() - 1] {
            let x = self.dim_value(d);
            m = self.b.ins().imul(m, x);
        }
        m
    }

    /// A rotated counting loop `for i in lo..hi`; `body` gets `i`.
    fn counted(&mut self, lo: Value, hi: Value, body: impl FnOnce(&mut Self, Value)) {
        let block = self.b.create_block();
        let exit = self.b.create_block();
        let i = self.b.append_block_param(block, types::I64);
        let enter = self.b.ins().icmp(IntCC::SignedLessThan, lo, hi);
        self.b.ins().brif(enter, block, &[lo.into()], exit, &[]);
        self.b.switch_to_block(block);
        body(self, i);
        let next = self.b.ins().iadd_imm_s(i, 1);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, next, hi);
        self.b.ins().brif(more, block, &[next.into()], exit, &[]);
        self.b.switch_to_block(exit);
    }

    fn half_to_float(&mut self, addr: Value, off: i32) -> Value {
        let table = self.b.ins().iconst(types::I64, f16_table().as_ptr() as i64);
        let bits = self.b.ins().uload16(types::I64, flags(), addr, off);
        let offset = self.b.ins().ishl_imm_u(bits, 2);
        let at = self.b.ins().iadd(table, offset);
        self.b.ins().load(types::F32, MemFlagsData::new().with_notrap().with_readonly().with_aligned(), at, 0)
    }

    fn mul_add(&mut self, x: Value, y: Value, acc: Value) -> Value {
        if self.fma {
            self.b.ins().fma(x, y, acc)
        } else {
            let p = self.b.ins().fmul(x, y);
            self.b.ins().fadd(p, acc)
        }
    }

    /// Pairwise sums of i16 lanes into i32 lanes (`pmaddwd` with ones).
    fn pairwise_i32(&mut self, x: Value) -> Value {
        let lo = self.b.ins().swiden_low(x);
        let hi = self.b.ins().swiden_high(x);
        self.b.ins().iadd_pairwise(lo, hi)
    }

    /// `Σ x_i y_i` over adjacent i16 pairs into i32 lanes (`pmaddwd`).
    fn dot_i16(&mut self, x: Value, y: Value) -> Value {
        let (xl, yl) = (self.b.ins().swiden_low(x), self.b.ins().swiden_low(y));
        let (xh, yh) = (self.b.ins().swiden_high(x), self.b.ins().swiden_high(y));
        let lo = self.b.ins().imul(xl, yl);
        let hi = self.b.ins().imul(xh, yh);
        self.b.ins().iadd_pairwise(lo, hi)
    }

    fn hsum(&mut self, v: Value) -> Value {
        let l: Vec<Value> = (0..4).map(|i| self.b.ins().extractlane(v, i)).collect();
        let a = self.b.ins().fadd(l[0], l[1]);
        let c = self.b.ins().fadd(l[2], l[3]);
        self.b.ins().fadd(a, c)
    }

    pub(super) fn emit(&mut self, t: Template, v: &Validated) {
        match t {
            Template::QuantizeRows { k } => self.quantize_rows(v, k),
            Template::QuantMatmul { weights, n, k } => self.quant_matmul(v, weights, n, k),
            Template::ConcatRows { row_bytes } => self.concat_rows(v, row_bytes),
        }
    }

    fn concat_rows(&mut self, v: &Validated, row_bytes: i64) {
        let nest = v.nest();
        let total = self.dim_value(&nest.output.shape[0]);
        let hi = self.b.ins().smin(self.range.1, total);
        let out = self.bufs[nest.sources.len()];
        // first output row of each source
        let mut starts = Vec::new();
        let mut at = self.b.ins().iconst(types::I64, 0);
        for src in &nest.sources {
            starts.push(at);
            let rows = self.dim_value(&src.shape[0]);
            at = self.b.ins().iadd(at, rows);
        }
        starts.push(at);
        // each source copies the part of `start..hi` that is its own
        for (i, &buf) in self.bufs[..nest.sources.len()].to_vec().iter().enumerate() {
            let lo = self.b.ins().smax(self.range.0, starts[i]);
            let end = self.b.ins().smin(hi, starts[i + 1]);
            let first = self.b.ins().isub(lo, starts[i]);
            let src_at = self.b.ins().imul_imm_s(first, row_bytes);
            let src_at = self.b.ins().iadd(buf, src_at);
            let dst_at = self.b.ins().imul_imm_s(lo, row_bytes);
            let dst_at = self.b.ins().iadd(out, dst_at);
            let rows = self.b.ins().isub(end, lo);
            let bytes = self.b.ins().imul_imm_s(rows, row_bytes);
            self.copy_bytes(src_at, dst_at, bytes);
        }
    }

    /// `memcpy(dst, src, bytes)` for `bytes >= 0` (nothing when negative):
    /// 16-byte vectors, then single bytes.
    fn copy_bytes(&mut self, src: Value, dst: Value, bytes: Value) {
        let zero = self.b.ins().iconst(types::I64, 0);
        let vectors = self.b.ins().sshr_imm_u(bytes, 4);
        self.counted(zero, vectors, |s, i| {
            let off = s.b.ins().ishl_imm_u(i, 4);
            let from = s.b.ins().iadd(src, off);
            let to = s.b.ins().iadd(dst, off);
            let x = s.b.ins().load(types::I8X16, flags(), from, 0);
            s.b.ins().store(flags(), x, to, 0);
        });
        let done = self.b.ins().ishl_imm_u(vectors, 4);
        self.counted(done, bytes, |s, i| {
            let from = s.b.ins().iadd(src, i);
            let to = s.b.ins().iadd(dst, i);
            let x = s.b.ins().uload8(types::I32, flags(), from, 0);
            s.b.ins().istore8(flags(), x, to, 0);
        });
    }

    fn quantize_rows(&mut self, v: &Validated, k: i64) {
        let rows = self.rows(v);
        let hi = self.b.ins().smin(self.range.1, rows);
        let (src, out) = (self.bufs[0], self.bufs[1]);
        let blocks = k / 32;
        let zero = self.b.ins().f32const(0.0);
        let c127 = self.b.ins().f32const(127.0);
        self.counted(self.range.0, hi, |s, row| {
            s.counted_const(blocks, |s, blk| {
                // x: row * k + blk * 32 floats; q: block row * blocks + blk
                let elem = s.b.ins().imul_imm_s(row, k);
                let first = s.b.ins().imul_imm_s(blk, 32);
                let elem = s.b.ins().iadd(elem, first);
                let x_off = s.b.ins().imul_imm_s(elem, 4);
                let x_addr = s.b.ins().iadd(src, x_off);
                let q_blk = s.b.ins().imul_imm_s(row, blocks);
                let q_blk = s.b.ins().iadd(q_blk, blk);
                let q_off = s.b.ins().imul_imm_s(q_blk, 34);
                let q_addr = s.b.ins().iadd(out, q_off);
                let x: Vec<Value> = (0..8).map(|i| s.b.ins().load(types::F32X4, flags(), x_addr, 16 * i)).collect();
                let abs: Vec<Value> = x.iter().map(|&v| s.b.ins().fabs(v)).collect();
                let mut m = abs[0];
                for &a in &abs[1..] {
                    m = s.b.ins().fmax(m, a);
                }
                let mut amax = s.b.ins().extractlane(m, 0);
                for i in 1..4 {
                    let l = s.b.ins().extractlane(m, i);
                    amax = s.b.ins().fmax(amax, l);
                }
                let d = s.b.ins().fdiv(amax, c127);
                let inv = s.b.ins().fdiv(c127, amax);
                let nonzero = s.b.ins().fcmp(FloatCC::NotEqual, amax, zero);
                let id = s.b.ins().select(nonzero, inv, zero);
                let idv = s.b.ins().splat(types::F32X4, id);
                let q: Vec<Value> = x
                    .iter()
                    .map(|&v| {
                        let scaled = s.b.ins().fmul(v, idv);
                        let r = s.b.ins().nearest(scaled);
                        s.b.ins().fcvt_to_sint_sat(types::I32X4, r)
                    })
                    .collect();
                let bits = f32_to_f16_bits(s.b, d);
                s.b.ins().istore16(flags(), bits, q_addr, 0);
                for half in 0..2 {
                    let w0 = s.b.ins().snarrow(q[4 * half], q[4 * half + 1]);
                    let w1 = s.b.ins().snarrow(q[4 * half + 2], q[4 * half + 3]);
                    let bytes = s.b.ins().snarrow(w0, w1);
                    s.b.ins().store(flags(), bytes, q_addr, 2 + 16 * half as i32);
                }
            });
        });
    }

    fn counted_const(&mut self, n: i64, body: impl FnOnce(&mut Self, Value)) {
        let lo = self.b.ins().iconst(types::I64, 0);
        let hi = self.b.ins().iconst(types::I64, n);
        self.counted(lo, hi, body);
    }

    fn quant_matmul(&mut self, v: &Validated, weights: DType, n: i64, k: i64) {
        let rows = self.rows(v);
        let rows_per_tile = tile_rows(weights);
        let tiles = (n + rows_per_tile - 1) / rows_per_tile;
        let total = self.b.ins().imul_imm_s(rows, tiles);
        let hi = self.b.ins().smin(self.range.1, total);
        let (a, w, out) = (self.bufs[0], self.bufs[1], self.bufs[2]);
        let blocks = k / 32;
        let wrow = blocks * weights.block_bytes() as i64;
        let arow = blocks * DType::Q8_0.block_bytes() as i64;
        let nibble_mask = {
            let c = self.b.ins().iconst(types::I8, 0x0f);
            self.b.ins().splat(types::I8X16, c)
        };
        let ones = {
            let c = self.b.ins().iconst(types::I8, 1);
            self.b.ins().splat(types::I8X16, c)
        };
        let consts = Consts { nibble_mask, ones };
        self.counted(self.range.0, hi, |s, f| {
            // tiles outside, activation rows inside: a tile's weights stay
            // in L1 while the activation rows stream past
            let tile = s.b.ins().sdiv(f, rows);
            let m = s.b.ins().srem(f, rows);
            let n0 = s.b.ins().imul_imm_s(tile, rows_per_tile);
            let a_off = s.b.ins().imul_imm_s(m, arow);
            let a_row = s.b.ins().iadd(a, a_off);
            let out_off = s.b.ins().imul_imm_s(m, 4 * n);
            let out_row = s.b.ins().iadd(out, out_off);
            if n % rows_per_tile == 0 {
                s.matmul_rows(weights, blocks, a_row, w, wrow, out_row, n0, rows_per_tile, consts);
            } else {
                let full = s.b.create_block();
                let tail = s.b.create_block();
                let done = s.b.create_block();
                let end = s.b.ins().iadd_imm_s(n0, rows_per_tile);
                let fits = s.b.ins().icmp_imm_s(IntCC::SignedLessThanOrEqual, end, n);
                s.b.ins().brif(fits, full, &[], tail, &[]);
                s.b.switch_to_block(full);
                s.matmul_rows(weights, blocks, a_row, w, wrow, out_row, n0, rows_per_tile, consts);
                s.b.ins().jump(done, &[]);
                s.b.switch_to_block(tail);
                let n_end = s.b.ins().iconst(types::I64, n);
                s.counted(n0, n_end, |s, row| s.matmul_rows(weights, blocks, a_row, w, wrow, out_row, row, 1, consts));
                s.b.ins().jump(done, &[]);
                s.b.switch_to_block(done);
            }
        });
    }

    /// `out_row[n0..n0 + r] = Σ_k a_row[k] w[n0.., k]` for `r` weight rows.
    #[allow(clippy::too_many_arguments)]
    fn matmul_rows(&mut self, weights: DType, blocks: i64, a_row: Value, w: Value, wrow: i64, out_row: Value, n0: Value, r: i64, c: Consts) {
        let zero = self.b.ins().f32const(0.0);
        let zv = self.b.ins().splat(types::F32X4, zero);
        let accs: Vec<Variable> = (0..r)
            .map(|_| {
                let var = self.b.declare_var(types::F32X4);
                self.b.def_var(var, zv);
                var
            })
            .collect();
        let w_off = self.b.ins().imul_imm_s(n0, wrow);
        let w_tile = self.b.ins().iadd(w, w_off);
        let (wb, ab) = (weights.block_bytes() as i64, DType::Q8_0.block_bytes() as i64);
        self.counted_const(blocks, |s, blk| {
            let a_off = s.b.ins().imul_imm_s(blk, ab);
            let a_blk = s.b.ins().iadd(a_row, a_off);
            let w_off = s.b.ins().imul_imm_s(blk, wb);
            let w_blk = s.b.ins().iadd(w_tile, w_off);
            let d_a = s.half_to_float(a_blk, 0);
            let x0 = s.b.ins().load(types::I8X16, flags(), a_blk, 2);
            let x1 = s.b.ins().load(types::I8X16, flags(), a_blk, 18);
            // Σ q_a over the block, in i32 lanes (Q4 weights need it)
            let sum_a = match weights {
                DType::Q4_0 | DType::Q4_1 => {
                    let p0 = s.b.ins().x86_pmaddubsw(x0, c.ones);
                    let p1 = s.b.ins().x86_pmaddubsw(x1, c.ones);
                    let p = s.b.ins().iadd(p0, p1);
                    Some(s.pairwise_i32(p))
                }
                _ => None,
            };
            let min_term = match (weights, sum_a) {
                (DType::Q4_1, Some(sa)) => {
                    let f = s.b.ins().fcvt_from_sint(types::F32X4, sa);
                    let dv = s.b.ins().splat(types::F32X4, d_a);
                    Some(s.b.ins().fmul(f, dv))
                }
                _ => None,
            };
            let x16 = match weights {
                DType::Q8_0 => Some([s.b.ins().swiden_low(x0), s.b.ins().swiden_high(x0), s.b.ins().swiden_low(x1), s.b.ins().swiden_high(x1)]),
                _ => None,
            };
            for (i, &acc) in accs.iter().enumerate() {
                let at = (i as i64 * wrow) as i32;
                let d_w = s.half_to_float(w_blk, at);
                let isum = match weights {
                    DType::Q8_0 => {
                        let x16 = x16.expect("widened for q8_0");
                        let q0 = s.b.ins().load(types::I8X16, flags(), w_blk, at + 2);
                        let q1 = s.b.ins().load(types::I8X16, flags(), w_blk, at + 18);
                        let w16 = [s.b.ins().swiden_low(q0), s.b.ins().swiden_high(q0), s.b.ins().swiden_low(q1), s.b.ins().swiden_high(q1)];
                        let d: Vec<Value> = (0..4).map(|j| s.dot_i16(w16[j], x16[j])).collect();
                        let d01 = s.b.ins().iadd(d[0], d[1]);
                        let d23 = s.b.ins().iadd(d[2], d[3]);
                        s.b.ins().iadd(d01, d23)
                    }
                    _ => {
                        let qoff = if weights == DType::Q4_0 { 2 } else { 4 };
                        let q = s.b.ins().load(types::I8X16, flags(), w_blk, at + qoff);
                        let lo = s.b.ins().band(q, c.nibble_mask);
                        let q16 = s.b.ins().bitcast(types::I16X8, little(), q);
                        let shifted = s.b.ins().ushr_imm_u(q16, 4);
                        let shifted = s.b.ins().bitcast(types::I8X16, little(), shifted);
                        let hi = s.b.ins().band(shifted, c.nibble_mask);
                        let p0 = s.b.ins().x86_pmaddubsw(x0, lo);
                        let p1 = s.b.ins().x86_pmaddubsw(x1, hi);
                        let p = s.b.ins().iadd(p0, p1);
                        let dot = s.pairwise_i32(p);
                        if weights == DType::Q4_0 {
                            let eight = s.b.ins().ishl_imm_u(sum_a.expect("summed for q4"), 3);
                            s.b.ins().isub(dot, eight)
                        } else {
                            dot
                        }
                    }
                };
                let scale = s.b.ins().fmul(d_w, d_a);
                let scale = s.b.ins().splat(types::F32X4, scale);
                let f = s.b.ins().fcvt_from_sint(types::F32X4, isum);
                let old = s.b.use_var(acc);
                let mut new = s.mul_add(f, scale, old);
                if let Some(mt) = min_term {
                    let m_w = s.half_to_float(w_blk, at + 2);
                    let mv = s.b.ins().splat(types::F32X4, m_w);
                    new = s.mul_add(mv, mt, new);
                }
                s.b.def_var(acc, new);
            }
        });
        let out_off = self.b.ins().imul_imm_s(n0, 4);
        let out_at = self.b.ins().iadd(out_row, out_off);
        for (i, &acc) in accs.iter().enumerate() {
            let v = self.b.use_var(acc);
            let total = self.hsum(v);
            self.b.ins().store(flags(), total, out_at, 4 * i as i32);
        }
    }
}

#[derive(Clone, Copy)]
struct Consts {
    nibble_mask: Value,
    ones: Value,
}
