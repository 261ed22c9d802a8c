//! kiln's built-in ops, each defined by tensor expressions.

use super::{OpDef, TensorType};
use crate::dim::{product, shape_str, Dim};
use crate::dtype::{DType, ScalarKind};
use crate::expr::{ax, dim, flt, int, load, select, BinOp, Expr, KernelClass, ReduceOp, Stage};
use crate::quant::flat_index;

/// Elementwise functions of one or two tensors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Elementwise {
    Add,
    Sub,
    Mul,
    Div,
    Max,
    Min,
    Neg,
    Abs,
    Exp,
    Log,
    Sqrt,
    Rsqrt,
    Tanh,
    Erf,
    Sin,
    Cos,
    /// `x * sigmoid(x)`
    Silu,
    /// tanh approximation, as ggml computes it
    Gelu,
}

impl Elementwise {
    fn is_binary(self) -> bool {
        matches!(self, Elementwise::Add | Elementwise::Sub | Elementwise::Mul | Elementwise::Div | Elementwise::Max | Elementwise::Min)
    }

    /// The expression for this function of `a` (and `b` for binary ones).
    pub fn apply(self, a: Expr, b: Expr) -> Expr {
        use Elementwise as E;
        match self {
            E::Add => a.add(b),
            E::Sub => a.sub(b),
            E::Mul => a.mul(b),
            E::Div => a.div(b),
            E::Max => a.max(b),
            E::Min => a.min(b),
            E::Neg => a.neg(),
            E::Abs => a.abs(),
            E::Exp => a.exp(),
            E::Log => a.log(),
            E::Sqrt => a.sqrt(),
            E::Rsqrt => a.rsqrt(),
            E::Tanh => a.tanh(),
            E::Erf => a.erf(),
            E::Sin => a.sin(),
            E::Cos => a.cos(),
            E::Silu => a.clone().div(flt(1.0).add(a.neg().exp())),
            E::Gelu => {
                // 0.5·x·(1 + tanh(u)) written as x·sigmoid(2u): the same
                // function without the cancellation of 1 + tanh(u) near -1.
                let inner = a.clone().add(flt(0.044715).mul(a.clone()).mul(a.clone()).mul(a.clone()));
                let two_u = flt(2.0 * (2.0 / std::f64::consts::PI).sqrt()).mul(inner);
                a.div(flt(1.0).add(two_u.neg().exp()))
            }
        }
    }
}

/// Rotary position embedding settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RopeConfig {
    /// Frequency base (θ), 10000 for Llama 2.
    pub base: f64,
    /// Leading dimensions of each head that rotate; the rest pass through.
    pub n_dims: usize,
    /// NeoX layout (pairs `d` and `d + n_dims/2`) instead of adjacent pairs.
    pub neox: bool,
}

/// kiln's built-in ops.
#[derive(Clone, Debug, PartialEq)]
pub enum Builtin {
    /// Elementwise function; binary ones broadcast numpy-style.
    Map(Elementwise),
    /// `x (op) c` for a constant `c`.
    MapScalar(Elementwise, f64),
    /// `[.., M, K] x [.., K, N]`, or `[.., N, K]` when `transpose_b`; `b` may
    /// be 2-D (shared across the batch) and quantized when transposed.
    Matmul {
        /// Read `b` as `[.., N, K]` (weights as GGUF stores them).
        transpose_b: bool,
    },
    /// Softmax over the last axis.
    Softmax,
    /// `x * rsqrt(mean(x²) + eps) * w` over the last axis.
    RmsNorm {
        /// Added to the mean square.
        eps: f64,
    },
    /// `(x - mean) * rsqrt(var + eps) * w + b` over the last axis.
    LayerNorm {
        /// Added to the variance.
        eps: f64,
    },
    /// Rotary embedding of `x: [S, H, D]` at positions `pos: i32[S]`.
    Rope(RopeConfig),
    /// Rotary embedding of `x: [S, H, D]` by a table `cs: [S, P, 2]` of each
    /// pair's cosine and sine (the first `2P` dims rotate; NeoX pairs `d`
    /// and `d + P` when set, else adjacent dims). Each output is one fused
    /// multiply-add, `x0 cos - x1 sin = fma(x0, cos, -(x1 sin))` and `x0 sin
    /// + x1 cos = fma(x0, sin, x1 cos)`, as llama.cpp's compiled rotation is.
    RopeTable {
        /// NeoX layout.
        neox: bool,
    },
    /// Rows of `table: [V, E]` (any dtype) picked by `ids: i32[..]`.
    Gather,
    /// Same elements, new shape (row-major).
    Reshape(Vec<Dim>),
    /// Axes permuted: output axis `i` is input axis `perm[i]`.
    Transpose(Vec<usize>),
    /// Inputs joined along an axis.
    Concat(usize),
    /// `x[.., start..end, ..]` along an axis.
    Slice {
        /// Axis to slice.
        axis: usize,
        /// First kept index.
        start: Dim,
        /// One past the last kept index.
        end: Dim,
    },
    /// Attention of `q: [S, Hq, D]` over keys and values `k, v: [T, Hkv, D]`
    /// (grouped-query when `Hkv < Hq`): `softmax(scale q kᵀ) v` per head.
    /// Causal (a decoder over its KV cache): query `i` sits at position
    /// `T - S + i` and sees keys up to it. With f16 `v` the softmax
    /// probabilities are rounded to f16 before they weight `v` (llama.cpp's
    /// arithmetic with an f16 KV cache).
    Attention {
        /// Multiplies `q·k`, usually `1/sqrt(D)`; must be positive.
        scale: f64,
        /// Each query sees only the keys up to its position (else every key).
        causal: bool,
    },
    /// Attention of one new token of each of `B` sequences over its own
    /// keys and values, kept in pages of a shared pool (a decoder's KV
    /// cache serving several conversations). Inputs: `q: [B, Hq, D]`, the
    /// new tokens' `k, v: [B, Hkv, D]`, the pools `k_pool, v_pool: [N, Hkv,
    /// D]` (same type as `k`), `pages: i32[B, M]` (sequence `b`'s pages, in
    /// order) and `lens: i32[B]` (keys each sequence has in the pool). Key
    /// `j < lens[b]` of sequence `b` is pool row
    /// `pages[b, j / page] * page + j % page`, key `lens[b]` is its new
    /// `k[b]`, later ones are hidden,
    /// so `M * page` must exceed every `lens[b]`. Out-of-range pages and
    /// rows are clamped (never read out of bounds). Each row computes what
    /// [`Builtin::Attention`] computes for that sequence's query over its
    /// keys, in the same stages.
    PagedAttention {
        /// Multiplies `q·k`; must be positive.
        scale: f64,
        /// Rows per page.
        page: usize,
    },
    /// Index of the maximum over the last axis (first one on ties), i32.
    Argmax,
    /// Quantized or f16 tensor to f32.
    Dequantize,
    /// f32 or f16 rows to 8-bit blocks for integer-dot matmuls (Q8_0 or
    /// Q8_1: [`crate::quant::quantize_activations`]); the last axis must be
    /// a constant multiple of 32.
    Quantize(DType),
    /// Convert between f32, f16 and i32.
    Cast(DType),
}

