//! The default GPU schedule of a naive nest: output points spread over
//! workgroups and invocations; a long reduction is shared by the
//! invocations of one workgroup, each keeping a partial result that the
//! workgroup combines (GEMV rows, norms, softmax parts).

use crate::error::ScheduleError;
use crate::nest::{LoopKind, LoopNest, Validated};
use crate::primitives::{Step, Trace};
use kiln_dsl::{Expr, KernelClass};

/// Invocations per workgroup of the default schedules.
pub const GPU_WORKGROUP: i64 = 64;

/// A reduction this short (constant) stays inside one invocation.
const SHORT_REDUCTION: i64 = 16;

struct Recorder {
    nest: LoopNest,
    trace: Trace,
}

impl Recorder {
    fn step(&mut self, s: Step) -> Result<(), ScheduleError> {
        self.nest = s.apply(self.nest.clone())?;
        self.trace.steps.push(s);
        Ok(())
    }

    fn split(&mut self, loop_id: u32, factor: i64) -> Result<(u32, u32), ScheduleError> {
        let next = self.nest.next_id;
        self.step(Step::Split { loop_id, factor })?;
        Ok((next, next + 1))
    }

    fn fuse_all(&mut self, ids: &[u32]) -> Result<Option<u32>, ScheduleError> {
        let mut it = ids.iter();
        let Some(mut acc) = it.next().copied() else { return Ok(None) };
        for &id in it {
            let next = self.nest.next_id;
            self.step(Step::Fuse { outer: acc, inner: id })?;
            acc = next;
        }
        Ok(Some(acc))
    }
}

/// The default GPU schedule and the trace that reproduces it.
///
/// - A quantize stage: one 32-value block per invocation, its values the
///   innermost (serial) loop.
/// - No reduction, or a short constant one: all output axes fused, split by
///   [`GPU_WORKGROUP`] into workgroups (`gpu_block.x`) and invocations
///   (`gpu_thread.x`); the reduction runs serially in each invocation.
/// - Otherwise one workgroup per output point (`gpu_block.x` over the fused
///   output axes); the fused reduction axes are split so that consecutive
///   invocations read consecutive elements (`gpu_thread.x` inside), and the
///   workgroup combines its invocations' partial results.
pub fn default_gpu_schedule(nest: LoopNest) -> Result<(Validated, Trace), ScheduleError> {
    let rank = nest.out_rank();
    let spatial: Vec<u32> = (0..rank as u32).collect();
    let reductions: Vec<u32> = (rank as u32..nest.loops.len() as u32).collect();
    let reduction_len = reductions.iter().try_fold(1i64, |acc, &id| match nest.loops[id as usize].extent {
        Expr::Int(n) => Some(acc * n),
        _ => None,
    });
    let mut r = Recorder { nest, trace: Trace::default() };
    if r.nest.class == KernelClass::Quantize {
        // one 32-value block per invocation: the block's values are the
        // innermost loop (op inference makes the last axis whole blocks)
        let last = *spatial.last().ok_or_else(|| ScheduleError::IllTyped { kernel: r.nest.name.clone(), message: "a quantize stage needs an axis of blocks".into() })?;
        let (blocks, _) = r.split(last, 32)?;
        let outer: Vec<u32> = spatial[..rank - 1].iter().copied().chain([blocks]).collect();
        let p = r.fuse_all(&outer)?.expect("at least the blocks loop");
        let (o, i) = r.split(p, GPU_WORKGROUP)?;
        r.step(Step::Annotate { loop_id: o, kind: LoopKind::GpuBlock(0) })?;
        r.step(Step::Annotate { loop_id: i, kind: LoopKind::GpuThread(0) })?;
        let Recorder { nest, trace } = r;
        return Ok((nest.validate()?, trace));
    }
    let short = reduction_len.is_some_and(|n| n <= SHORT_REDUCTION);
    let outputs = r.fuse_all(&spatial)?;
    if reductions.is_empty() || short {
        if let Some(p) = outputs {
            let (o, i) = r.split(p, GPU_WORKGROUP)?;
            r.step(Step::Annotate { loop_id: o, kind: LoopKind::GpuBlock(0) })?;
            r.step(Step::Annotate { loop_id: i, kind: LoopKind::GpuThread(0) })?;
        }
    } else {
        if let Some(p) = outputs {
            r.step(Step::Annotate { loop_id: p, kind: LoopKind::GpuBlock(0) })?;
        }
        let red = r.fuse_all(&reductions)?.expect("a reduction has axes");
        // the smallest power of two covering a short reduction, else a full workgroup
        let threads = reduction_len.map_or(GPU_WORKGROUP, |n| (n as u64).next_power_of_two().min(GPU_WORKGROUP as u64) as i64);
        let (_, i) = r.split(red, threads)?;
        r.step(Step::Annotate { loop_id: i, kind: LoopKind::GpuThread(0) })?;
    }
    let Recorder { nest, trace } = r;
    Ok((nest.validate()?, trace))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_dsl::{ax, load, DType, Dim, ReduceOp, Stage};

    #[test]
    fn elementwise_and_reductions_bind_gpu_ids() {
        let n = Dim::sym("n");
        let stage = Stage::map("double", vec![n.clone(), Dim::new(3)], DType::F32, load(0, vec![ax(0), ax(1)]).mul(kiln_dsl::flt(2.0)));
        let nest = LoopNest::from_stage(&stage, &[(DType::F32, vec![n.clone(), Dim::new(3)])]).unwrap();
        let (v, trace) = default_gpu_schedule(nest.clone()).unwrap();
        let text = v.to_string();
        assert!(text.contains("gpu_block.x") && text.contains("gpu_thread.x"), "{text}");
        assert_eq!(trace.apply(nest).unwrap().validate().unwrap(), v);

        let stage = Stage::reduce("row_sum", vec![n.clone()], DType::F32, ReduceOp::Sum, vec![Dim::new(1000)], load(0, vec![ax(0), ax(1)]));
        let nest = LoopNest::from_stage(&stage, &[(DType::F32, vec![n.clone(), Dim::new(1000)])]).unwrap();
        let (v, _) = default_gpu_schedule(nest).unwrap();
        let threads = v.nest().loops.iter().find(|l| l.kind == LoopKind::GpuThread(0)).unwrap();
        assert!(threads.reduction && threads.const_extent() == Some(GPU_WORKGROUP), "{v}");
    }
}
