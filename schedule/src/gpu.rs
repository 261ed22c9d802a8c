//! The default GPU schedule of a naive nest: output points spread over
//! workgroups and invocations; a long reduction is shared by the
//! invocations of one workgroup, each keeping a partial result that the
//! workgroup combines (GEMV rows, norms, softmax parts).

use crate::error::ScheduleError;
use crate::nest::{LoopKind, LoopNest, Validated};
use crate::default::Recorder;
use crate::primitives::Trace;
use kiln_dsl::{DType, Expr, KernelClass};

/// Invocations per workgroup of the default schedules.
pub const GPU_WORKGROUP: i64 = 64;

/// Invocations reducing one value where a reduction has no other output:
/// a row of 4096 (a norm's mean of squares) in two steps of 8 values each,
/// not eight.
const MAX_REDUCE_THREADS: i64 = 256;

/// The vector widths [`GpuKnobs::vector_width`] may take.
pub const VECTOR_WIDTHS: [i64; 6] = [1, 2, 4, 8, 16, 32];

/// A reduction this short (constant) stays inside one invocation.
const SHORT_REDUCTION: i64 = 16;

/// What kind of processor runs a GPU adapter's shaders, which changes what
/// the default schedules favour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AdapterKind {
    /// A real GPU: workgroups share reductions.
    #[default]
    Gpu,
    /// A CPU implementation such as lavapipe, which runs workgroup barriers
    /// slowly (about 8 us per workgroup of 64 measured): each invocation
    /// keeps its own reductions.
    Cpu,
}

/// The knobs of the GPU schedules ([`gpu_schedule`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct GpuKnobs {
    /// Invocations sharing one output's reduction (a power of two; 1 keeps
    /// each reduction in one invocation).
    pub reduce_threads: i64,
    /// Outputs per workgroup for reductions (invocations `reduce_threads *
    /// outputs_per_group`), or invocations per workgroup for elementwise
    /// stages.
    pub outputs_per_group: i64,
    /// Consecutive elements each invocation takes per step (one of
    /// [`VECTOR_WIDTHS`]), as an innermost vectorized loop: the GPU code loads them
    /// with vector loads where it can prove the access aligned and in
    /// bounds, and the words of quantized blocks once for the lanes that
    /// share them. The integer-dot GEMV, which takes whole blocks of 32,
    /// reads it as blocks per step: a width over 8 (at least one).
    pub vector_width: i64,
    /// For a matmul over rows: each workgroup computes a `tile` x `tile`
    /// block of the last two output axes, one output per invocation, over
    /// chunks of `tile` of the reduction whose elements of the plain (f32,
    /// f16) operands it first stages in workgroup memory; 0 for none.
    pub tile: i64,
}

impl GpuKnobs {
    /// The default knobs for `nest` on `adapter`: on a GPU, a reduction of
    /// length L gets the power of two nearest L / 8 invocations (4 to 64;
    /// up to 256 for a reduction to one value), and enough outputs per
    /// workgroup to make 64 invocations (a GEMV of 8-bit activations with
    /// integer dot products: 2 outputs of 64 each); where L is
    /// a constant multiple of 8, each invocation takes 8 consecutive
    /// elements per step (vector loads: on the H100 a 4096x11008 f16 GEMV
    /// went from 104 to 37 us, and a 7B F16 decode step's matmuls from 15.1
    /// to 6.6 ms; `benches/RESULTS.md`). No tiles: one output per invocation
    /// with 16x16 tiles made prefill 2-2.5x slower on the H100 than these
    /// shared reductions (`benches/RESULTS.md`).
    pub fn default_for(nest: &LoopNest, adapter: AdapterKind) -> GpuKnobs {
        let rank = nest.out_rank();
        let reduction_len = reduction_len(nest);
        if nest.loops.len() == rank || reduction_len.is_some_and(|n| n <= SHORT_REDUCTION) || adapter == AdapterKind::Cpu {
            return GpuKnobs { reduce_threads: 1, outputs_per_group: GPU_WORKGROUP, vector_width: 1, tile: 0 };
        }
        // a reduction to one value (a decode row's norm) takes up to the
        // largest workgroup: there is no other output to keep lanes busy
        let one_output = nest.class == KernelClass::Reduction && nest.loops[..rank].iter().all(|l| l.const_extent() == Some(1));
        let most = if one_output { MAX_REDUCE_THREADS } else { GPU_WORKGROUP };
        let threads = reduction_len.map_or(GPU_WORKGROUP, |n| ((n / 8).max(1) as u64).next_power_of_two().clamp(4, most as u64) as i64);
        let vector_width = if reduction_len.is_some_and(|n| n % 8 == 0) { 8 } else { 1 };
        if int_dot_gemv(nest) && threads == GPU_WORKGROUP {
            return GpuKnobs { reduce_threads: threads, outputs_per_group: 2, vector_width, tile: 0 };
        }
        GpuKnobs { reduce_threads: threads, outputs_per_group: (GPU_WORKGROUP / threads).max(1), vector_width, tile: 0 }
    }