fn broadcast(a: &[Dim], b: &[Dim]) -> Result<Vec<Dim>, String> {
    let r = a.len().max(b.len());
    let one = Dim::new(1);
    (0..r)
        .map(|i| {
            let da = if i + a.len() >= r { &a[i + a.len() - r] } else { &one };
            let db = if i + b.len() >= r { &b[i + b.len() - r] } else { &one };
            if da == db || *db == one {
                Ok(da.clone())
            } else if *da == one {
                Ok(db.clone())
            } else {
                Err(format!("cannot broadcast {} with {}", shape_str(a), shape_str(b)))
            }
        })
        .collect()
}

/// Index into an input of shape `shape` broadcast to an output of rank `rank`.
fn broadcast_index(shape: &[Dim], out: &[Dim]) -> Vec<Expr> {
    let off = out.len() - shape.len();
    shape.iter().enumerate().map(|(i, d)| if *d == Dim::new(1) && out[i + off] != Dim::new(1) { int(0) } else { ax(i + off) }).collect()
}

fn axes(n: usize) -> Vec<Expr> {
    (0..n).map(ax).collect()
}

fn float_dense(t: &TensorType, what: &str) -> Result<(), String> {
    match t.dtype {
        DType::F32 | DType::F16 => Ok(()),
        d => Err(format!("{what} must be f32 or f16, got {d}")),
    }
}

/// Blocks of 32 along a constant contraction axis `k`, as an expression.
fn kax_block(k: &Dim) -> Expr {
    int(k.as_const().expect("quantized K is a constant") / 32)
}

fn last(t: &TensorType, what: &str) -> Result<Dim, String> {
    t.shape.last().cloned().ok_or_else(|| format!("{what} must have at least one axis"))
}

/// An attention as its stages describe it: everything that distinguishes
/// one attention op from another (plain or paged, causal or not, with what
/// was fused into its loads), from which [`AttentionStages::stages`] makes
/// the stages every backend can run one by one, and which a backend that
/// runs the whole attention as one kernel reads back from them
/// ([`AttentionStages::recognize`]).
///
/// Axes: `q` and `key` are read at `(head, query, key, dim)` (the scores'
/// axes, `q` not depending on the key), `visible` at `(head, query, key)`,
/// `value` at `(query, head, dim, key)` (the output's axes, then the key).
#[derive(Clone, Debug, PartialEq)]
pub struct AttentionStages {
    /// Source number of the first stage's result: the stages read sources
    /// `0..first` (the op's inputs, and in a fused op the stages before)
    /// and their own results after them.
    pub first: usize,
    /// The query element (of the head, query and dim axes).
    pub q: Expr,
    /// The key element.
    pub key: Expr,
    /// The value element.
    pub value: Expr,
    /// Whether the query sees the key (every key when `None`).
    pub visible: Option<Expr>,
    /// Query heads, queries, the head width and keys per query.
    pub heads: Dim,
    /// Queries.
    pub queries: Dim,
    /// Width of a head.
    pub head_dim: Dim,
    /// Keys per query (the extent of the key axis).
    pub keys: Dim,
    /// Multiplies `q·k`; positive.
    pub scale: f64,
    /// The probabilities are rounded to f16 before they weight the values
    /// (f16 values: llama.cpp's arithmetic with an f16 KV cache).
    pub probs_f16: bool,
    /// The output's shape, `[queries, heads, head_dim]` (or the batch's rows
    /// for the paged op).
    pub out_shape: Vec<Dim>,
}

const ATTENTION_STAGE_NAMES: [&str; 6] = ["attention_scores", "attention_max", "attention_weights", "attention_sum", "attention_probs", "attention"];

