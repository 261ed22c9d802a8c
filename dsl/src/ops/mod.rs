//! Ops: the [`OpDef`] trait every op implements, and kiln's built-in ops.
//!
//! An op is two functions: type inference (shape checking) and its compute
//! definition as tensor-expression [`Stage`]s. Nothing else — no per-backend
//! code — so a user-defined op implements this trait and runs everywhere.

use crate::dim::{shape_str, Dim};
use crate::dtype::DType;
use crate::expr::Stage;
use std::fmt;

mod attention;
mod builtin;
mod fused;
mod row_reduced;

pub use attention::{AttentionKernel, AttentionPlan};
pub use builtin::{AttentionStages, Builtin, Elementwise, RopeConfig};
pub use fused::{absorb_epilogue, inline_stages, matmul_t_operands, Arg, Fused, Member, INT_DOT_ROWS};
pub use row_reduced::{RowReduced, F32_ROW_SPAN, QUANTIZE_SPAN};

/// Whether `op`, writing `output`, only gives its one operand's values a
/// new shape (a reshape of unquantized values: their row-major order and
/// bytes unchanged), so that a backend may read the operand's buffer
/// wherever the result is read and launch nothing for it.
pub fn is_view(op: &dyn OpDef, output: &TensorType) -> bool {
    matches!(op.as_builtin(), Some(Builtin::Reshape(_))) && !output.dtype.is_quantized()
}

/// The type of a tensor value in a graph: dtype and (possibly symbolic) shape.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TensorType {
    /// Element type.
    pub dtype: DType,
    /// Shape.
    pub shape: Vec<Dim>,
}

impl TensorType {
    /// A tensor type.
    pub fn new(dtype: DType, shape: Vec<Dim>) -> TensorType {
        TensorType { dtype, shape }
    }
    /// Rank.
    pub fn rank(&self) -> usize {
        self.shape.len()
    }
}

impl fmt::Display for TensorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.dtype, shape_str(&self.shape))
    }
}

/// An operation on tensors, defined by tensor expressions.
pub trait OpDef: fmt::Debug + Send + Sync {
    /// Name with attributes, as shown in errors, graph text and kernel names.
    fn name(&self) -> String;

    /// The output type for these input types, or a message saying what does
    /// not fit (the caller adds the op name and input types).
    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, String>;

    /// The stages that compute the output; the last one is the op's result.
    /// Stage `k` sees the op inputs as sources `0..n` and earlier stages as
    /// sources `n..n+k`. Every load must be in bounds at every point of the
    /// stage's iteration space (selects evaluate both arms).
    fn compute(&self, inputs: &[TensorType], output: &TensorType) -> Vec<Stage>;

    /// Conditions on symbolic dims that can only be checked once they are
    /// bound: each `(a, b, what)` requires `a <= b`. Executors check them
    /// before running, so no kernel reads out of bounds.
    fn constraints(&self, _inputs: &[TensorType]) -> Vec<(Dim, Dim, String)> {
        Vec::new()
    }

    /// The op as a [`Fused`] group, if it is one (so composing flattens).
    fn as_fused(&self) -> Option<&Fused> {
        None
    }

    /// The op as a [`Builtin`], if it is one (rewrite rules match on these).
    fn as_builtin(&self) -> Option<&Builtin> {
        None
    }

    /// The op as one stage split off another op (the graph optimizer's
    /// `StageOf`), if it is one, so the optimizer does not split it again.
    fn as_any_stage(&self) -> Option<&dyn std::any::Any> {
        None
    }

    /// The op as an attention run as one kernel where the backend can
    /// ([`AttentionKernel`], the graph optimizer's substitution).
    fn as_attention_kernel(&self) -> Option<&AttentionKernel> {
        None
    }
}