    /// Tiles of `tile` x `tile` outputs for a matmul over rows (prefill),
    /// its plain operands staged in workgroup memory `tile` reduction steps
    /// at a time; None where `nest` is not such a matmul.
    pub fn tiled(nest: &LoopNest, tile: i64) -> Option<GpuKnobs> {
        (tile > 0 && tileable(nest, tile)).then_some(GpuKnobs { reduce_threads: 1, outputs_per_group: 1, vector_width: 1, tile })
    }
}

/// Whether `nest` is a matmul of a few rows of Q8_0 activations (decode
/// with llama.cpp's arithmetic), which a GPU with integer dot products runs
/// a block of weights per invocation: there 64 invocations for 2 outputs
/// were the best of 32-256 x 1-8 on the H100 (`benches/RESULTS.md`).
fn int_dot_gemv(nest: &LoopNest) -> bool {
    let x = kiln_dsl::ops::matmul_t_operands(&nest.body).and_then(|(x, ..)| nest.sources.get(x as usize));
    nest.class == KernelClass::Matmul && x.is_some_and(|x| x.dtype == DType::Q8_0 && x.shape.first().and_then(|m| m.as_const()).is_some_and(|m| m <= kiln_dsl::ops::INT_DOT_ROWS))
}

/// The product of a naive nest's reduction extents, if all are constant.
fn reduction_len(nest: &LoopNest) -> Option<i64> {
    nest.loops[nest.out_rank()..].iter().try_fold(1i64, |acc, l| l.const_extent().map(|n| acc * n))
}

/// Whether `nest` is a matmul over rows (its last two output axes at least
/// `tile` long or symbolic, its reduction a constant multiple of `tile`)
/// with an operand that workgroup memory can stage.
fn tileable(nest: &LoopNest, tile: i64) -> bool {
    let rank = nest.out_rank();
    let long = |l: &crate::nest::Loop| l.const_extent().is_none_or(|n| n >= tile);
    nest.class == KernelClass::Matmul
        && rank >= 2
        && nest.loops.len() > rank
        && long(&nest.loops[rank - 2])
        && long(&nest.loops[rank - 1])
        && reduction_len(nest).is_some_and(|n| n % tile == 0)
        && !cacheable_sources(nest).is_empty()
}

/// Sources the body reads only as plain elements of an f32 or f16 tensor
/// (quantized ones are read through their bytes), at one index made of
/// stage axes and constants (a matmul's operands; not attention's scores,
/// whose RoPE reads each row at two places), so the tile is a box.
fn cacheable_sources(nest: &LoopNest) -> Vec<u32> {
    (0..nest.sources.len() as u32)
        .filter(|&s| {
            let mut plain = matches!(nest.sources[s as usize].dtype, DType::F32 | DType::F16);
            let mut indices: Vec<Vec<Expr>> = Vec::new();
            nest.body.visit(&mut |e| match e {
                Expr::Load { src, index } if *src == s => {
                    plain &= index.iter().all(|i| matches!(i, Expr::Axis(_) | Expr::Int(_)));
                    if !indices.contains(index) {
                        indices.push(index.clone());
                    }
                }
                Expr::LoadByte { src, .. } | Expr::LoadHalf { src, .. } if *src == s => plain = false,
                _ => {}
            });
            plain && indices.len() == 1
        })
        .collect()
}