impl AttentionStages {
    /// Scores, their maximum, the exponentials, their sum, (f16 values:
    /// the probabilities rounded to f16,) and the weighted values.
    pub fn stages(&self) -> Vec<Stage> {
        let f32 = DType::F32;
        let (hq, s, d, t) = (self.heads.clone(), self.queries.clone(), self.head_dim.clone(), self.keys.clone());
        let n = self.first;
        let (scores, max, weights, sum, probs) = (n, n + 1, n + 2, n + 3, n + 4);
        let scores_shape = vec![hq.clone(), s.clone(), t.clone()];
        // q·k unscaled (a plain reduction, scheduled like a matmul); the
        // scale (positive, checked by infer) applies to each score before
        // the max, as llama.cpp's softmax does.
        let qk = self.q.clone().mul(self.key.clone());
        let scaled = load(scores, vec![ax(0), ax(1), ax(2)]).mul(flt(self.scale));
        let masked = |x: Expr, hidden: f64| match &self.visible {
            Some(v) => select(v.clone(), x, flt(hidden)),
            None => x,
        };
        // Unnormalized weights exp(score - max), 0 where hidden: computed
        // once per key, not once per output element.
        let weight = masked(scaled.clone().sub(load(max, vec![ax(0), ax(1)])).exp(), 0.0);
        let [scores_name, max_name, weights_name, sum_name, probs_name, out_name] = ATTENTION_STAGE_NAMES;
        let mut stages = vec![
            // a small matmul per head: scheduled like one (a tile of keys shares the query)
            Stage::reduce(scores_name, scores_shape.clone(), f32, ReduceOp::Sum, vec![d], qk).with_class(KernelClass::Matmul),
            Stage::reduce(max_name, vec![hq.clone(), s.clone()], f32, ReduceOp::Max, vec![t.clone()], masked(scaled, f64::NEG_INFINITY)).with_class(KernelClass::Attention),
            Stage::map(weights_name, scores_shape.clone(), f32, weight).with_class(KernelClass::Attention),
            Stage::reduce(sum_name, vec![hq, s], f32, ReduceOp::Sum, vec![t.clone()], load(weights, vec![ax(0), ax(1), ax(2)])).with_class(KernelClass::Attention),
        ];
        let oshape = self.out_shape.clone();
        if self.probs_f16 {
            // f16 values: the probabilities are normalized first and stored
            // as f16 too, so both factors of p·v are f16 (what llama.cpp
            // computes with its f16 KV cache)
            let p = load(weights, vec![ax(0), ax(1), ax(2)]).mul(flt(1.0).div(load(sum, vec![ax(0), ax(1)])));
            stages.push(Stage::map(probs_name, scores_shape, DType::F16, p).with_class(KernelClass::Attention));
            let out_body = load(probs, vec![ax(1), ax(0), ax(3)]).mul(self.value.clone());
            stages.push(Stage::reduce(out_name, oshape, f32, ReduceOp::Sum, vec![t], out_body).with_class(KernelClass::Attention));
        } else {
            // out[i, h, d] = sum_j w[h, i, j] * v[j, h/g, d] / l[h, i]
            let out_body = load(weights, vec![ax(1), ax(0), ax(3)]).mul(self.value.clone()).div(load(sum, vec![ax(1), ax(0)]));
            stages.push(Stage::reduce(out_name, oshape, f32, ReduceOp::Sum, vec![t], out_body).with_class(KernelClass::Attention));
        }
        stages
    }

    /// The attention whose stages `stages` begin with, if they do: the
    /// stages [`AttentionStages::stages`] makes, the first one's result
    /// being source `first`, with any expression in place of the query,
    /// key, value and visibility (what fusion made of them). Read back from
    /// the stages and checked by making them again, so nothing else passes.
    pub fn recognize(stages: &[Stage], first: usize) -> Option<AttentionStages> {
        // (every stage, names included, is checked by remaking them below)
        if stages.first()?.name != ATTENTION_STAGE_NAMES[0] {
            return None;
        }
        let probs_f16 = stages.get(4)?.name == ATTENTION_STAGE_NAMES[4];
        let (scores, max, out) = (&stages[0], stages.get(1)?, stages.get(if probs_f16 { 5 } else { 4 })?);
        let Expr::Binary(BinOp::Mul, q, key) = &scores.body else { return None };
        let (visible, scaled) = match &max.body {
            Expr::Select(v, x, _) => (Some((**v).clone()), &**x),
            x => (None, x),
        };
        let Expr::Binary(BinOp::Mul, _, scale) = scaled else { return None };
        let Expr::Float(scale) = **scale else { return None };
        let value = match &out.body {
            Expr::Binary(BinOp::Mul, _, v) if probs_f16 => (**v).clone(),
            Expr::Binary(BinOp::Div, wv, _) if !probs_f16 => match &**wv {
                Expr::Binary(BinOp::Mul, _, v) => (**v).clone(),
                _ => return None,
            },
            _ => return None,
        };
        let ([heads, queries, keys], [head_dim]) = (scores.shape.as_slice(), scores.reduce.as_ref()?.extents.as_slice()) else { return None };
        let attention = AttentionStages {
            first,
            q: (**q).clone(),
            key: (**key).clone(),
            value,
            visible,
            heads: heads.clone(),
            queries: queries.clone(),
            head_dim: head_dim.clone(),
            keys: keys.clone(),
            scale,
            probs_f16,
            out_shape: out.shape.clone(),
        };
        let made = attention.stages();
        (stages.len() >= made.len() && stages[..made.len()] == made[..]).then_some(attention)
    }

    /// How many stages the attention has.
    pub fn len(&self) -> usize {
        if self.probs_f16 {
            6
        } else {
            5
        }
    }
}

/// What every attention op requires of its queries `q: [S, Hq, D]`, keys
/// `k: [T, Hkv, D]` and scale: one head width, query heads a constant
/// multiple of kv heads, a positive finite scale.
fn check_attention_heads(q: &TensorType, k: &TensorType, scale: f64) -> Result<(), String> {
    if q.shape[2] != k.shape[2] {
        return Err(format!("head_dim differs: {} vs {}", q.shape[2], k.shape[2]));
    }
    match (q.shape[1].as_const(), k.shape[1].as_const()) {
        (Some(hq), Some(hk)) if hk > 0 && hq % hk == 0 => {}
        _ => return Err(format!("query heads {} must be a constant multiple of kv heads {}", q.shape[1], k.shape[1])),
    }
    if !(scale > 0.0 && scale.is_finite()) {
        return Err(format!("scale must be positive and finite, got {scale}"));
    }
    Ok(())
}

impl Builtin {
    fn arity(&self) -> Option<usize> {
        Some(match self {
            Builtin::Map(e) if e.is_binary() => 2,
            Builtin::Map(_) | Builtin::MapScalar(..) | Builtin::Softmax | Builtin::Reshape(_) | Builtin::Transpose(_) => 1,
            Builtin::Slice { .. } | Builtin::Argmax | Builtin::Dequantize | Builtin::Quantize(_) | Builtin::Cast(_) => 1,
            Builtin::Matmul { .. } | Builtin::RmsNorm { .. } | Builtin::Rope(_) | Builtin::RopeTable { .. } | Builtin::Gather => 2,
            Builtin::LayerNorm { .. } | Builtin::Attention { .. } => 3,
            Builtin::PagedAttention { .. } => 7,
            Builtin::Concat(_) => return None,
        })
    }
}

impl OpDef for Builtin {
    fn as_builtin(&self) -> Option<&Builtin> {
        Some(self)
    }

