//! Kernel templates: stages that a known instruction sequence computes
//! better than the generic loop-nest emitter can (TVM calls this
//! *tensorizing*).
//!
//! Stage shapes are recognized by their compute rule (the op's rule is
//! rebuilt for the stage's sources and compared), not by their name:
//!
//! - **Row quantization** (`KernelClass::Quantize`, body `x[i..]`): each run
//!   of 32 values becomes a Q8_0 or Q8_1 block exactly as
//!   [`kiln_dsl::quant::quantize_activations`] defines it.
//! - **Quantized matmul** (`matmul_t` of Q8_0 activations with Q4_0 or Q8_0
//!   weights, or Q8_1 activations with Q4_1 weights): per 32-value block the
//!   products of 8-bit activations and 4- or 8-bit weights are summed as
//!   integers (`pmaddubsw`/`pmaddwd`), exactly, and scaled once per block,
//!   in llama.cpp's 8-lane order: `d_w d_a Σ q_w q_a` (Q4_0: `q_w - 8`),
//!   plus `Σ m_w s_a` for Q4_1. 4-8x fewer instructions per weight than
//!   dequantizing every weight to f32.
//! - **Mean of squares** (`rms_norm`'s first stage): summed in f64, in order.
//! - **Concatenation along the first axis** (the body `concat` builds, for
//!   any number of inputs): whole rows copied 16 bytes at a time, whatever
//!   the element type (the KV cache grows this way every decoded token).
//! - **Attention over f16 q, k, v** (the scores, sum, probabilities and
//!   output stages): in llama.cpp's summation orders ([`AttnStage`]).
//!
//! The loop nest of such a stage still describes the computation (other
//! backends compile it); here it is replaced by the kernel below, which
//! keeps the kernel ABI: its outermost loop (rows of the quantization; tiles
//! of weight rows times activation rows for the matmul) runs
//! `start..end` and is split across threads.

use super::emit::{f16_table, f32_to_f16_bits, little, load_f16x4, HalfConsts};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Value};
use cranelift_frontend::{FunctionBuilder, Variable};
use kiln_dsl::{ax, load, Builtin, DType, Dim, Expr, KernelClass, OpDef, ReduceOp, TensorType};
use kiln_schedule::Validated;
use std::collections::HashMap;

/// A recognized stage.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Template {
    /// f32 rows of `k` values to Q8_0 or Q8_1 (`to`) blocks.
    QuantizeRows { to: DType, k: i64 },
    /// `out[m, n] = Σ_k a[m, k] w[n, k]` for 8-bit activations `a` (Q8_0,
    /// or Q8_1 with Q4_1 weights) and `w: [n, k]` of `weights`.
    QuantMatmul { acts: DType, weights: DType, n: i64, k: i64 },
    /// The sources stacked along axis 0; each row (all later axes) is
    /// `row_bytes` bytes.
    ConcatRows { row_bytes: i64 },
    /// `rms_norm`'s mean of squares over rows of `n` f32 values: each square
    /// rounded to f32, summed in f64 in order, divided once, rounded to f32
    /// (llama.cpp's arithmetic, and nearly exact).
    MeanOfSquares { n: i64 },
    /// A stage of `attention` over f16 q, k, v (see [`AttnStage`]), with
    /// `hq` query heads, `hkv` kv heads of width `d`; of `paged_attention`
    /// when `page` is set (its rows per page in the stages that read keys
    /// or values, 0 in the others, whose rule does not depend on it).
    Attention { stage: AttnStage, hq: i64, hkv: i64, d: i64, page: Option<i64> },
}

/// The attention stages computed in llama.cpp's order (its non-flash CPU
/// path with an f16 KV cache, whose matmuls run in eight f32 lanes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum AttnStage {
    /// `q·k`: lane `t` sums dims `d ≡ t (mod 8)` by FMA, lanes then add as
    /// `((l0+l4) + (l2+l6)) + ((l1+l5) + (l3+l7))`.
    Scores,
    /// `Σ_j w_j`: each run of 8 keys summed in that lane order, the runs in
    /// f64.
    Sum,
    /// `w_j * (1 / Σ_j w_j)` rounded to f16, the reciprocal taken of the
    /// f64 sum.
    Probs,
    /// `Σ_j p_j v_j`: lane `t` sums keys `j ≡ t (mod 8)` by FMA, then the
    /// lanes as for the scores.
    Out,
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

/// Whether the host runs the x86 instructions the integer-dot template uses
/// (`pmaddubsw`, `phaddd`: SSSE3). Elsewhere (aarch64) those matmuls take
/// the generic emitter's path: correct, slower.
fn host_has_int8_dot() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::is_x86_feature_detected!("ssse3");
    #[allow(unreachable_code)]
    false
}

/// Whether f32x4 round-to-nearest-even is one instruction (x86: SSE4.1's
/// `roundps`; aarch64: `frintn`), which row quantization needs.
fn host_rounds_vectors() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::is_x86_feature_detected!("sse4.1");
    #[allow(unreachable_code)]
    true
}