/// The default GPU schedule ([`gpu_schedule`] with [`GpuKnobs::default_for`]).
pub fn default_gpu_schedule(nest: LoopNest, adapter: AdapterKind) -> Result<(Validated, Trace), ScheduleError> {
    let knobs = GpuKnobs::default_for(&nest, adapter);
    gpu_schedule(nest, &knobs)
}

/// A GPU schedule and the trace that reproduces it.
///
/// - A quantize stage: one 32-value block per invocation, its values the
///   innermost (serial) loop. (The GPU code generator builds its quantize
///   kernel whole, 8 invocations a block, from the stage alone: these knobs
///   do not change it.)
/// - Reductions with `reduce_threads` > 1: the fused output axes are split
///   into workgroups (`gpu_block.x`) of `outputs_per_group` outputs
///   (`gpu_thread.y`); the fused reduction axes are split so that
///   consecutive invocations (`gpu_thread.x`) read consecutive elements,
///   and each workgroup combines its invocations' partial results per output.
/// - With `vector_width` W > 1, the innermost loop (the reduction's, or the
///   output's where there is no reduction) is first split by W and its
///   inner part vectorized: each invocation takes W consecutive elements.
/// - Everything else: all output axes fused, split into workgroups
///   (`gpu_block.x`) of `outputs_per_group` invocations (`gpu_thread.x`);
///   a reduction runs serially in each invocation.
pub fn gpu_schedule(nest: LoopNest, knobs: &GpuKnobs) -> Result<(Validated, Trace), ScheduleError> {
    let rank = nest.out_rank();
    let spatial: Vec<u32> = (0..rank as u32).collect();
    let reductions: Vec<u32> = (rank as u32..nest.loops.len() as u32).collect();
    let mut r = Recorder::new(nest);
    let bad = |r: &Recorder, message: String| ScheduleError::IllTyped { kernel: r.nest.name.clone(), message };
    if knobs.reduce_threads < 1 || knobs.outputs_per_group < 1 || knobs.reduce_threads * knobs.outputs_per_group > 256 {
        return Err(bad(&r, format!("{knobs:?} makes workgroups of more than 256 or fewer than 1 invocations")));
    }
    if !VECTOR_WIDTHS.contains(&knobs.vector_width) {
        return Err(bad(&r, format!("{knobs:?}: the vector width is one of {VECTOR_WIDTHS:?}")));
    }
    let w = knobs.vector_width;
    if r.nest.class == KernelClass::Quantize {
        // one 32-value block per invocation: the block's values are the
        // innermost loop (op inference makes the last axis whole blocks)
        let last = *spatial.last().ok_or_else(|| bad(&r, "a quantize stage needs an axis of blocks".into()))?;
        let (blocks, _) = r.split(last, 32)?;
        let outer: Vec<u32> = spatial[..rank - 1].iter().copied().chain([blocks]).collect();
        let p = r.fuse_all(&outer)?.expect("at least the blocks loop");
        let (o, i) = r.split(p, knobs.outputs_per_group)?;
        r.annotate(o, LoopKind::GpuBlock(0))?;
        r.annotate(i, LoopKind::GpuThread(0))?;
        let Recorder { nest, trace } = r;
        return Ok((nest.validate()?, trace));
    }
    if knobs.tile != 0 {
        if knobs.tile < 0 || !tileable(&r.nest, knobs.tile) || knobs.tile * knobs.tile > 256 {
            return Err(bad(&r, format!("{knobs:?}: tile {} does not fit this nest (a matmul over rows whose reduction is a multiple of it, at most 16x16 invocations)", knobs.tile)));
        }
        let rank = spatial.len();
        let (mo, mi) = r.split(spatial[rank - 2], knobs.tile)?;
        let (no, ni) = r.split(spatial[rank - 1], knobs.tile)?;
        let red = r.fuse_all(&reductions)?.expect("a matmul reduces");
        let (ko, ki) = r.split(red, knobs.tile)?;
        let outer: Vec<u32> = spatial[..rank - 2].iter().copied().chain([mo, no]).collect();
        r.step(crate::primitives::Step::Reorder { loops: outer.iter().copied().chain([mi, ni, ko, ki]).collect() })?;
        let block = r.fuse_all(&outer)?.expect("the tiles' loops");
        r.annotate(block, LoopKind::GpuBlock(0))?;
        r.annotate(mi, LoopKind::GpuThread(1))?;
        r.annotate(ni, LoopKind::GpuThread(0))?;
        for src in cacheable_sources(&r.nest) {
            r.step(crate::primitives::Step::CacheRead { src, at: ko })?;
        }
        let Recorder { nest, trace } = r;
        return Ok((nest.validate()?, trace));
    }
    let mut outputs = r.fuse_all(&spatial)?;
    if reductions.is_empty() || knobs.reduce_threads == 1 {
        let mut lanes = None;
        if let Some(p) = outputs.filter(|_| reductions.is_empty() && w > 1) {
            let (o, v) = r.split(p, w)?;
            outputs = Some(o);
            lanes = Some(v);
        }
        if let Some(p) = outputs {
            let (o, i) = r.split(p, knobs.outputs_per_group)?;
            r.annotate(o, LoopKind::GpuBlock(0))?;
            r.annotate(i, LoopKind::GpuThread(0))?;
        }
        if let Some(v) = lanes {
            r.annotate(v, LoopKind::Vectorized)?;
        }
        if w > 1 && !reductions.is_empty() {
            let red = r.fuse_all(&reductions)?.expect("a reduction has axes");
            let (_, v) = r.split(red, w)?;
            r.annotate(v, LoopKind::Vectorized)?;
        }
    } else {
        if let Some(p) = outputs {
            if knobs.outputs_per_group > 1 {
                let (o, i) = r.split(p, knobs.outputs_per_group)?;
                r.annotate(o, LoopKind::GpuBlock(0))?;
                r.annotate(i, LoopKind::GpuThread(1))?;
            } else {
                r.annotate(p, LoopKind::GpuBlock(0))?;
            }
        }
        let mut red = r.fuse_all(&reductions)?.expect("a reduction has axes");
        let mut lanes = None;
        if w > 1 {
            let (o, v) = r.split(red, w)?;
            red = o;
            lanes = Some(v);
        }
        let (_, i) = r.split(red, knobs.reduce_threads)?;
        r.annotate(i, LoopKind::GpuThread(0))?;
        if let Some(v) = lanes {
            r.annotate(v, LoopKind::Vectorized)?;
        }
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
        let (v, trace) = default_gpu_schedule(nest.clone(), AdapterKind::Gpu).unwrap();
        let text = v.to_string();
        assert!(text.contains("gpu_block.x") && text.contains("gpu_thread.x"), "{text}");
        assert_eq!(trace.apply(nest).unwrap().validate().unwrap(), v);

        let stage = Stage::reduce("row_sum", vec![n.clone()], DType::F32, ReduceOp::Sum, vec![Dim::new(1000)], load(0, vec![ax(0), ax(1)]));
        let nest = LoopNest::from_stage(&stage, &[(DType::F32, vec![n.clone(), Dim::new(1000)])]).unwrap();
        let (v, _) = default_gpu_schedule(nest, AdapterKind::Gpu).unwrap();
        let threads = v.nest().loops.iter().find(|l| l.kind == LoopKind::GpuThread(0)).unwrap();
        assert!(threads.reduction && threads.const_extent() == Some(GPU_WORKGROUP), "{v}");
        let rows = v.nest().loops.iter().find(|l| l.kind == LoopKind::GpuThread(1));
        assert!(rows.is_none(), "one output per workgroup of 64: {v}");
    }
}
