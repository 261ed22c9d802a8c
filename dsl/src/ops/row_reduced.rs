//! A stage and the reduction over each of its rows that it reads (an
//! RMSNorm's mean of squares before the scaling of the rows, or before the
//! quantization of the normed activations: llama.cpp's arithmetic), which a
//! backend able to runs as one kernel whose workgroups each compute their
//! row's reduction before they write the row's values (the GPU's,
//! [`RowReduced`]).
//!
//! The op computes the same stages either way, so a backend that runs
//! stages one by one (the CPU's, the reference interpreter) sees no
//! difference.

use crate::dim::Dim;
use crate::dtype::DType;
use crate::expr::{ax, load, Expr, KernelClass, Stage};

/// Values of a row that one GPU quantize workgroup packs (8 blocks of 32):
/// a fused row reduction needs rows of whole spans, so that each
/// workgroup's values lie in one row.
pub const QUANTIZE_SPAN: i64 = 256;

/// What an f32 row's length must be a multiple of for its row reduction to
/// fuse: the invocations of the GPU's workgroup that takes a whole row.
pub const F32_ROW_SPAN: i64 = 64;

/// The one kernel of an op whose stages are a reduction to one value per
/// row and a stage reading that value at its own row only: a quantize
/// stage, or an elementwise stage writing f32.
#[derive(Clone, Debug, PartialEq)]
pub struct RowReduced {
    /// The reduction: one f32 value per row of the stage's output (its
    /// shape but the last axis), over one axis as long as a row.
    pub reduction: Stage,
    /// The stage: source `n_inputs` of the op is the reduction, read at the
    /// row of the point being written and nowhere else. A quantize stage's
    /// rows are whole [`QUANTIZE_SPAN`]s, an f32 stage's whole
    /// [`F32_ROW_SPAN`]s.
    pub stage: Stage,
}

impl RowReduced {
    /// The kernel of an op's `stages` (reading `n_inputs` inputs), if they
    /// are such a reduction and stage (see the type's docs).
    pub fn of(stages: &[Stage], n_inputs: usize) -> Option<RowReduced> {
        let [reduction, stage] = stages else { return None };
        let reduce = reduction.reduce.as_ref()?;
        let (last, rows) = stage.shape.split_last()?;
        let span = match (stage.class, stage.dtype) {
            (KernelClass::Quantize, _) => QUANTIZE_SPAN,
            (KernelClass::Elementwise, DType::F32) => F32_ROW_SPAN,
            _ => return None,
        };
        let fits = stage.reduce.is_none()
            && reduce.extents.len() == 1
            && reduction.dtype == DType::F32
            && reduction.shape == rows
            && reduce.extents[0] == *last
            && last.as_const().is_some_and(|k| k > 0 && k % span == 0);
        if !fits {
            return None;
        }
        let own = load(n_inputs, (0..rows.len()).map(ax).collect());
        let mut only_own = true;
        stage.body.visit(&mut |e| match e {
            Expr::Load { src, .. } if *src as usize == n_inputs => only_own &= *e == own,
            Expr::LoadByte { src, .. } | Expr::LoadHalf { src, .. } if *src as usize == n_inputs => only_own = false,
            _ => {}
        });
        only_own.then(|| RowReduced { reduction: reduction.clone(), stage: stage.clone() })
    }

    /// Whether the stage quantizes (else it writes f32 values).
    pub fn quantizes(&self) -> bool {
        self.stage.class == KernelClass::Quantize
    }

    /// The reduction's length (its one axis).
    pub fn reduced(&self) -> &Dim {
        &self.reduction.reduce.as_ref().expect("a reduction (checked by `of`)").extents[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Builtin, OpDef, TensorType};
    use crate::ReduceOp;

    fn norm_then_quantize(k: i64, to: DType) -> Vec<Stage> {
        let (x, w) = (TensorType::new(DType::F32, vec![Dim::new(3), Dim::new(k)]), TensorType::new(DType::F32, vec![Dim::new(k)]));
        let norm = Builtin::RmsNorm { eps: 1e-5 };
        let mut stages = norm.compute(&[x.clone(), w.clone()], &norm.infer(&[x.clone(), w.clone()]).unwrap());
        // the scaling step inlined into the quantization (what fusion makes)
        let scaled = stages.pop().unwrap();
        stages.push(Stage { name: "quantize".into(), dtype: to, class: KernelClass::Quantize, ..scaled });
        stages
    }

    fn norm(k: i64) -> Vec<Stage> {
        let (x, w) = (TensorType::new(DType::F32, vec![Dim::new(3), Dim::new(k)]), TensorType::new(DType::F32, vec![Dim::new(k)]));
        let norm = Builtin::RmsNorm { eps: 1e-5 };
        norm.compute(&[x.clone(), w.clone()], &norm.infer(&[x.clone(), w.clone()]).unwrap())
    }

    #[test]
    fn a_norms_mean_read_by_its_quantization_is_one_kernel() {
        for to in [DType::Q8_0, DType::Q8_1] {
            let plan = RowReduced::of(&norm_then_quantize(512, to), 2).expect("recognized");
            assert_eq!((plan.reduction.reduce.as_ref().unwrap().op, plan.reduced(), plan.quantizes()), (ReduceOp::Sum, &Dim::new(512), true));
        }
    }

    #[test]
    fn a_norms_mean_and_its_f32_scaling_are_one_kernel() {
        for k in [64, 576, 4096] {
            let plan = RowReduced::of(&norm(k), 2).unwrap_or_else(|| panic!("rows of {k}"));
            assert_eq!((plan.reduced(), plan.quantizes()), (&Dim::new(k), false));
        }
    }

    #[test]
    fn other_stages_are_not() {
        // rows of 18 blocks (SmolLM2's 576): a workgroup's span would cross rows
        assert!(RowReduced::of(&norm_then_quantize(576, DType::Q8_0), 2).is_none());
        // f32 rows that are not whole spans of the workgroup's invocations
        assert!(RowReduced::of(&norm(96), 2).is_none());
        // the mean read at another row
        let mut stages = norm_then_quantize(256, DType::Q8_0);
        stages[1].body = stages[1].body.rewrite(&mut |e| matches!(e, Expr::Load { src: 2, .. }).then(|| load(2, vec![Expr::Int(0)])));
        assert!(RowReduced::of(&stages, 2).is_none());
        // neither a quantization nor an f32 map
        let mut stages = norm(256);
        stages[1] = Stage { dtype: DType::F16, ..stages[1].clone() };
        assert!(RowReduced::of(&stages, 2).is_none());
        let mut stages = norm(256);
        stages[1] = Stage { class: KernelClass::Matmul, ..stages[1].clone() };
        assert!(RowReduced::of(&stages, 2).is_none());
        // one stage, or three
        let stages = norm_then_quantize(256, DType::Q8_0);
        assert!(RowReduced::of(&stages[1..], 2).is_none());
        assert!(RowReduced::of(&[stages[0].clone(), stages[0].clone(), stages[1].clone()], 2).is_none());
    }
}