/// The template that computes `v`'s stage, if one does.
pub(super) fn recognize(v: &Validated) -> Option<Template> {
    let nest = v.nest();
    let rank = nest.output.shape.len();
    let axes = |n: usize| (0..n).map(ax).collect::<Vec<_>>();
    match nest.class {
        KernelClass::Quantize if host_rounds_vectors() => {
            let [src] = nest.sources.as_slice() else { return None };
            let k = const_dim(nest.output.shape.last()?)?;
            let to = nest.output.dtype;
            let fits = matches!(to, DType::Q8_0 | DType::Q8_1) && src.dtype == DType::F32 && src.shape == nest.output.shape && k % 32 == 0;
            (fits && nest.body == load(0, axes(rank))).then_some(Template::QuantizeRows { to, k })
        }
        KernelClass::Matmul if nest.reduce == Some(ReduceOp::Sum) && rank >= 2 && nest.sources.len() == 2 && host_has_int8_dot() => {
            let [a, w] = nest.sources.as_slice() else { return None };
            let pair = matches!((a.dtype, w.dtype), (DType::Q8_0, DType::Q4_0 | DType::Q8_0) | (DType::Q8_1, DType::Q4_1));
            if !pair || w.shape.len() != 2 {
                return None;
            }
            let (n, k) = (const_dim(&w.shape[0])?, const_dim(&w.shape[1])?);
            // exactly the rule `matmul_t` defines for these operands
            let types = [TensorType::new(a.dtype, a.shape.clone()), TensorType::new(w.dtype, w.shape.clone())];
            let rule = Builtin::Matmul { transpose_b: true }.compute(&types, &TensorType::new(nest.output.dtype, nest.output.shape.clone()));
            let fits = rule.len() == 1 && rule[0].body == nest.body && k % 32 == 0 && nest.output.shape[rank - 1] == Dim::new(n);
            fits.then_some(Template::QuantMatmul { acts: a.dtype, weights: w.dtype, n, k })
        }
        KernelClass::Reduction if nest.reduce == Some(ReduceOp::Sum) && nest.sources.len() == 2 => {
            let [x, w] = nest.sources.as_slice() else { return None };
            let n = const_dim(x.shape.last()?)?;
            if x.dtype != DType::F32 || w.dtype != DType::F32 || w.shape != [Dim::new(n)] || nest.output.shape.len() + 1 != x.shape.len() {
                return None;
            }
            // exactly the first stage `rms_norm` defines for these sources
            let types = [TensorType::new(x.dtype, x.shape.clone()), TensorType::new(w.dtype, w.shape.clone())];
            let rule = Builtin::RmsNorm { eps: 0.0 }.compute(&types, &TensorType::new(DType::F32, x.shape.clone()));
            (rule[0].body == nest.body).then_some(Template::MeanOfSquares { n })
        }
        KernelClass::Matmul | KernelClass::Attention if nest.sources.len() >= 3 && nest.sources[..3].iter().all(|b| b.dtype == DType::F16 && b.shape.len() == 3) => {
            let (q, kk) = (&nest.sources[0], &nest.sources[1]);
            let (hq, hkv, d) = (const_dim(&q.shape[1])?, const_dim(&kk.shape[1])?, const_dim(&q.shape[2])?);
            // paged: the pools and the i32 page table and lengths follow
            // (the page size is the constant of the body's `j % page`,
            // where the body reads keys or values)
            let is_paged = nest.sources.len() >= 7 && nest.sources[3..5].iter().all(|b| b.dtype == DType::F16 && b.shape.len() == 3) && nest.sources[5..7].iter().all(|b| b.dtype == DType::I32);
            let page = is_paged.then(|| remainder_constant(&nest.body).unwrap_or(0));
            let (op, inputs): (Builtin, usize) = match page {
                Some(page) => (Builtin::PagedAttention { scale: 1.0, page: usize::try_from(page).ok()? }, 7),
                None => (Builtin::Attention { scale: 1.0, causal: true }, 3),
            };
            let stage = match (nest.sources.len().checked_sub(inputs)?, nest.name.as_str()) {
                (0, "attention_scores") => AttnStage::Scores,
                (3, "attention_sum") => AttnStage::Sum,
                (4, "attention_probs") => AttnStage::Probs,
                (5, "attention") => AttnStage::Out,
                _ => return None,
            };
            // exactly the rule the op defines for this stage (the scale
            // does not enter these)
            let types: Vec<TensorType> = nest.sources[..inputs].iter().map(|b| TensorType::new(b.dtype, b.shape.clone())).collect();
            let rule = op.compute(&types, &TensorType::new(DType::F32, q.shape.clone()));
            let fits = d % 32 == 0 && rule.get(nest.sources.len() - inputs).is_some_and(|r| r.body == nest.body && r.name == nest.name);
            fits.then_some(Template::Attention { stage, hq, hkv, d, page })
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

/// The constant `c` of the first `x % c` in `e` (`paged_attention`'s
/// page size).
fn remainder_constant(e: &Expr) -> Option<i64> {
    let mut found = None;
    e.visit(&mut |x| {
        if let Expr::Binary(kiln_dsl::BinOp::Rem, _, c) = x {
            if let (None, &Expr::Int(c)) = (found, c.as_ref()) {
                found = Some(c);
            }
        }
    });
    found
}

/// Every output point of the stage.
fn rows_expr_all(v: &Validated) -> Expr {
    v.nest().output.shape.iter().fold(Expr::Int(1), |acc, d| acc.mul(kiln_dsl::dim(d)))
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
            Template::MeanOfSquares { .. } => rows_expr_all(v),
            Template::Attention { stage: AttnStage::Sum, .. } => rows_expr_all(v),
            Template::Attention { .. } => rows_expr(v),
            Template::QuantMatmul { weights, n, .. } => rows_expr(v).mul(Expr::Int((n + tile_rows(weights) - 1) / tile_rows(weights))),
        }
    }

    /// Loop trip counts whose product estimates the work.
    pub(super) fn work(&self, v: &Validated) -> Vec<Expr> {
        match *self {
            Template::QuantizeRows { k, .. } => vec![rows_expr(v), Expr::Int(k)],
            Template::ConcatRows { row_bytes } => vec![self.outer_extent(v), Expr::Int(row_bytes / 4)],
            Template::MeanOfSquares { n } => vec![self.outer_extent(v), Expr::Int(n)],
            Template::Attention { d, .. } => vec![self.outer_extent(v), Expr::Int(d)],
            Template::QuantMatmul { weights, k, .. } => vec![self.outer_extent(v), Expr::Int(tile_rows(weights) * k)],
        }
    }
}

fn flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
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
    /// The address of [`f16_table`], made once in the entry block.
    f16_table: Value,
}