    fn name(&self) -> String {
        match self {
            Builtin::Map(e) => format!("{e:?}").to_lowercase(),
            Builtin::MapScalar(e, c) => format!("{}_scalar({c})", format!("{e:?}").to_lowercase()),
            Builtin::Matmul { transpose_b: false } => "matmul".into(),
            Builtin::Matmul { transpose_b: true } => "matmul_t".into(),
            Builtin::Softmax => "softmax".into(),
            Builtin::RmsNorm { eps } => format!("rms_norm(eps={eps})"),
            Builtin::LayerNorm { eps } => format!("layer_norm(eps={eps})"),
            Builtin::Rope(c) => format!("rope(base={}, n_dims={}, neox={})", c.base, c.n_dims, c.neox),
            Builtin::RopeTable { neox } => format!("rope_table(neox={neox})"),
            Builtin::Gather => "gather".into(),
            Builtin::Reshape(s) => format!("reshape({})", shape_str(s)),
            Builtin::Transpose(p) => format!("transpose({p:?})"),
            Builtin::Concat(a) => format!("concat(axis={a})"),
            Builtin::Slice { axis, start, end } => format!("slice(axis={axis}, {start}..{end})"),
            Builtin::Attention { scale, causal: true } => format!("attention(scale={scale})"),
            Builtin::Attention { scale, causal: false } => format!("attention(scale={scale}, unmasked)"),
            Builtin::PagedAttention { scale, page } => format!("paged_attention(scale={scale}, page={page})"),
            Builtin::Argmax => "argmax".into(),
            Builtin::Dequantize => "dequantize".into(),
            Builtin::Quantize(d) => format!("quantize({d})"),
            Builtin::Cast(d) => format!("cast({d})"),
        }
    }

