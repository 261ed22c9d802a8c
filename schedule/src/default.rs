//! The default schedule of each kernel class, for a target described by
//! [`Target`]. The autotuner searches around these; they must be legal and
//! reasonable for every shape, including odd and symbolic ones.

use crate::error::ScheduleError;
use crate::nest::{LoopKind, LoopNest, Validated};
use crate::primitives::{Step, Trace};
use kiln_dsl::{Expr, KernelClass, ScalarKind};
use serde::{Deserialize, Serialize};

/// What the default schedules need to know about the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// f32 lanes of one SIMD register (4 for 128-bit SIMD).
    pub vector_lanes: i64,
}

impl Target {
    /// The Cranelift CPU target: 128-bit SIMD.
    pub const CPU: Target = Target { vector_lanes: 4 };
}

/// Applies steps while recording them.
pub(crate) struct Recorder {
    pub nest: LoopNest,
    pub trace: Trace,
}

impl Recorder {
    /// Start recording on `nest`.
    pub fn new(nest: LoopNest) -> Recorder {
        Recorder { nest, trace: Trace::default() }
    }
    pub fn step(&mut self, s: Step) -> Result<(), ScheduleError> {
        self.nest = s.apply(self.nest.clone())?;
        self.trace.steps.push(s);
        Ok(())
    }
    /// Split and return (outer, inner) ids.
    pub fn split(&mut self, loop_id: u32, factor: i64) -> Result<(u32, u32), ScheduleError> {
        let next = self.nest.next_id;
        self.step(Step::Split { loop_id, factor })?;
        Ok((next, next + 1))
    }
    /// Fuse `ids` (each directly inside the one before) into one loop.
    pub fn fuse_all(&mut self, ids: &[u32]) -> Result<Option<u32>, ScheduleError> {
        let mut it = ids.iter();
        let Some(mut acc) = it.next().copied() else { return Ok(None) };
        for &id in it {
            let next = self.nest.next_id;
            self.step(Step::Fuse { outer: acc, inner: id })?;
            acc = next;
        }
        Ok(Some(acc))
    }
    pub fn annotate(&mut self, loop_id: u32, kind: LoopKind) -> Result<(), ScheduleError> {
        self.step(Step::Annotate { loop_id, kind })
    }
}

/// How often stage axis `axis` is the innermost (contiguous) index of a
/// load, minus how often it indexes an outer axis.
fn contiguity(body: &Expr, axis: u32) -> i64 {
    let mut score = 0;
    body.visit(&mut |e| {
        if let Expr::Load { index, .. } = e {
            for (k, ix) in index.iter().enumerate() {
                let mut uses = false;
                ix.visit(&mut |x| uses |= *x == Expr::Axis(axis));
                if uses {
                    score += if k + 1 == index.len() && *ix == Expr::Axis(axis) { 1 } else { -1 };
                }
            }
        }
    });
    score
}

fn big_enough(e: &Expr, n: i64) -> bool {
    match e {
        Expr::Int(v) => *v >= n,
        _ => true, // symbolic extents are assumed large
    }
}

/// The knobs of the CPU schedules ([`cpu_schedule`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CpuKnobs {
    /// Output rows (or columns of a dot-product matmul) computed together
    /// in registers by a matmul, each reusing the loaded operand (1, 2, 4
    /// or 8).
    pub tile: i64,
    /// SIMD vectors per iteration along the contiguous output axis of
    /// elementwise stages and outer-product matmuls (1, 2 or 4).
    pub unroll: i64,
}

impl CpuKnobs {
    /// The default knobs: a matmul computes 4 rows together, other stages
    /// 1; two vectors per iteration.
    pub fn default_for(nest: &LoopNest) -> CpuKnobs {
        CpuKnobs { tile: if nest.class == KernelClass::Matmul { 4 } else { 1 }, unroll: 2 }
    }
}

/// The default schedule of a naive nest (as made by [`LoopNest::from_stage`]),
/// and the trace that reproduces it: [`cpu_schedule`] with
/// [`CpuKnobs::default_for`].
pub fn default_schedule(nest: LoopNest, target: Target) -> Result<(Validated, Trace), ScheduleError> {
    let knobs = CpuKnobs::default_for(&nest);
    cpu_schedule(nest, target, &knobs)
}