impl<'a, 'b> TemplateEmitter<'a, 'b> {
    pub(super) fn new(b: &'a mut FunctionBuilder<'b>, bufs: Vec<Value>, syms: HashMap<String, Value>, range: (Value, Value), fma: bool) -> Self {
        let f16_table = b.ins().iconst(types::I64, f16_table().as_ptr() as i64);
        TemplateEmitter { b, bufs, syms, range, fma, f16_table }
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

    /// The product of `dims` at run time.
    fn product_value(&mut self, dims: &[Dim]) -> Value {
        let mut m = self.b.ins().iconst(types::I64, 1);
        for d in dims {
            let x = self.dim_value(d);
            m = self.b.ins().imul(m, x);
        }
        m
    }

    /// Rows of the stage at run time: the product of all output axes but
    /// the last ([`rows_expr`]).
    fn rows(&mut self, v: &Validated) -> Value {
        let shape = &v.nest().output.shape;
        self.product_value(&shape[..shape.len() - 1])
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
        let bits = self.b.ins().uload16(types::I64, flags(), addr, off);
        let offset = self.b.ins().ishl_imm_u(bits, 2);
        let at = self.b.ins().iadd(self.f16_table, offset);
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

    /// `(v0 + v2) + (v1 + v3)`, the order of x86's `movehl`/`movehdup` sums.
    fn hsum(&mut self, v: Value) -> Value {
        let l: Vec<Value> = (0..4).map(|i| self.b.ins().extractlane(v, i)).collect();
        let a = self.b.ins().fadd(l[0], l[2]);
        let c = self.b.ins().fadd(l[1], l[3]);
        self.b.ins().fadd(a, c)
    }

    pub(super) fn emit(&mut self, t: Template, v: &Validated) {
        match t {
            Template::QuantizeRows { to, k } => self.quantize_rows(v, to, k),
            Template::QuantMatmul { acts, weights, n, k } => self.quant_matmul(v, acts, weights, n, k),
            Template::ConcatRows { row_bytes } => self.concat_rows(v, row_bytes),
            Template::MeanOfSquares { n } => self.mean_of_squares(v, n),
            Template::Attention { stage, hq, hkv, d, page } => self.attention(v, stage, hq, hkv, d, page),
        }
    }

    /// The address of a fresh `bytes`-byte, 16-byte aligned stack buffer.
    fn stack_buffer(&mut self, bytes: u32) -> Value {
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, bytes, 4));
        self.b.ins().stack_addr(types::I64, slot, 0)
    }

    /// Four f16 values at `addr + off` as f32x4.
    fn load_f16x4(&mut self, c: HalfConsts, addr: Value, off: i32) -> Value {
        load_f16x4(self.b, c, addr, off)
    }

    /// The 8-lane sum of llama.cpp's AVX2 code for lanes 0-3 in `lo` and 4-7
    /// in `hi`: `((l0+l4) + (l2+l6)) + ((l1+l5) + (l3+l7))`.
    fn hsum8(&mut self, lo: Value, hi: Value) -> Value {
        let both = self.b.ins().fadd(hi, lo);
        self.hsum(both)
    }