    fn infer(&self, ins: &[TensorType]) -> Result<TensorType, String> {
        match self.arity() {
            Some(n) if ins.len() != n => return Err(format!("takes {n} inputs, got {}", ins.len())),
            None if ins.is_empty() => return Err("takes at least one input".into()),
            _ => {}
        }
        let f32_of = |shape: Vec<Dim>| Ok(TensorType::new(DType::F32, shape));
        match self {
            Builtin::Map(e) => {
                float_dense(&ins[0], "operand")?;
                if e.is_binary() {
                    float_dense(&ins[1], "operand")?;
                    return f32_of(broadcast(&ins[0].shape, &ins[1].shape)?);
                }
                f32_of(ins[0].shape.clone())
            }
            Builtin::MapScalar(e, _) => {
                float_dense(&ins[0], "operand")?;
                if !e.is_binary() {
                    return Err("needs a binary function".into());
                }
                f32_of(ins[0].shape.clone())
            }
            Builtin::Matmul { transpose_b } => {
                let (a, b) = (&ins[0], &ins[1]);
                let int8 = match a.dtype {
                    DType::Q8_0 => b.dtype.is_quantized(),
                    DType::Q8_1 => b.dtype == DType::Q4_1,
                    _ => false,
                };
                if !(int8 && *transpose_b) {
                    float_dense(a, "left operand (or 8-bit activations times transposed weights: q8_0 with any quantized type, q8_1 with q4_1)")?;
                }
                if b.dtype.is_quantized() && !transpose_b {
                    return Err(format!("a {} right operand must be transposed ([N, K], blocks along K)", b.dtype));
                }
                if b.dtype == DType::I32 {
                    return Err("right operand must be a float or quantized type".into());
                }
                if a.rank() < 2 || b.rank() < 2 {
                    return Err("operands need at least 2 axes".into());
                }
                let (m, k) = (&a.shape[a.rank() - 2], &a.shape[a.rank() - 1]);
                let (kb, n) = if *transpose_b {
                    (&b.shape[b.rank() - 1], &b.shape[b.rank() - 2])
                } else {
                    (&b.shape[b.rank() - 2], &b.shape[b.rank() - 1])
                };
                if k != kb {
                    return Err(format!("contraction axes differ: {k} vs {kb}"));
                }
                let block = b.dtype.block_len() as i64;
                if b.dtype.is_quantized() && k.as_const().is_none_or(|k| k % block != 0) {
                    return Err(format!("{} K must be a constant multiple of {block}, got {k}", b.dtype));
                }
                let batch_a = &a.shape[..a.rank() - 2];
                let batch_b = &b.shape[..b.rank() - 2];
                if !batch_b.is_empty() && batch_a != batch_b {
                    return Err(format!("batch axes differ: {} vs {}", shape_str(batch_a), shape_str(batch_b)));
                }
                let mut out = batch_a.to_vec();
                out.extend([m.clone(), n.clone()]);
                f32_of(out)
            }
            Builtin::Softmax | Builtin::Argmax => {
                float_dense(&ins[0], "input")?;
                last(&ins[0], "input")?;
                if matches!(self, Builtin::Argmax) {
                    let s = &ins[0].shape;
                    return Ok(TensorType::new(DType::I32, s[..s.len() - 1].to_vec()));
                }
                f32_of(ins[0].shape.clone())
            }
            Builtin::RmsNorm { .. } | Builtin::LayerNorm { .. } => {
                float_dense(&ins[0], "input")?;
                let n = last(&ins[0], "input")?;
                for w in &ins[1..] {
                    float_dense(w, "weight")?;
                    if w.shape != [n.clone()] {
                        return Err(format!("weight must be [{n}], got {}", shape_str(&w.shape)));
                    }
                }
                f32_of(ins[0].shape.clone())
            }
            Builtin::Rope(c) => {
                let (x, pos) = (&ins[0], &ins[1]);
                float_dense(x, "input")?;
                if x.rank() != 3 {
                    return Err("input must be [seq, heads, head_dim]".into());
                }
                if pos.dtype != DType::I32 || pos.shape != [x.shape[0].clone()] {
                    return Err(format!("positions must be i32[{}], got {pos}", x.shape[0]));
                }
                let d = x.shape[2].as_const().ok_or("head_dim must be a constant")?;
                if c.n_dims % 2 != 0 || c.n_dims as i64 > d {
                    return Err(format!("n_dims {} must be even and at most head_dim {d}", c.n_dims));
                }
                f32_of(x.shape.clone())
            }
            Builtin::RopeTable { .. } => {
                let (x, cs) = (&ins[0], &ins[1]);
                float_dense(x, "input")?;
                if x.rank() != 3 {
                    return Err("input must be [seq, heads, head_dim]".into());
                }
                let d = x.shape[2].as_const().ok_or("head_dim must be a constant")?;
                let pairs = match cs.shape.as_slice() {
                    [s, p, two] if cs.dtype == DType::F32 && *s == x.shape[0] && *two == Dim::new(2) => p.as_const(),
                    _ => None,
                };
                match pairs {
                    Some(p) if p >= 1 && 2 * p <= d => f32_of(x.shape.clone()),
                    _ => Err(format!("the table must be f32[{}, P, 2] with 1 <= 2P <= {d}, got {cs}", x.shape[0])),
                }
            }
            Builtin::Gather => {
                let (table, ids) = (&ins[0], &ins[1]);
                if table.rank() != 2 || table.dtype == DType::I32 {
                    return Err(format!("table must be a 2-D float or quantized tensor, got {table}"));
                }
                if ids.dtype != DType::I32 {
                    return Err(format!("ids must be i32, got {}", ids.dtype));
                }
                let mut out = ids.shape.clone();
                out.push(table.shape[1].clone());
                f32_of(out)
            }
            Builtin::Reshape(shape) => {
                let x = &ins[0];
                if x.dtype.is_quantized() {
                    return Err("cannot reshape a quantized tensor; dequantize first".into());
                }
                if product(shape) != product(&x.shape) {
                    return Err(format!("cannot reshape {} into {}: element counts differ", shape_str(&x.shape), shape_str(shape)));
                }
                Ok(TensorType::new(x.dtype, shape.clone()))
            }
            Builtin::Transpose(perm) => {
                let x = &ins[0];
                let mut seen = perm.clone();
                seen.sort();
                if seen != (0..x.rank()).collect::<Vec<_>>() {
                    return Err(format!("{perm:?} is not a permutation of the {} axes of {x}", x.rank()));
                }
                if x.dtype.is_quantized() {
                    return Err("cannot transpose a quantized tensor; dequantize first".into());
                }
                Ok(TensorType::new(x.dtype, perm.iter().map(|&p| x.shape[p].clone()).collect()))
            }
            Builtin::Concat(axis) => {
                let first = &ins[0];
                if *axis >= first.rank() {
                    return Err(format!("axis {axis} out of range for rank {}", first.rank()));
                }
                let mut out = first.shape.clone();
                for t in &ins[1..] {
                    if t.dtype != first.dtype || t.rank() != first.rank() {
                        return Err(format!("inputs differ: {first} vs {t}"));
                    }
                    for (i, (a, b)) in first.shape.iter().zip(&t.shape).enumerate() {
                        if i != *axis && a != b {
                            return Err(format!("axis {i} differs: {a} vs {b}"));
                        }
                    }
                    out[*axis] = &out[*axis] + &t.shape[*axis];
                }
                if first.dtype.is_quantized() && *axis + 1 == first.rank() {
                    return Err("cannot concat quantized tensors along their last (block) axis".into());
                }
                Ok(TensorType::new(first.dtype, out))
            }
            Builtin::Slice { axis, start, end } => {
                let x = &ins[0];
                if *axis >= x.rank() || x.dtype.is_quantized() {
                    return Err(format!("cannot slice axis {axis} of {x}"));
                }
                let len = end - start;
                if let (Some(s), Some(e), Some(n)) = (start.as_const(), end.as_const(), x.shape[*axis].as_const()) {
                    if s < 0 || e < s || e > n {
                        return Err(format!("range {s}..{e} out of bounds for axis of length {n}"));
                    }
                } else if start.as_const().is_none_or(|s| s < 0) {
                    return Err(format!("start {start} must be a non-negative constant"));
                }
                let mut out = x.shape.clone();
                out[*axis] = len;
                Ok(TensorType::new(x.dtype, out))
            }
            Builtin::Attention { .. } => {
                let (q, k, v) = (&ins[0], &ins[1], &ins[2]);
                for t in ins {
                    float_dense(t, "q, k and v")?;
                    if t.rank() != 3 {
                        return Err(format!("q, k, v must be [seq, heads, head_dim], got {t}"));
                    }
                }
                if k.shape != v.shape {
                    return Err(format!("k and v differ: {k} vs {v}"));
                }
                let Builtin::Attention { scale, .. } = self else { unreachable!() };
                check_attention_heads(q, k, *scale)?;
                f32_of(q.shape.clone())
            }
            Builtin::PagedAttention { scale, page } => {
                let (q, k, v, kp, vp, pages, lens) = (&ins[0], &ins[1], &ins[2], &ins[3], &ins[4], &ins[5], &ins[6]);
                for t in &ins[..5] {
                    float_dense(t, "q, k, v and the pools")?;
                    if t.rank() != 3 {
                        return Err(format!("q, k, v and the pools must be [rows, heads, head_dim], got {t}"));
                    }
                }
                if k.shape != v.shape || k.shape[0] != q.shape[0] {
                    return Err(format!("k and v must be [{}, kv_heads, head_dim] alike, got {k} and {v}", q.shape[0]));
                }
                if kp.shape != vp.shape || kp.shape[1..] != k.shape[1..] || kp.dtype != k.dtype || vp.dtype != v.dtype {
                    return Err(format!("the pools must be [rows, {}, {}] of k's and v's types, got {kp} and {vp}", k.shape[1], k.shape[2]));
                }
                check_attention_heads(q, k, *scale)?;
                if pages.dtype != DType::I32 || pages.rank() != 2 || pages.shape[0] != q.shape[0] {
                    return Err(format!("pages must be i32[{}, pages], got {pages}", q.shape[0]));
                }
                if lens.dtype != DType::I32 || lens.shape != [q.shape[0].clone()] {
                    return Err(format!("lens must be i32[{}], got {lens}", q.shape[0]));
                }
                if *page == 0 {
                    return Err("the page size must be positive".into());
                }
                f32_of(q.shape.clone())
            }
            Builtin::Dequantize => f32_of(ins[0].shape.clone()),
            Builtin::Quantize(to) => {
                float_dense(&ins[0], "input")?;
                if !matches!(to, DType::Q8_0 | DType::Q8_1) {
                    return Err(format!("quantizing to {to} is not supported (q8_0 and q8_1 are)"));
                }
                let k = last(&ins[0], "input")?;
                if k.as_const().is_none_or(|k| k % 32 != 0) {
                    return Err(format!("the last axis must be a constant multiple of 32, got {k}"));
                }
                Ok(TensorType::new(*to, ins[0].shape.clone()))
            }
            Builtin::Cast(to) => {
                if to.is_quantized() || ins[0].dtype.is_quantized() {
                    return Err("cast is between f32, f16 and i32; use dequantize for quantized tensors".into());
                }
                Ok(TensorType::new(*to, ins[0].shape.clone()))
            }
        }
    }

