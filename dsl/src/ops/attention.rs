//! Attention as one kernel: the op the graph optimizer substitutes for an
//! attention op ([`AttentionKernel`]), and the kernel its stages make where a
//! backend runs them together ([`AttentionPlan`]).
//!
//! The op computes what the attention op it wraps computes, in the same
//! stages, so a backend that runs stages one by one (the CPU's, the
//! reference interpreter) sees no difference. A backend that can run an
//! attention as one kernel (the GPU's) asks [`AttentionPlan::of`] for the
//! kernel of such an op: the attention's stages, and before them at most
//! one elementwise stage computing the queries (a RoPE and a rounding to
//! f16 fused into it: the query's *prologue*), which the kernel computes
//! once per query and head instead of storing.

use super::{AttentionStages, Builtin, OpDef, TensorType};
use crate::dim::Dim;
use crate::dtype::DType;
use crate::expr::{ax, load, Expr, KernelClass, Stage};

/// An attention op ([`Builtin::Attention`] or [`Builtin::PagedAttention`])
/// that a backend able to should run as one kernel; the graph optimizer's
/// substitution. Same inputs, result and stages as the op.
#[derive(Clone, Debug)]
pub struct AttentionKernel {
    /// The attention op.
    pub attention: Builtin,
}

impl AttentionKernel {
    /// `op` as one kernel, if it is an attention op.
    pub fn of(op: &Builtin) -> Option<AttentionKernel> {
        matches!(op, Builtin::Attention { .. } | Builtin::PagedAttention { .. }).then(|| AttentionKernel { attention: op.clone() })
    }
}

impl OpDef for AttentionKernel {
    fn name(&self) -> String {
        format!("one_kernel({})", self.attention.name())
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, String> {
        self.attention.infer(inputs)
    }

    fn compute(&self, inputs: &[TensorType], output: &TensorType) -> Vec<Stage> {
        self.attention.compute(inputs, output)
    }

    fn constraints(&self, inputs: &[TensorType]) -> Vec<(Dim, Dim, String)> {
        self.attention.constraints(inputs)
    }

    fn as_attention_kernel(&self) -> Option<&AttentionKernel> {
        Some(self)
    }
}

/// The one kernel an [`AttentionKernel`] (alone, or last in a fused op)
/// runs as: the attention, and the stage computing its queries if the op
/// has one.
#[derive(Clone, Debug, PartialEq)]
pub struct AttentionPlan {
    /// An elementwise stage, source `n_inputs` of the op, whose result the
    /// attention reads as its queries only (`q[s, h, d]` at the stage's
    /// point `(s, h, d)`), rounded to the stage's type.
    pub prologue: Option<Stage>,
    /// The attention's stages, after the prologue.
    pub attention: AttentionStages,
}

/// Workgroups a split attention aims at ([`AttentionPlan::key_splits`]):
/// the H100's 132 multiprocessors take 4 each, and fewer multiprocessors
/// more.
const SPLIT_WORKGROUPS: i64 = 512;

/// Most splits of one query's keys.
const MAX_SPLITS: i64 = 64;

impl AttentionPlan {
    /// Workgroups a GPU that splits the keys of few queries over several
    /// (decode) gives each query and head: as many as make 512 with the
    /// queries and heads (a constant number of queries), at most 64; 1 (one
    /// workgroup per query and head, the whole attention in one kernel)
    /// where that is under 2 or the queries are symbolic (a prompt).
    pub fn key_splits(&self) -> i64 {
        let at = &self.attention;
        match (at.queries.as_const(), at.heads.as_const()) {
            (Some(q), Some(h)) if q > 0 && h > 0 => (SPLIT_WORKGROUPS / (q * h)).min(MAX_SPLITS).max(1),
            _ => 1,
        }
    }

    /// Kernels the attention runs as on a backend that runs it whole:
    /// three where it splits the keys (`split_keys` and
    /// [`AttentionPlan::key_splits`] over 1: scores, weighted values, their
    /// sum), else one.
    pub fn kernels(&self, split_keys: bool) -> usize {
        if split_keys && self.key_splits() > 1 {
            3
        } else {
            1
        }
    }

    /// The one kernel of `op`, whose stages (reading `n_inputs` inputs) are
    /// `stages`, if `op` is an [`AttentionKernel`] (or a fused op ending
    /// in one) and its stages are an attention, possibly after a prologue.
    pub fn of(op: &dyn OpDef, stages: &[Stage], n_inputs: usize) -> Option<AttentionPlan> {
        let wants = op.as_attention_kernel().is_some() || op.as_fused().and_then(|f| f.members.last()).is_some_and(|m| m.op.as_attention_kernel().is_some());
        if !wants {
            return None;
        }
        match stages {
            [prologue, rest @ ..] if prologue.reduce.is_none() && prologue.class == KernelClass::Elementwise && matches!(prologue.dtype, DType::F32 | DType::F16) => {
                let attention = AttentionStages::recognize(rest, n_inputs + 1)?;
                let src = n_inputs;
                // the queries, read where the prologue computes them and nowhere else
                let reads = |e: &Expr| {
                    let mut reads = false;
                    e.visit(&mut |x| reads |= matches!(x, Expr::Load { src: s, .. } | Expr::LoadByte { src: s, .. } | Expr::LoadHalf { src: s, .. } if *s as usize == src));
                    reads
                };
                let own = attention.q == load(src, vec![ax(1), ax(0), ax(3)]) && prologue.shape == [attention.queries.clone(), attention.heads.clone(), attention.head_dim.clone()];
                let elsewhere = reads(&attention.key) || reads(&attention.value) || attention.visible.as_ref().is_some_and(reads);
                (own && !elsewhere && rest.len() == attention.len()).then(|| AttentionPlan { prologue: Some(prologue.clone()), attention })
            }
            _ => AttentionStages::recognize(stages, n_inputs).filter(|a| a.len() == stages.len()).map(|attention| AttentionPlan { prologue: None, attention }),
        }
    }
}
