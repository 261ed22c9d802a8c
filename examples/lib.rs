//! Worked examples of kiln's DSL, shared by the runnable examples and tests.
//!
//! - [`toy_llama`]: a small Llama-style transformer (RMSNorm, RoPE,
//!   grouped-query attention over a KV cache, SwiGLU MLP, tied output head)
//!   written as a module whose `prefill` and `decode` functions share
//!   quantized parameters.
//! - [`L2Normalize`]: a user-defined op, written once as tensor expressions
//!   and run by every backend.
//! - [`rewriting`]: a rewrite rule and a pass added to the graph optimizer
//!   from outside kiln.
#![warn(missing_docs)]

pub mod rewriting;
pub mod toy_llama;

use kiln_dsl::{ax, load, Dim, DType, OpDef, ReduceOp, Stage, TensorType};

/// `x / sqrt(sum(x²) + eps)` over the last axis — an op kiln does not ship,
/// defined outside kiln in two stages: a reduction and a map.
#[derive(Debug, Clone, Copy)]
pub struct L2Normalize {
    /// Added under the square root.
    pub eps: f64,
}

impl OpDef for L2Normalize {
    fn name(&self) -> String {
        format!("l2_normalize(eps={})", self.eps)
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, String> {
        match inputs {
            [x] if x.dtype == DType::F32 && x.rank() >= 1 => Ok(x.clone()),
            [x] => Err(format!("needs an f32 tensor with at least one axis, got {x}")),
            _ => Err(format!("takes one input, got {}", inputs.len())),
        }
    }

    fn compute(&self, inputs: &[TensorType], output: &TensorType) -> Vec<Stage> {
        let rank = output.rank();
        let n: Dim = inputs[0].shape[rank - 1].clone();
        let rows = output.shape[..rank - 1].to_vec();
        let all: Vec<_> = (0..rank).map(ax).collect();
        let row: Vec<_> = (0..rank - 1).map(ax).collect();
        let x = load(0, all);
        vec![
            // source 1: the sum of squares of each row (reduction axis = `rank - 1`)
            Stage::reduce("l2_sumsq", rows, DType::F32, ReduceOp::Sum, vec![n], x.clone().mul(x.clone())),
            // the result: each element over its row's norm
            Stage::map("l2_normalize", output.shape.clone(), DType::F32, x.mul(load(1, row).add(kiln_dsl::flt(self.eps)).rsqrt())),
        ]
    }
}