    fn constraints(&self, ins: &[TensorType]) -> Vec<(Dim, Dim, String)> {
        match self {
            Builtin::Slice { axis, start, end } if ins.len() == 1 && *axis < ins[0].rank() => vec![
                (start.clone(), end.clone(), "slice start <= end".into()),
                (end.clone(), ins[0].shape[*axis].clone(), format!("slice end <= length of axis {axis}")),
            ],
            Builtin::Attention { causal: true, .. } if ins.len() == 3 => {
                vec![(ins[0].shape[0].clone(), ins[1].shape[0].clone(), "query count <= key count (queries are the last positions of the cache)".into())]
            }
            _ => Vec::new(),
        }
    }

    fn compute(&self, ins: &[TensorType], out: &TensorType) -> Vec<Stage> {
        let rank = out.rank();
        let oshape = out.shape.clone();
        let f32 = DType::F32;
        match self {
            Builtin::Map(e) => {
                let a = load(0, broadcast_index(&ins[0].shape, &oshape));
                let b = if e.is_binary() { load(1, broadcast_index(&ins[1].shape, &oshape)) } else { flt(0.0) };
                vec![Stage::map(&self.name(), oshape, f32, e.apply(a, b))]
            }
            Builtin::MapScalar(e, c) => vec![Stage::map(&self.name(), oshape, f32, e.apply(load(0, axes(rank)), flt(*c)))],
            Builtin::Matmul { transpose_b } => {
                let (a, b) = (&ins[0], &ins[1]);
                let nb = rank - 2;
                let k = a.shape[a.rank() - 1].clone();
                let kax = ax(rank);
                let mut ia = axes(nb);
                ia.extend([ax(nb), kax.clone()]);
                let mut ib: Vec<Expr> = if b.rank() > 2 { axes(nb) } else { vec![] };
                if *transpose_b {
                    ib.extend([ax(nb + 1), kax.clone()]);
                } else {
                    ib.extend([kax.clone(), ax(nb + 1)]);
                }
                let mut body = load(0, ia.clone()).mul(load(1, ib.clone()));
                if a.dtype == DType::Q8_1 {
                    // llama.cpp's Q4_1 x Q8_1 dot: each block's minimum `m`
                    // meets the activations through their stored f16 sum
                    // `s`, not through Σ d q: x (d_w q + m) - x m, plus m s
                    // once per block
                    let kb = kax_block(&k);
                    let a_row = crate::quant::flat_index(&ia[..ia.len() - 1], &a.shape[..a.rank() - 1]);
                    let w_row = crate::quant::flat_index(&ib[..ib.len() - 1], &b.shape[..b.rank() - 1]);
                    let half_at = |src: u32, row: Expr, bytes: i64, off: i64| Expr::LoadHalf { src, offset: Box::new(row.mul(kb.clone()).add(kax.clone().div(int(32))).mul(int(bytes)).add(int(off))) };
                    let m_w = half_at(1, w_row, DType::Q4_1.block_bytes() as i64, 2);
                    let s_a = half_at(0, a_row, DType::Q8_1.block_bytes() as i64, 2);
                    let first = kax.clone().rem(int(32)).eq(int(0));
                    body = body.sub(load(0, ia).mul(m_w.clone())).add(select(first, m_w.mul(s_a), flt(0.0)));
                }
                vec![Stage::reduce(&self.name(), oshape, f32, ReduceOp::Sum, vec![k], body).with_class(KernelClass::Matmul)]
            }
            Builtin::Softmax => {
                let n = ins[0].shape[rank - 1].clone();
                let rows = oshape[..rank - 1].to_vec();
                let x = load(0, axes(rank));
                let m_row = load(1, axes(rank - 1));
                let e = x.clone().sub(m_row.clone()).exp();
                vec![
                    Stage::reduce("softmax_max", rows.clone(), f32, ReduceOp::Max, vec![n.clone()], x),
                    Stage::reduce("softmax_sum", rows, f32, ReduceOp::Sum, vec![n], e.clone()),
                    Stage::map("softmax", oshape, f32, e.div(load(2, axes(rank - 1)))),
                ]
            }
            Builtin::RmsNorm { eps } => {
                let n = ins[0].shape[rank - 1].clone();
                let rows = oshape[..rank - 1].to_vec();
                let x = load(0, axes(rank));
                // mean(x²) as a sum of x²/n (backends may sum in f64 and
                // divide once, as llama.cpp does); then (x * 1/sqrt(mean +
                // eps)) * w in that order
                let scale = load(2, axes(rank - 1)).add(flt(*eps)).rsqrt();
                vec![
                    Stage::reduce("rms_norm_mean", rows, f32, ReduceOp::Sum, vec![n.clone()], x.clone().mul(x.clone()).div(dim(&n).to_float())).with_class(KernelClass::Reduction),
                    Stage::map("rms_norm", oshape, f32, x.mul(scale).mul(load(1, vec![ax(rank - 1)]))),
                ]
            }
            Builtin::LayerNorm { eps } => {
                let n = ins[0].shape[rank - 1].clone();
                let nf = dim(&n).to_float();
                let rows = oshape[..rank - 1].to_vec();
                let x = load(0, axes(rank));
                let centered = x.clone().sub(load(3, axes(rank - 1)));
                let out = centered.clone().mul(load(4, axes(rank - 1)).add(flt(*eps)).rsqrt()).mul(load(1, vec![ax(rank - 1)])).add(load(2, vec![ax(rank - 1)]));
                vec![
                    Stage::reduce("layer_norm_mean", rows.clone(), f32, ReduceOp::Sum, vec![n.clone()], x.div(nf.clone())),
                    Stage::reduce("layer_norm_var", rows, f32, ReduceOp::Sum, vec![n], centered.clone().mul(centered).div(nf)),
                    Stage::map("layer_norm", oshape, f32, out),
                ]
            }
            Builtin::Rope(c) => {
                let nd = c.n_dims as i64;
                let d = ax(2);
                let x_at = |dd: Expr| load(0, vec![ax(0), ax(1), dd]);
                // pair index p and partner offset for this d
                let (p, is_first, partner) = if c.neox {
                    let half = nd / 2;
                    let first = d.clone().lt(int(half));
                    let p = d.clone().rem(int(half));
                    let partner = select(first.clone(), d.clone().add(int(half)), d.clone().sub(int(half)));
                    (p, first, partner)
                } else {
                    let first = d.clone().rem(int(2)).eq(int(0));
                    let p = d.clone().div(int(2));
                    let partner = select(first.clone(), d.clone().add(int(1)), d.clone().sub(int(1)));
                    (p, first, partner)
                };
                // Keep the partner index in bounds for the pass-through dims too.
                let partner = select(d.clone().lt(int(nd)), partner, d.clone());
                let pos = load(1, vec![ax(0)]).to_float();
                let theta = pos.mul(p.to_float().mul(flt(-2.0 * c.base.ln() / nd as f64)).exp());
                let (cos, sin) = (theta.clone().cos(), theta.sin());
                let rotated = select(
                    is_first,
                    x_at(d.clone()).mul(cos.clone()).sub(x_at(partner.clone()).mul(sin.clone())),
                    x_at(partner).mul(sin).add(x_at(d.clone()).mul(cos)),
                );
                vec![Stage::map(&self.name(), oshape, f32, select(d.clone().lt(int(nd)), rotated, x_at(d)))]
            }
            Builtin::RopeTable { neox } => {
                let nd = 2 * ins[1].shape[1].as_const().expect("checked by infer");
                let d = ax(2);
                let x_at = |dd: Expr| load(0, vec![ax(0), ax(1), dd]);
                let (p, is_first, partner) = if *neox {
                    let half = nd / 2;
                    let first = d.clone().lt(int(half));
                    (d.clone().rem(int(half)), first.clone(), select(first, d.clone().add(int(half)), d.clone().sub(int(half))))
                } else {
                    let first = d.clone().rem(int(2)).eq(int(0));
                    (d.clone().div(int(2)), first.clone(), select(first, d.clone().add(int(1)), d.clone().sub(int(1))))
                };
                // keep indices in bounds for the pass-through dims too
                let inside = d.clone().lt(int(nd));
                let partner = select(inside.clone(), partner, d.clone());
                let p = select(inside.clone(), p, int(0));
                let cos = load(1, vec![ax(0), p.clone(), int(0)]);
                let sin = load(1, vec![ax(0), p, int(1)]);
                let rotated = select(
                    is_first,
                    x_at(d.clone()).mul_add(cos.clone(), x_at(partner.clone()).mul(sin.clone()).neg()),
                    x_at(partner).mul_add(sin, x_at(d.clone()).mul(cos)),
                );
                vec![Stage::map(&self.name(), oshape, f32, select(inside, rotated, x_at(d)))]
            }
            Builtin::Gather => {
                let v = ins[0].shape[0].clone();
                let nid = ins[1].rank();
                let id = load(1, axes(nid)).max(int(0)).min(dim(&v).sub(int(1)));
                vec![Stage::map("gather", oshape, f32, load(0, vec![id, ax(nid)]))]
            }
            Builtin::Reshape(_) => {
                let flat = flat_index(&axes(rank), &oshape);
                let ishape = &ins[0].shape;
                let idx = (0..ishape.len())
                    .map(|i| {
                        let stride = product(&ishape[i + 1..]);
                        let q = if stride == Dim::new(1) { flat.clone() } else { flat.clone().div(dim(&stride)) };
                        if i == 0 { q } else { q.rem(dim(&ishape[i])) }
                    })
                    .collect();
                vec![Stage::map("reshape", oshape, out.dtype, load(0, idx))]
            }
            Builtin::Transpose(perm) => {
                let mut idx = vec![int(0); rank];
                for (i, &p) in perm.iter().enumerate() {
                    idx[p] = ax(i);
                }
                vec![Stage::map("transpose", oshape, out.dtype, load(0, idx))]
            }
            Builtin::Concat(axis) => {
                let a = *axis;
                let mut offset = Dim::new(0);
                let mut parts = Vec::new(); // (end of the part along the axis, its value)
                for (k, t) in ins.iter().enumerate() {
                    let len = t.shape[a].clone();
                    // clamped so the load stays in bounds where another part is selected
                    let local = ax(a).sub(dim(&offset)).max(int(0)).min(dim(&len).sub(int(1)));
                    let mut idx = axes(rank);
                    idx[a] = local;
                    offset = &offset + &len;
                    parts.push((offset.clone(), load(k, idx)));
                }
                let mut rev = parts.into_iter().rev();
                let mut body = rev.next().expect("concat has inputs").1;
                for (end, value) in rev {
                    body = select(ax(a).lt(dim(&end)), value, body);
                }
                vec![Stage::map("concat", oshape, out.dtype, body)]
            }
            Builtin::Slice { axis, start, .. } => {
                let mut idx = axes(rank);
                idx[*axis] = ax(*axis).add(dim(start));
                vec![Stage::map("slice", oshape, out.dtype, load(0, idx))]
            }
            Builtin::Attention { scale, causal } => {
                let (q, k, v) = (&ins[0], &ins[1], &ins[2]);
                let (s, t) = (q.shape[0].clone(), k.shape[0].clone());
                let group = q.shape[1].as_const().unwrap() / k.shape[1].as_const().unwrap();
                // query i attends to keys j <= T - S + i
                let visible = causal.then(|| ax(2).le(dim(&(&t - &s)).add(ax(1))));
                AttentionStages {
                    first: 3,
                    q: load(0, vec![ax(1), ax(0), ax(3)]),
                    key: load(1, vec![ax(2), ax(0).div(int(group)), ax(3)]),
                    value: load(2, vec![ax(3), ax(1).div(int(group)), ax(2)]),
                    visible,
                    heads: q.shape[1].clone(),
                    queries: s,
                    head_dim: q.shape[2].clone(),
                    keys: t,
                    scale: *scale,
                    probs_f16: v.dtype == DType::F16,
                    out_shape: oshape,
                }
                .stages()
            }
            Builtin::PagedAttention { scale, page } => {
                let (q, k, pages) = (&ins[0], &ins[1], &ins[5]);
                let group = q.shape[1].as_const().unwrap() / k.shape[1].as_const().unwrap();
                let (max_pages, pool_rows) = (pages.shape[1].clone(), ins[3].shape[0].clone());
                let page_len = int(*page as i64);
                // pool row of key j of sequence b, clamped into the pool
                let slot = |b: Expr, j: Expr| {
                    let p = j.clone().div(page_len.clone()).min(dim(&max_pages).sub(int(1)));
                    load(5, vec![b, p]).mul(page_len.clone()).add(j.rem(page_len.clone())).max(int(0)).min(dim(&pool_rows).sub(int(1)))
                };
                // keys before lens[b] from the pool, then the new one
                let cached = |b: Expr, j: Expr| j.lt(load(6, vec![b]));
                let (kv_head, vv_head) = (ax(0).div(int(group)), ax(1).div(int(group)));
                AttentionStages {
                    first: 7,
                    q: load(0, vec![ax(1), ax(0), ax(3)]),
                    key: select(cached(ax(1), ax(2)), load(3, vec![slot(ax(1), ax(2)), kv_head.clone(), ax(3)]), load(1, vec![ax(1), kv_head, ax(3)])),
                    value: select(cached(ax(0), ax(3)), load(4, vec![slot(ax(0), ax(3)), vv_head.clone(), ax(2)]), load(2, vec![ax(0), vv_head, ax(2)])),
                    visible: Some(ax(2).le(load(6, vec![ax(1)]))),
                    heads: q.shape[1].clone(),
                    queries: q.shape[0].clone(),
                    head_dim: q.shape[2].clone(),
                    keys: &max_pages * &Dim::new(*page as i64),
                    scale: *scale,
                    probs_f16: k.dtype == DType::F16,
                    out_shape: oshape,
                }
                .stages()
            }
            Builtin::Argmax => {
                let n = ins[0].shape[rank].clone();
                let x = load(0, axes(rank + 1));
                let first_max = select(x.clone().eq(load(1, axes(rank))), ax(rank), dim(&n));
                vec![
                    Stage::reduce("argmax_max", oshape.clone(), f32, ReduceOp::Max, vec![n.clone()], x),
                    Stage::reduce("argmax", oshape, DType::I32, ReduceOp::Min, vec![n], first_max),
                ]
            }
            Builtin::Dequantize => vec![Stage::map("dequantize", oshape, f32, load(0, axes(rank)))],
            Builtin::Quantize(to) => vec![Stage::map("quantize", oshape, *to, load(0, axes(rank))).with_class(KernelClass::Quantize)],
            Builtin::Cast(to) => {
                let x = load(0, axes(rank));
                let body = match (ins[0].dtype.scalar_kind(), to.scalar_kind()) {
                    (ScalarKind::Float, ScalarKind::Int) => x.to_int(),
                    (ScalarKind::Int, ScalarKind::Float) => x.to_float(),
                    _ => x,
                };
                vec![Stage::map(&self.name(), oshape, *to, body)]
            }
        }
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    fn ty(dtype: DType, shape: &[Dim]) -> TensorType {
        TensorType::new(dtype, shape.to_vec())
    }

    /// Every attention op's stages are recognized as the attention they
    /// are, and nothing else is: a changed stage, a missing one, another
    /// op's stages.
    #[test]
    fn attention_stages_are_recognized_from_what_they_compute() {
        let (s, t) = (Dim::sym("seq"), Dim::sym("past"));
        for (kv, causal) in [(DType::F16, true), (DType::F32, true), (DType::F32, false)] {
            let op = Builtin::Attention { scale: 0.125, causal };
            let ins = [ty(kv, &[s.clone(), 8.into(), 64.into()]), ty(kv, &[t.clone(), 2.into(), 64.into()]), ty(kv, &[t.clone(), 2.into(), 64.into()])];
            let out = op.infer(&ins).unwrap();
            let stages = op.compute(&ins, &out);
            let a = AttentionStages::recognize(&stages, 3).expect("attention recognized");
            assert_eq!((a.len(), a.scale, a.probs_f16, a.visible.is_some()), (stages.len(), 0.125, kv == DType::F16, causal));
            assert_eq!(a.q, load(0, vec![ax(1), ax(0), ax(3)]));
            // numbered from another first source, it is not the same
            assert!(AttentionStages::recognize(&stages, 4).is_none());
            let mut changed = stages.clone();
            changed[2].body = changed[2].body.clone().mul(flt(2.0));
            assert!(AttentionStages::recognize(&changed, 3).is_none());
            assert!(AttentionStages::recognize(&stages[..stages.len() - 1], 3).is_none());
            assert!(AttentionStages::recognize(&stages[1..], 4).is_none());
        }
        let op = Builtin::PagedAttention { scale: 0.5, page: 16 };
        let b = Dim::new(3);
        let pool = Dim::sym("pool_rows");
        let ins = [
            ty(DType::F16, &[b.clone(), 4.into(), 32.into()]),
            ty(DType::F16, &[b.clone(), 2.into(), 32.into()]),
            ty(DType::F16, &[b.clone(), 2.into(), 32.into()]),
            ty(DType::F16, &[pool.clone(), 2.into(), 32.into()]),
            ty(DType::F16, &[pool, 2.into(), 32.into()]),
            ty(DType::I32, &[b.clone(), Dim::sym("pages")]),
            ty(DType::I32, &[b]),
        ];
        let out = op.infer(&ins).unwrap();
        let stages = op.compute(&ins, &out);
        assert_eq!(AttentionStages::recognize(&stages, 7).map(|a| a.stages()), Some(stages));
        let rms = Builtin::RmsNorm { eps: 1e-5 };
        let ins = [ty(DType::F32, &[4.into(), 64.into()]), ty(DType::F32, &[64.into()])];
        assert!(AttentionStages::recognize(&rms.compute(&ins, &rms.infer(&ins).unwrap()), 2).is_none());
    }
}