    /// `Σ w[0..t]` (f32 values at `row`) in llama.cpp's softmax order: each
    /// run of 8 summed as f32 lanes (zeros past the end), the runs in f64.
    fn sum_in_runs_of_8(&mut self, row: Value, t_len: Value) -> Value {
        let zero = self.b.ins().f32const(0.0);
        let sum = self.b.declare_var(types::F64);
        let zero_d = self.b.ins().f64const(0.0);
        self.b.def_var(sum, zero_d);
        let chunks = self.b.ins().sshr_imm_u(t_len, 3);
        let zero_i = self.b.ins().iconst(types::I64, 0);
        self.counted(zero_i, chunks, |s, ch| {
            let at = s.b.ins().ishl_imm_u(ch, 5);
            let at = s.b.ins().iadd(row, at);
            let lo = s.b.ins().load(types::F32X4, flags(), at, 0);
            let hi = s.b.ins().load(types::F32X4, flags(), at, 16);
            let part = s.hsum8(lo, hi);
            let part = s.b.ins().fpromote(types::F64, part);
            let old = s.b.use_var(sum);
            let new = s.b.ins().fadd(old, part);
            s.b.def_var(sum, new);
        });
        // the last, partial run, padded with zeros
        let first = self.b.ins().ishl_imm_u(chunks, 3);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, first, t_len);
        let tail = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().brif(more, tail, &[], done, &[]);
        self.b.switch_to_block(tail);
        let last = self.b.ins().iadd_imm_s(t_len, -1);
        let lanes: Vec<Value> = (0..8)
            .map(|t| {
                let j = self.b.ins().iadd_imm_s(first, t);
                let inside = self.b.ins().icmp(IntCC::SignedLessThan, j, t_len);
                let j = self.b.ins().smin(j, last);
                let at = self.b.ins().ishl_imm_u(j, 2);
                let at = self.b.ins().iadd(row, at);
                let x = self.b.ins().load(types::F32, flags(), at, 0);
                self.b.ins().select(inside, x, zero)
            })
            .collect();
        let r: Vec<Value> = (0..4).map(|t| self.b.ins().fadd(lanes[t + 4], lanes[t])).collect();
        let a = self.b.ins().fadd(r[0], r[2]);
        let b2 = self.b.ins().fadd(r[1], r[3]);
        let part = self.b.ins().fadd(a, b2);
        let part = self.b.ins().fpromote(types::F64, part);
        let old = self.b.use_var(sum);
        let new = self.b.ins().fadd(old, part);
        self.b.def_var(sum, new);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
        self.b.use_var(sum)
    }

    fn attention(&mut self, v: &Validated, stage: AttnStage, hq: i64, hkv: i64, d: i64, page: Option<i64>) {
        let nest = v.nest();
        let s_len = self.dim_value(&nest.sources[0].shape[0]);
        let (t_len, pages) = match page {
            None => (self.dim_value(&nest.sources[1].shape[0]), None),
            Some(page) => {
                // keys per query: the last axis of the scores (this stage's
                // output, or source 7 after it)
                let scores = if stage == AttnStage::Scores { &nest.output } else { &nest.sources[7] };
                let t_len = self.dim_value(&scores.shape[2]);
                let width = self.dim_value(&nest.sources[5].shape[1]);
                let pool_rows = self.dim_value(&nest.sources[3].shape[0]);
                let last_page = self.b.ins().iadd_imm_s(width, -1);
                let last_row = self.b.ins().iadd_imm_s(pool_rows, -1);
                (t_len, Some(Pages { page, width, last_page, last_row }))
            }
        };
        let rows = self.b.ins().imul_imm_s(s_len, hq);
        let hi = self.b.ins().smin(self.range.1, rows);
        let out = self.bufs[nest.sources.len()];
        let c = HalfConsts::new(self.b);
        let geo = AttnGeometry { s_len, t_len, hq, hkv, d, out, half: c, pages };
        match stage {
            // each sequence of a paged attention has one query
            AttnStage::Scores | AttnStage::Out if pages.is_some() => self.counted(self.range.0, hi, |s, f| {
                if stage == AttnStage::Scores {
                    s.attention_scores_row(geo, f, true)
                } else {
                    s.attention_out_row(geo, f, true)
                }
            }),
            AttnStage::Scores | AttnStage::Out => {
                // llama.cpp multiplies a single query (decoding) with its
                // own vector dot product and several with tinyBLAS, which
                // sum in different orders
                let single = self.b.ins().icmp_imm_s(IntCC::Equal, s_len, 1);
                let (one, many, done) = (self.b.create_block(), self.b.create_block(), self.b.create_block());
                self.b.ins().brif(single, one, &[], many, &[]);
                for (block, single) in [(one, true), (many, false)] {
                    self.b.switch_to_block(block);
                    self.counted(self.range.0, hi, |s, f| {
                        if stage == AttnStage::Scores {
                            s.attention_scores_row(geo, f, single)
                        } else {
                            s.attention_out_row(geo, f, single)
                        }
                    });
                    self.b.ins().jump(done, &[]);
                }
                self.b.switch_to_block(done);
            }
            AttnStage::Sum | AttnStage::Probs => self.counted(self.range.0, hi, |s, f| {
                // row f = (head, query) of the weights
                let w_row = s.b.ins().imul(f, t_len);
                let w_row = s.b.ins().ishl_imm_u(w_row, 2);
                let w_row = s.b.ins().iadd(s.bufs[geo.stage_source(2)], w_row);
                let total = s.sum_in_runs_of_8(w_row, t_len);
                if stage == AttnStage::Sum {
                    let total = s.b.ins().fdemote(types::F32, total);
                    let at = s.b.ins().ishl_imm_u(f, 2);
                    let at = s.b.ins().iadd(out, at);
                    s.b.ins().store(flags(), total, at, 0);
                    return;
                }
                // w * (1 / Σ w), the sum recomputed here in f64 so that the
                // reciprocal is rounded once, from the f64 sum, as
                // llama.cpp rounds it
                let one = s.b.ins().f64const(1.0);
                let inv = s.b.ins().fdiv(one, total);
                let inv = s.b.ins().fdemote(types::F32, inv);
                let p_row = s.b.ins().imul(f, t_len);
                let p_row = s.b.ins().ishl_imm_u(p_row, 1);
                let p_row = s.b.ins().iadd(out, p_row);
                let zero_i = s.b.ins().iconst(types::I64, 0);
                s.counted(zero_i, t_len, |s, j| {
                    let at = s.b.ins().ishl_imm_u(j, 2);
                    let at = s.b.ins().iadd(w_row, at);
                    let w = s.b.ins().load(types::F32, flags(), at, 0);
                    let p = s.b.ins().fmul(w, inv);
                    let bits = f32_to_f16_bits(s.b, p);
                    let at = s.b.ins().ishl_imm_u(j, 1);
                    let at = s.b.ins().iadd(p_row, at);
                    s.b.ins().istore16(flags(), bits, at, 0);
                });
            }),
        }
    }

    /// Where the keys (`cache` the op's `k` input, `pool` the index of
    /// `k_pool`) or values of query row `i`'s sequence are, at `kv_h`.
    fn kv_rows(&mut self, g: AttnGeometry, cache: Value, pool: usize, i: Value, kv_h: Value) -> KvRows {
        let head = self.b.ins().imul_imm_s(kv_h, 2 * g.d);
        let Some(p) = g.pages else {
            return KvRows { base: self.b.ins().iadd(cache, head), paged: None };
        };
        let base = self.b.ins().iadd(self.bufs[pool], head);
        let new_at = self.b.ins().imul_imm_s(i, 2 * g.hkv * g.d);
        let new_row = self.b.ins().iadd(cache, new_at);
        let new_row = self.b.ins().iadd(new_row, head);
        let table_at = self.b.ins().imul(i, p.width);
        let table_at = self.b.ins().ishl_imm_u(table_at, 2);
        let table_row = self.b.ins().iadd(self.bufs[5], table_at);
        let len_at = self.b.ins().ishl_imm_u(i, 2);
        let len_at = self.b.ins().iadd(self.bufs[6], len_at);
        let len = self.b.ins().sload32(flags(), len_at, 0);
        KvRows { base, paged: Some((new_row, table_row, len)) }
    }

    /// The address of key (or value) `j` of `rows`: the pool row its page
    /// holds (page and row clamped as the op's rule clamps them) while `j`
    /// is below the sequence's count, else the new row.
    fn kv_row(&mut self, g: AttnGeometry, rows: KvRows, j: Value) -> Value {
        let stride = 2 * g.hkv * g.d;
        let (Some(p), Some((new_row, table_row, len))) = (g.pages, rows.paged) else {
            let at = self.b.ins().imul_imm_s(j, stride);
            return self.b.ins().iadd(rows.base, at);
        };
        let page = self.b.ins().sdiv_imm_s(j, p.page);
        let page = self.b.ins().smin(page, p.last_page);
        let at = self.b.ins().ishl_imm_u(page, 2);
        let at = self.b.ins().iadd(table_row, at);
        let first = self.b.ins().sload32(flags(), at, 0);
        let slot = self.b.ins().imul_imm_s(first, p.page);
        let within = self.b.ins().srem_imm_s(j, p.page);
        let slot = self.b.ins().iadd(slot, within);
        let zero = self.b.ins().iconst(types::I64, 0);
        let slot = self.b.ins().smax(slot, zero);
        let slot = self.b.ins().smin(slot, p.last_row);
        let at = self.b.ins().imul_imm_s(slot, stride);
        let pooled = self.b.ins().iadd(rows.base, at);
        let cached = self.b.ins().icmp(IntCC::SignedLessThan, j, len);
        self.b.ins().select(cached, pooled, new_row)
    }

    /// ggml's f16 vector dot order (`ggml_vec_dot_f16`, AVX): four
    /// accumulators of 8 lanes take elements `32i + 8a + l`; they add as
    /// `(a0 + a2) + (a1 + a3)`, the 8 lanes fold to 4 (`l + (l + 4)`), then
    /// `(t0 + t1) + (t2 + t3)`. `accs[a][h]` holds lanes `4h..4h+4` of
    /// accumulator `a`.
    fn reduce_vec_dot_f16(&mut self, accs: &[[Value; 2]; 4]) -> Value {
        let halves: Vec<Value> = (0..2)
            .map(|h| {
                let a02 = self.b.ins().fadd(accs[0][h], accs[2][h]);
                let a13 = self.b.ins().fadd(accs[1][h], accs[3][h]);
                self.b.ins().fadd(a02, a13)
            })
            .collect();
        let t = self.b.ins().fadd(halves[0], halves[1]);
        let l: Vec<Value> = (0..4).map(|i| self.b.ins().extractlane(t, i)).collect();
        let a = self.b.ins().fadd(l[0], l[1]);
        let b = self.b.ins().fadd(l[2], l[3]);
        self.b.ins().fadd(a, b)
    }

    /// Scores of query row `f = (head, query)` against every key.
    fn attention_scores_row(&mut self, g: AttnGeometry, f: Value, single: bool) {
        let AttnGeometry { s_len, t_len, hq, hkv, d, out, half: c, .. } = g;
        let (q, k) = (self.bufs[0], self.bufs[1]);
        let h = self.b.ins().sdiv(f, s_len);
        let i = self.b.ins().srem(f, s_len);
        let q_at = self.b.ins().imul_imm_s(i, hq);
        let q_at = self.b.ins().iadd(q_at, h);
        let q_at = self.b.ins().imul_imm_s(q_at, 2 * d);
        let q_row = self.b.ins().iadd(q, q_at);
        let kv_h = self.b.ins().sdiv_imm_s(h, hq / hkv);
        let out_row = self.b.ins().imul(f, t_len);
        let out_row = self.b.ins().ishl_imm_u(out_row, 2);
        let out_row = self.b.ins().iadd(out, out_row);
        let zero = self.b.ins().f32const(0.0);
        let zv = self.b.ins().splat(types::F32X4, zero);
        let zero_i = self.b.ins().iconst(types::I64, 0);
        // the query row as f32, converted once for all keys
        let q_f32 = self.stack_buffer(4 * d as u32);
        for e in 0..(d / 4) as i32 {
            let x = self.load_f16x4(c, q_row, 8 * e);
            self.b.ins().store(flags(), x, q_f32, 16 * e);
        }
        let keys = self.kv_rows(g, k, 3, i, kv_h);
        self.counted(zero_i, t_len, |s, j| {
            let k_row = s.kv_row(g, keys, j);
            let pair = |s: &mut Self, e: i64| (s.load_f16x4(c, k_row, 2 * e as i32), s.b.ins().load(types::F32X4, flags(), q_f32, 4 * e as i32));
            let total = if single {
                let mut accs = [[zv; 2]; 4];
                for it in 0..d / 32 {
                    for (a, acc) in accs.iter_mut().enumerate() {
                        for (hh, slot) in acc.iter_mut().enumerate() {
                            let (kx, qx) = pair(s, 32 * it + 8 * a as i64 + 4 * hh as i64);
                            *slot = s.mul_add(kx, qx, *slot);
                        }
                    }
                }
                s.reduce_vec_dot_f16(&accs)
            } else {
                let (mut lo, mut hi) = (zv, zv);
                for chunk in 0..d / 8 {
                    let (k0, q0) = pair(s, 8 * chunk);
                    let (k1, q1) = pair(s, 8 * chunk + 4);
                    lo = s.mul_add(k0, q0, lo);
                    hi = s.mul_add(k1, q1, hi);
                }
                s.hsum8(lo, hi)
            };
            let at = s.b.ins().ishl_imm_u(j, 2);
            let at = s.b.ins().iadd(out_row, at);
            s.b.ins().store(flags(), total, at, 0);
        });
    }

    /// `out[i, h, 0..D] = Σ_j p[h, i, j] v[j, h/g, 0..D]` for row `f = (query, head)`.
    fn attention_out_row(&mut self, g: AttnGeometry, f: Value, single: bool) {
        let AttnGeometry { s_len, t_len, hq, hkv, d, out, half: c, .. } = g;
        let (vv, p) = (self.bufs[2], self.bufs[g.stage_source(4)]);
        let i = self.b.ins().sdiv_imm_s(f, hq);
        let h = self.b.ins().srem_imm_s(f, hq);
        let kv_h = self.b.ins().sdiv_imm_s(h, hq / hkv);
        let p_row = self.b.ins().imul(h, s_len);
        let p_row = self.b.ins().iadd(p_row, i);
        let p_row = self.b.ins().imul(p_row, t_len);
        let p_row = self.b.ins().ishl_imm_u(p_row, 1);
        let p_row = self.b.ins().iadd(p, p_row);
        let out_row = self.b.ins().imul_imm_s(f, 4 * d);
        let out_row = self.b.ins().iadd(out, out_row);
        let v_col = self.b.ins().imul_imm_s(kv_h, 2 * d);
        let v_col = self.b.ins().iadd(vv, v_col);
        let values = self.kv_rows(g, vv, 4, i, kv_h);
        let zero = self.b.ins().f32const(0.0);
        let zv = self.b.ins().splat(types::F32X4, zero);
        let zero_i = self.b.ins().iconst(types::I64, 0);
        let var = |s: &mut Self| {
            let a = s.b.declare_var(types::F32X4);
            s.b.def_var(a, zv);
            a
        };
        if single {
            // ggml_vec_dot_f16 over the keys for every output d: partial sum
            // (j mod 32) of each output kept in a stack array, four outputs
            // per vector, so each key's values are converted once for all
            // the query heads that share them (this row does the group of
            // heads starting at h; the group's other rows do nothing)
            let group = hq / hkv;
            let first_of_group = self.b.ins().srem_imm_s(h, group);
            let first_of_group = self.b.ins().icmp_imm_s(IntCC::Equal, first_of_group, 0);
            let (work, skip) = (self.b.create_block(), self.b.create_block());
            self.b.ins().brif(first_of_group, work, &[], skip, &[]);
            self.b.switch_to_block(work);
            let part = |g: i64, slot: i64| (g * 32 + slot) * d * 4;
            let acc = self.stack_buffer(part(group, 0) as u32);
            let vectors = self.b.ins().iconst(types::I64, part(group, 0) / 16);
            self.counted(zero_i, vectors, |s, n| {
                let at = s.b.ins().ishl_imm_u(n, 4);
                let at = s.b.ins().iadd(acc, at);
                s.b.ins().store(flags(), zv, at, 0);
            });
            self.counted(zero_i, t_len, |s, j| {
                let slot = s.b.ins().band_imm_u(j, 31);
                let slot_at = s.b.ins().imul_imm_s(slot, 4 * d);
                let slot_at = s.b.ins().iadd(acc, slot_at);
                let pa = s.b.ins().ishl_imm_u(j, 1);
                let probs: Vec<Value> = (0..group)
                    .map(|g| {
                        // p[h + g, i, j]: rows of the group are S * T apart
                        let row_step = s.b.ins().imul(s_len, t_len);
                        let row_step = s.b.ins().imul_imm_s(row_step, 2 * g);
                        let at = s.b.ins().iadd(p_row, row_step);
                        let at = s.b.ins().iadd(at, pa);
                        let x = s.half_to_float(at, 0);
                        s.b.ins().splat(types::F32X4, x)
                    })
                    .collect();
                let v_row = s.kv_row(g, values, j);
                for dv in 0..(d / 4) as i32 {
                    let vals = s.load_f16x4(c, v_row, 8 * dv);
                    for (g, &pg) in probs.iter().enumerate() {
                        let off = (part(g as i64, 0) + 16 * dv as i64) as i32;
                        let old = s.b.ins().load(types::F32X4, flags(), slot_at, off);
                        let new = s.mul_add(vals, pg, old);
                        s.b.ins().store(flags(), new, slot_at, off);
                    }
                }
            });
            for g in 0..group {
                for dv in 0..(d / 4) as i32 {
                    let at = |slot: i64| (part(g, slot) + 16 * dv as i64) as i32;
                    let lanes: Vec<Value> = (0..32).map(|slot| self.b.ins().load(types::F32X4, flags(), acc, at(slot))).collect();
                    // accumulator a, lane l of ggml's sum[a] is slot 8a + l
                    let mut s8 = Vec::with_capacity(8);
                    for l in 0..8 {
                        let a02 = self.b.ins().fadd(lanes[l], lanes[16 + l]);
                        let a13 = self.b.ins().fadd(lanes[8 + l], lanes[24 + l]);
                        s8.push(self.b.ins().fadd(a02, a13));
                    }
                    let t: Vec<Value> = (0..4).map(|l| self.b.ins().fadd(s8[l], s8[l + 4])).collect();
                    let x = self.b.ins().fadd(t[0], t[1]);
                    let y = self.b.ins().fadd(t[2], t[3]);
                    let total = self.b.ins().fadd(x, y);
                    self.b.ins().store(flags(), total, out_row, (4 * d * g) as i32 + 16 * dv);
                }
            }
            self.b.ins().jump(skip, &[]);
            self.b.switch_to_block(skip);
            return;
        }
        // tinyBLAS: lane j % 8 per output, four outputs d per vector
        for block in 0..(d / 4) as i32 {
            let accs: Vec<Variable> = (0..8).map(|_| var(self)).collect();
            let step = |s: &mut Self, j: Value, lane: usize| {
                let at = s.b.ins().imul_imm_s(j, 2 * hkv * d);
                let at = s.b.ins().iadd(v_col, at);
                let vals = s.load_f16x4(c, at, 8 * block);
                let pa = s.b.ins().ishl_imm_u(j, 1);
                let pa = s.b.ins().iadd(p_row, pa);
                let pj = s.half_to_float(pa, 0);
                let pj = s.b.ins().splat(types::F32X4, pj);
                let old = s.b.use_var(accs[lane]);
                let new = s.mul_add(vals, pj, old);
                s.b.def_var(accs[lane], new);
            };
            let chunks = self.b.ins().sshr_imm_u(t_len, 3);
            self.counted(zero_i, chunks, |s, ch| {
                let j0 = s.b.ins().ishl_imm_u(ch, 3);
                for lane in 0..8 {
                    let j = s.b.ins().iadd_imm_s(j0, lane as i64);
                    step(s, j, lane);
                }
            });
            let first = self.b.ins().ishl_imm_u(chunks, 3);
            for lane in 0..7 {
                let j = self.b.ins().iadd_imm_s(first, lane as i64);
                let inside = self.b.ins().icmp(IntCC::SignedLessThan, j, t_len);
                let yes = self.b.create_block();
                let next = self.b.create_block();
                self.b.ins().brif(inside, yes, &[], next, &[]);
                self.b.switch_to_block(yes);
                step(self, j, lane);
                self.b.ins().jump(next, &[]);
                self.b.switch_to_block(next);
            }
            let a: Vec<Value> = accs.iter().map(|&x| self.b.use_var(x)).collect();
            let r: Vec<Value> = (0..4).map(|t| self.b.ins().fadd(a[t + 4], a[t])).collect();
            let x = self.b.ins().fadd(r[0], r[2]);
            let y = self.b.ins().fadd(r[1], r[3]);
            let total = self.b.ins().fadd(x, y);
            self.b.ins().store(flags(), total, out_row, 16 * block);
        }
    }

    fn mean_of_squares(&mut self, v: &Validated, n: i64) {
        let rows = self.product_value(&v.nest().output.shape);
        let hi = self.b.ins().smin(self.range.1, rows);
        let (src, out) = (self.bufs[0], self.bufs[2]);
        let n_f = self.b.ins().f64const(n as f64);
        self.counted(self.range.0, hi, |s, row| {
            let off = s.b.ins().imul_imm_s(row, 4 * n);
            let x_row = s.b.ins().iadd(src, off);
            let sum = s.b.declare_var(types::F64);
            let zero = s.b.ins().f64const(0.0);
            s.b.def_var(sum, zero);
            s.counted_const(n, |s, i| {
                let at = s.b.ins().ishl_imm_u(i, 2);
                let at = s.b.ins().iadd(x_row, at);
                let x = s.b.ins().load(types::F32, flags(), at, 0);
                let sq = s.b.ins().fmul(x, x);
                let sq = s.b.ins().fpromote(types::F64, sq);
                let old = s.b.use_var(sum);
                let new = s.b.ins().fadd(old, sq);
                s.b.def_var(sum, new);
            });
            let total = s.b.use_var(sum);
            let mean = s.b.ins().fdiv(total, n_f);
            let mean = s.b.ins().fdemote(types::F32, mean);
            let at = s.b.ins().ishl_imm_u(row, 2);
            let at = s.b.ins().iadd(out, at);
            s.b.ins().store(flags(), mean, at, 0);
        });
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

    fn quantize_rows(&mut self, v: &Validated, to: DType, k: i64) {
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
                let q_off = s.b.ins().imul_imm_s(q_blk, to.block_bytes() as i64);
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
                let qs = if to == DType::Q8_1 {
                    // s = d * Σq, with the f32 d
                    let t0 = s.b.ins().iadd(q[0], q[1]);
                    let t1 = s.b.ins().iadd(q[2], q[3]);
                    let t2 = s.b.ins().iadd(q[4], q[5]);
                    let t3 = s.b.ins().iadd(q[6], q[7]);
                    let t0 = s.b.ins().iadd(t0, t1);
                    let t2 = s.b.ins().iadd(t2, t3);
                    let t = s.b.ins().iadd(t0, t2);
                    let lanes: Vec<Value> = (0..4).map(|i| s.b.ins().extractlane(t, i)).collect();
                    let sum01 = s.b.ins().iadd(lanes[0], lanes[1]);
                    let sum23 = s.b.ins().iadd(lanes[2], lanes[3]);
                    let sum = s.b.ins().iadd(sum01, sum23);
                    let sum = s.b.ins().fcvt_from_sint(types::F32, sum);
                    let sum = s.b.ins().fmul(d, sum);
                    let bits = f32_to_f16_bits(s.b, sum);
                    s.b.ins().istore16(flags(), bits, q_addr, 2);
                    4
                } else {
                    2
                };
                for half in 0..2 {
                    let w0 = s.b.ins().snarrow(q[4 * half], q[4 * half + 1]);
                    let w1 = s.b.ins().snarrow(q[4 * half + 2], q[4 * half + 3]);
                    let bytes = s.b.ins().snarrow(w0, w1);
                    s.b.ins().store(flags(), bytes, q_addr, qs + 16 * half as i32);
                }
            });
        });
    }

    fn counted_const(&mut self, n: i64, body: impl FnOnce(&mut Self, Value)) {
        let lo = self.b.ins().iconst(types::I64, 0);
        let hi = self.b.ins().iconst(types::I64, n);
        self.counted(lo, hi, body);
    }

    fn quant_matmul(&mut self, v: &Validated, acts: DType, weights: DType, n: i64, k: i64) {
        let rows = self.rows(v);
        let rows_per_tile = tile_rows(weights);
        let tiles = (n + rows_per_tile - 1) / rows_per_tile;
        let total = self.b.ins().imul_imm_s(rows, tiles);
        let hi = self.b.ins().smin(self.range.1, total);
        let (a, w, out) = (self.bufs[0], self.bufs[1], self.bufs[2]);
        let blocks = k / 32;
        let wrow = blocks * weights.block_bytes() as i64;
        let arow = blocks * acts.block_bytes() as i64;
        let nibble_mask = {
            let c = self.b.ins().iconst(types::I8, 0x0f);
            self.b.ins().splat(types::I8X16, c)
        };
        let ones = {
            let c = self.b.ins().iconst(types::I8, 1);
            self.b.ins().splat(types::I8X16, c)
        };
        let c = Consts { nibble_mask, ones };
        let layout = Layout { acts, weights, blocks, wrow };
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
                s.matmul_rows(layout, a_row, w, out_row, n0, rows_per_tile, c);
            } else {
                let full = s.b.create_block();
                let tail = s.b.create_block();
                let done = s.b.create_block();
                let end = s.b.ins().iadd_imm_s(n0, rows_per_tile);
                let fits = s.b.ins().icmp_imm_s(IntCC::SignedLessThanOrEqual, end, n);
                s.b.ins().brif(fits, full, &[], tail, &[]);
                s.b.switch_to_block(full);
                s.matmul_rows(layout, a_row, w, out_row, n0, rows_per_tile, c);
                s.b.ins().jump(done, &[]);
                s.b.switch_to_block(tail);
                let n_end = s.b.ins().iconst(types::I64, n);
                s.counted(n0, n_end, |s, row| s.matmul_rows(layout, a_row, w, out_row, row, 1, c));
                s.b.ins().jump(done, &[]);
                s.b.switch_to_block(done);
            }
        });
    }

    /// Integer sums of 4 adjacent products each, over 16 values: `x` signed
    /// bytes times `y` unsigned bytes (`pmaddubsw`, then pairs of i16 lanes).
    fn dot4_us(&mut self, x: Value, y: Value) -> Value {
        let p = self.b.ins().x86_pmaddubsw(x, y);
        self.pairwise_i32(p)
    }

    /// Integer sums of 4 adjacent products each, over 16 signed bytes times
    /// 16 signed bytes (widened to i16, `pmaddwd`, then pairs of i32 lanes).
    fn dot4_ss(&mut self, x: Value, y: Value) -> Value {
        let (xl, yl) = (self.b.ins().swiden_low(x), self.b.ins().swiden_low(y));
        let (xh, yh) = (self.b.ins().swiden_high(x), self.b.ins().swiden_high(y));
        let lo = self.dot_i16(xl, yl);
        let hi = self.dot_i16(xh, yh);
        self.b.ins().iadd_pairwise(lo, hi)
    }

    /// `out_row[n0..n0 + r] = Σ_k a_row[k] w[n0.., k]` for `r` weight rows,
    /// in llama.cpp's AVX2 order: per block, eight f32 lanes each take the
    /// integer sum of 4 adjacent products times `d_w d_a` by FMA (values
    /// 0-15 in one f32x4, 16-31 in another); at the end the lanes add as
    /// `((l0+l4) + (l2+l6)) + ((l1+l5) + (l3+l7))`, then the Q4_1 minimums'
    /// share `Σ m_w s_a`.
    fn matmul_rows(&mut self, layout: Layout, a_row: Value, w: Value, out_row: Value, n0: Value, r: i64, c: Consts) {
        let Layout { acts, weights, blocks, wrow } = layout;
        let zero = self.b.ins().f32const(0.0);
        let zv = self.b.ins().splat(types::F32X4, zero);
        let var = |s: &mut Self, ty, init| {
            let v = s.b.declare_var(ty);
            s.b.def_var(v, init);
            v
        };
        let accs: Vec<[Variable; 2]> = (0..r).map(|_| [var(self, types::F32X4, zv), var(self, types::F32X4, zv)]).collect();
        let mins: Vec<Variable> = (0..r).map(|_| var(self, types::F32, zero)).collect();
        let w_off = self.b.ins().imul_imm_s(n0, wrow);
        let w_tile = self.b.ins().iadd(w, w_off);
        let (wb, ab) = (weights.block_bytes() as i64, acts.block_bytes() as i64);
        let a_qs = if acts == DType::Q8_1 { 4 } else { 2 };
        self.counted_const(blocks, |s, blk| {
            let a_off = s.b.ins().imul_imm_s(blk, ab);
            let a_blk = s.b.ins().iadd(a_row, a_off);
            let w_off = s.b.ins().imul_imm_s(blk, wb);
            let w_blk = s.b.ins().iadd(w_tile, w_off);
            let d_a = s.half_to_float(a_blk, 0);
            let x = [s.b.ins().load(types::I8X16, flags(), a_blk, a_qs), s.b.ins().load(types::I8X16, flags(), a_blk, a_qs + 16)];
            // Q4_0: Σ (q - 8) x = Σ q x - 8 Σ x, per lane
            let sum_x = (weights == DType::Q4_0).then(|| [s.dot4_us(x[0], c.ones), s.dot4_us(x[1], c.ones)]);
            for (i, acc) in accs.iter().enumerate() {
                let at = (i as i64 * wrow) as i32;
                let d_w = s.half_to_float(w_blk, at);
                let sums: [Value; 2] = match weights {
                    DType::Q8_0 => {
                        let q0 = s.b.ins().load(types::I8X16, flags(), w_blk, at + 2);
                        let q1 = s.b.ins().load(types::I8X16, flags(), w_blk, at + 18);
                        [s.dot4_ss(q0, x[0]), s.dot4_ss(q1, x[1])]
                    }
                    _ => {
                        let qoff = if weights == DType::Q4_0 { 2 } else { 4 };
                        let q = s.b.ins().load(types::I8X16, flags(), w_blk, at + qoff);
                        let lo = s.b.ins().band(q, c.nibble_mask);
                        let q16 = s.b.ins().bitcast(types::I16X8, little(), q);
                        let shifted = s.b.ins().ushr_imm_u(q16, 4);
                        let shifted = s.b.ins().bitcast(types::I8X16, little(), shifted);
                        let hi = s.b.ins().band(shifted, c.nibble_mask);
                        let mut d = [s.dot4_us(x[0], lo), s.dot4_us(x[1], hi)];
                        if let Some(sx) = sum_x {
                            for h in 0..2 {
                                let eight = s.b.ins().ishl_imm_u(sx[h], 3);
                                d[h] = s.b.ins().isub(d[h], eight);
                            }
                        }
                        d
                    }
                };
                let scale = s.b.ins().fmul(d_w, d_a);
                let scale = s.b.ins().splat(types::F32X4, scale);
                for h in 0..2 {
                    let f = s.b.ins().fcvt_from_sint(types::F32X4, sums[h]);
                    let old = s.b.use_var(acc[h]);
                    let new = s.mul_add(f, scale, old);
                    s.b.def_var(acc[h], new);
                }
            }
        });
        if acts == DType::Q8_1 {
            // Σ_b m_w s_a, in block order, in a pass of its own: in the main
            // loop its accumulators pushed vector registers to the stack
            self.counted_const(blocks, |s, blk| {
                let a_off = s.b.ins().imul_imm_s(blk, ab);
                let a_blk = s.b.ins().iadd(a_row, a_off);
                let w_off = s.b.ins().imul_imm_s(blk, wb);
                let w_blk = s.b.ins().iadd(w_tile, w_off);
                let s_a = s.half_to_float(a_blk, 2);
                for (i, &m) in mins.iter().enumerate() {
                    let m_w = s.half_to_float(w_blk, (i as i64 * wrow) as i32 + 2);
                    let old = s.b.use_var(m);
                    let new = s.mul_add(m_w, s_a, old);
                    s.b.def_var(m, new);
                }
            });
        }
        let out_off = self.b.ins().imul_imm_s(n0, 4);
        let out_at = self.b.ins().iadd(out_row, out_off);
        for (i, acc) in accs.iter().enumerate() {
            let (lo, hi) = (self.b.use_var(acc[0]), self.b.use_var(acc[1]));
            let both = self.b.ins().fadd(hi, lo);
            let mut total = self.hsum(both);
            if acts == DType::Q8_1 {
                let m = self.b.use_var(mins[i]);
                total = self.b.ins().fadd(total, m);
            }
            self.b.ins().store(flags(), total, out_at, 4 * i as i32);
        }
    }
}