/// The CPU schedule of a naive nest under `knobs`, and its trace: the
/// outer output axes fused and run in parallel; a reduction along a
/// contiguous axis vectorized as a dot product (quantized weights a whole
/// 32-value block per step) beside `tile` rows; otherwise the contiguous
/// output axis vectorized, `unroll` vectors per step, over `tile` rows.
pub fn cpu_schedule(nest: LoopNest, target: Target, knobs: &CpuKnobs) -> Result<(Validated, Trace), ScheduleError> {
    if ![1, 2, 4, 8].contains(&knobs.tile) || ![1, 2, 4].contains(&knobs.unroll) {
        return Err(ScheduleError::IllTyped { kernel: nest.name.clone(), message: format!("{knobs:?}: the tile is 1, 2, 4 or 8 and the unroll 1, 2 or 4") });
    }
    let lanes = target.vector_lanes;
    let unroll = knobs.unroll;
    let rank = nest.out_rank();
    let n_red = nest.loops.len() - rank;
    let float = nest.output.dtype.scalar_kind() == ScalarKind::Float;
    let body = nest.body.clone();
    let mut r = Recorder { nest, trace: Trace::default() };
    let spatial: Vec<u32> = (0..rank as u32).collect();
    let reductions: Vec<u32> = (rank as u32..(rank + n_red) as u32).collect();

    let mut outer_spatial = spatial.clone();
    let mut region_tail: Vec<u32> = Vec::new(); // loops placed after the reduction loops
    let mut red_loops = reductions.clone();

    let last_spatial = spatial.last().copied();
    let last_red = reductions.last().copied();
    let extent = |r: &Recorder, id: u32| r.nest.loop_(id).map(|l| l.extent.clone());

    if r.nest.class == KernelClass::Quantize {
        // Whole rows per iteration (blocks run along the last axis); rows in
        // parallel.
        outer_spatial.pop();
    } else if n_red == 0 {
        // Elementwise: vectorize the last axis, two vectors per iteration.
        if let Some(ls) = last_spatial {
            if float && big_enough(&extent(&r, ls)?, lanes) {
                let (o, i) = r.split(ls, unroll * lanes)?;
                let (u, v) = r.split(i, lanes)?;
                r.annotate(u, LoopKind::Unrolled)?;
                r.annotate(v, LoopKind::Vectorized)?;
                outer_spatial.pop();
                outer_spatial.push(o);
                region_tail.extend([u, v]);
            }
        }
    } else {
        let lr = last_red.unwrap();
        let red_score = contiguity(&body, lr);
        let sp_score = last_spatial.map_or(i64::MIN, |s| contiguity(&body, s));
        let tile = if r.nest.class == KernelClass::Matmul { knobs.tile } else { 1 };
        if float && red_score >= sp_score && red_score > 0 && big_enough(&extent(&r, lr)?, lanes) {
            // Dot-product style: vector accumulator along the reduction,
            // a few independent rows of output unrolled beside it.
            // Quantized weights: one whole 32-value block (or 32-value
            // sub-block of a 256-value K-quant) per iteration, so its scale
            // is loaded and converted once for 8 vectors.
            let quantized = r.nest.sources.iter().any(|b| b.dtype.is_quantized());
            let whole_blocks = quantized && matches!(extent(&r, lr)?, Expr::Int(k) if k % 32 == 0);
            let (ro, ri) = r.split(lr, if whole_blocks { 32 } else { lanes })?;
            let (ri, block_steps) = if whole_blocks {
                let (rm, rv) = r.split(ri, lanes)?;
                r.annotate(rm, LoopKind::Unrolled)?;
                (rv, Some(rm))
            } else {
                (ri, None)
            };
            red_loops.pop();
            red_loops.push(ro);
            if let Some(ls) = last_spatial.filter(|&s| tile > 1 && big_enough(&extent(&r, s).unwrap(), tile)) {
                let (so, si) = r.split(ls, tile)?;
                r.annotate(si, LoopKind::Unrolled)?;
                outer_spatial.pop();
                outer_spatial.push(so);
                region_tail.push(si);
            }
            region_tail.extend(block_steps);
            r.annotate(ri, LoopKind::Vectorized)?;
            region_tail.push(ri);
        } else if float && sp_score > 0 && big_enough(&extent(&r, last_spatial.unwrap())?, lanes) {
            // Outer-product style: a register tile of outputs, vectorized
            // along the contiguous output axis, accumulated over the reduction.
            let ls = last_spatial.unwrap();
            outer_spatial.pop();
            let mut tail = Vec::new();
            if rank >= 2 && tile > 1 && big_enough(&extent(&r, spatial[rank - 2])?, tile) {
                let (mo, mi) = r.split(spatial[rank - 2], tile)?;
                r.annotate(mi, LoopKind::Unrolled)?;
                outer_spatial.pop();
                outer_spatial.push(mo);
                tail.push(mi);
            }
            let (no, ni) = r.split(ls, lanes * unroll)?;
            let (nm, nv) = r.split(ni, lanes)?;
            r.annotate(nm, LoopKind::Unrolled)?;
            r.annotate(nv, LoopKind::Vectorized)?;
            // Column panel outside row panel: consecutive tiles reuse the
            // same strip of the right operand from L1 (measured 9.5 -> 8.6 ms
            // on the 512^3 benchmark).
            let at = outer_spatial.len().saturating_sub(usize::from(tail.len() == 1));
            outer_spatial.insert(at, no);
            tail.extend([nm, nv]);
            region_tail = tail;
        }
    }
    let order: Vec<u32> = outer_spatial.iter().chain(&red_loops).chain(&region_tail).copied().collect();
    if order != r.nest.loop_ids() {
        r.step(Step::Reorder { loops: order })?;
    }
    if let Some(p) = r.fuse_all(&outer_spatial)? {
        r.annotate(p, LoopKind::Parallel)?;
    }
    let Recorder { nest, trace } = r;
    Ok((nest.validate()?, trace))
}