/// Sizes and places an attention template needs.
#[derive(Clone, Copy)]
struct AttnGeometry {
    s_len: Value,
    t_len: Value,
    hq: i64,
    hkv: i64,
    d: i64,
    out: Value,
    half: HalfConsts,
    /// Set for `paged_attention`.
    pages: Option<Pages>,
}

impl AttnGeometry {
    /// The source index of the op's stage `k` (0 scores, 1 max, 2
    /// weights, 3 sum, 4 probabilities): they follow the op's inputs (q, k,
    /// v; paged: also the pools, the page table and the lengths).
    fn stage_source(&self, k: usize) -> usize {
        let inputs = if self.pages.is_some() { 7 } else { 3 };
        inputs + k
    }
}

/// The page table's geometry.
#[derive(Clone, Copy)]
struct Pages {
    /// Rows per page (0 in stages that read no keys or values).
    page: i64,
    /// Pages per sequence in the table.
    width: Value,
    /// The last page of the table and the last row of the pools, which
    /// page numbers and rows are clamped to (computed once per kernel).
    last_page: Value,
    last_row: Value,
}

/// Where one query's keys (or values) at one kv head are.
#[derive(Clone, Copy)]
struct KvRows {
    /// Row 0 of the cache, or of the pool, at the head.
    base: Value,
    /// Paged: the sequence's new row at the head, its row of the page
    /// table, and its count of keys in the pool.
    paged: Option<(Value, Value, Value)>,
}

/// Where a quantized matmul's operands live.
#[derive(Clone, Copy)]
struct Layout {
    acts: DType,
    weights: DType,
    /// 32-value blocks per row.
    blocks: i64,
    /// Bytes per weight row.
    wrow: i64,
}

#[derive(Clone, Copy)]
struct Consts {
    nibble_mask: Value,
    ones: Value,
}
