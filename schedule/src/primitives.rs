//! Schedule primitives. Each is a pure function from a nest to a new nest,
//! with its own legality check, and each is a [`Step`] of a replayable
//! [`Trace`] (what the autotuner stores and mutates).

use crate::error::ScheduleError;
use crate::nest::{Guard, Loop, LoopKind, LoopNest};
use crate::simplify::simplify;
use kiln_dsl::{int, Expr};
use serde::{Deserialize, Serialize};

/// One schedule decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// Split a loop into an outer loop and an inner loop of `factor` iterations.
    Split {
        /// The loop.
        loop_id: u32,
        /// Inner trip count.
        factor: i64,
    },
    /// Put the named loops, in this order, into the positions they occupy.
    Reorder {
        /// Loops, new order.
        loops: Vec<u32>,
    },
    /// Fuse an outer loop with the loop immediately inside it.
    Fuse {
        /// Outer loop.
        outer: u32,
        /// Inner loop.
        inner: u32,
    },
    /// Change how a loop runs (vectorize, unroll, parallel, bind to GPU ids).
    Annotate {
        /// The loop.
        loop_id: u32,
        /// Its new kind.
        kind: LoopKind,
    },
    /// Stage a source in GPU workgroup memory, refilled per iteration of a
    /// serial reduction loop ([`crate::Cache`]).
    CacheRead {
        /// The source.
        src: u32,
        /// The loop.
        at: u32,
    },
}

/// A sequence of steps; replaying it on the naive nest of a stage gives the
/// same schedule again.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    /// Steps in order.
    pub steps: Vec<Step>,
}

impl Trace {
    /// Replay on a nest.
    pub fn apply(&self, mut nest: LoopNest) -> Result<LoopNest, ScheduleError> {
        for s in &self.steps {
            nest = s.apply(nest)?;
        }
        Ok(nest)
    }

    /// JSON text form (what the tuning database stores).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a trace always serializes")
    }

    /// Parse the JSON text form.
    pub fn from_json(s: &str) -> Result<Trace, ScheduleError> {
        serde_json::from_str(s).map_err(|e| ScheduleError::BadTrace(e.to_string()))
    }
}

impl Step {
    /// Apply this step.
    pub fn apply(&self, nest: LoopNest) -> Result<LoopNest, ScheduleError> {
        match self {
            Step::Split { loop_id, factor } => split(nest, *loop_id, *factor).map(|(n, _, _)| n),
            Step::Reorder { loops } => reorder(nest, loops),
            Step::Fuse { outer, inner } => fuse(nest, *outer, *inner).map(|(n, _)| n),
            Step::Annotate { loop_id, kind } => annotate(nest, *loop_id, *kind),
            Step::CacheRead { src, at } => cache_read(nest, *src, *at),
        }
    }
}

fn substitute(nest: &mut LoopNest, var: u32, with: &Expr) {
    let sub = |a: &Expr| simplify(&a.rewrite(&mut |e| (*e == Expr::Axis(var)).then(|| with.clone())));
    for a in nest.axes.iter_mut() {
        *a = sub(a);
    }
    for g in nest.guards.iter_mut() {
        g.value = sub(&g.value);
    }
}

/// Split loop `id` by `factor`: `outer` runs `ceil(extent / factor)` times and
/// `inner` `factor` times. A split that may not divide the extent adds a bound
/// check `outer * factor + inner < extent`. Returns the nest and the ids of
/// the outer and inner loops.
pub fn split(mut nest: LoopNest, id: u32, factor: i64) -> Result<(LoopNest, u32, u32), ScheduleError> {
    let pos = nest.position(id)?;
    if factor < 1 {
        return Err(ScheduleError::BadSplitFactor { kernel: nest.name.clone(), loop_id: id, factor });
    }
    let old = nest.loops[pos].clone();
    let exact = crate::simplify::multiple_of(&old.extent, factor);
    let (o, i) = (nest.next_id, nest.next_id + 1);
    nest.next_id += 2;
    let outer_extent = simplify(&old.extent.clone().add(int(factor - 1)).div(int(factor)));
    let outer_kind = if old.kind == LoopKind::Parallel { LoopKind::Parallel } else { LoopKind::Serial };
    nest.loops.splice(
        pos..=pos,
        [
            Loop { id: o, extent: outer_extent, kind: outer_kind, reduction: old.reduction },
            Loop { id: i, extent: int(factor), kind: LoopKind::Serial, reduction: old.reduction },
        ],
    );
    let recombined = simplify(&Expr::Axis(o).mul(int(factor)).add(Expr::Axis(i)));
    if !exact {
        nest.guards.push(Guard { value: recombined.clone(), extent: old.extent.clone() });
    }
    substitute(&mut nest, id, &recombined);
    Ok((nest, o, i))
}

/// Reorder: the loops named take the positions they occupy together, in the
/// order given. Legality of the result (reductions stay inside their
/// consumers) is checked by [`LoopNest::validate`].
pub fn reorder(mut nest: LoopNest, order: &[u32]) -> Result<LoopNest, ScheduleError> {
    let mut positions = Vec::new();
    for &id in order {
        let p = nest.position(id).map_err(|_| ScheduleError::BadReorder { kernel: nest.name.clone(), loops: order.to_vec() })?;
        if positions.contains(&p) {
            return Err(ScheduleError::BadReorder { kernel: nest.name.clone(), loops: order.to_vec() });
        }
        positions.push(p);
    }
    let moved: Vec<Loop> = order.iter().map(|&id| nest.loops[nest.position(id).unwrap()].clone()).collect();
    positions.sort();
    for (p, l) in positions.into_iter().zip(moved) {
        nest.loops[p] = l;
    }
    Ok(nest)
}

/// Fuse `outer` with `inner`, the loop directly inside it, into one loop of
/// `extent(outer) * extent(inner)` iterations. Returns the nest and the fused
/// loop's id.
pub fn fuse(mut nest: LoopNest, outer: u32, inner: u32) -> Result<(LoopNest, u32), ScheduleError> {
    let (po, pi) = (nest.position(outer)?, nest.position(inner)?);
    let bad = |reason: &str| ScheduleError::BadFuse { kernel: nest.name.clone(), outer, inner, reason: reason.into() };
    if pi != po + 1 {
        return Err(bad("the inner loop must sit directly inside the outer one"));
    }
    let (lo, li) = (nest.loops[po].clone(), nest.loops[pi].clone());
    if lo.reduction != li.reduction {
        return Err(bad("one is a reduction loop and the other is not"));
    }
    let f = nest.next_id;
    nest.next_id += 1;
    let kind = if lo.kind == LoopKind::Parallel { LoopKind::Parallel } else { LoopKind::Serial };
    nest.loops.splice(po..=pi, [Loop { id: f, extent: simplify(&lo.extent.clone().mul(li.extent.clone())), kind, reduction: lo.reduction }]);
    substitute(&mut nest, outer, &Expr::Axis(f).div(li.extent.clone()));
    substitute(&mut nest, inner, &Expr::Axis(f).rem(li.extent));
    Ok((nest, f))
}

/// Stage source `src` in GPU workgroup memory at loop `at` ([`crate::Cache`];
/// a source is staged at one loop, the first asked). Which loop may hold it
/// is checked by [`LoopNest::validate`].
pub fn cache_read(mut nest: LoopNest, src: u32, at: u32) -> Result<LoopNest, ScheduleError> {
    nest.position(at)?;
    if !nest.caches.iter().any(|c| c.src == src) {
        nest.caches.push(crate::nest::Cache { src, at });
    }
    Ok(nest)
}

/// Set how loop `id` runs. Immediate checks here; placement rules (innermost,
/// outermost, inside a reduction) are checked by [`LoopNest::validate`].
pub fn annotate(mut nest: LoopNest, id: u32, kind: LoopKind) -> Result<LoopNest, ScheduleError> {
    let p = nest.position(id)?;
    let l = &nest.loops[p];
    let bad = |reason: &str| ScheduleError::BadLoopKind { kernel: nest.name.clone(), loop_id: id, kind: kind.to_string(), reason: reason.into() };
    match kind {
        LoopKind::Vectorized | LoopKind::Unrolled if l.const_extent().is_none() => return Err(bad("its extent is not a compile-time constant")),
        LoopKind::Parallel | LoopKind::GpuBlock(_) if l.reduction => return Err(bad("a reduction loop cannot run its iterations concurrently")),
        // a reduction loop bound to invocations is reduced across the
        // workgroup (each invocation keeps a partial result)
        LoopKind::GpuThread(_) if l.reduction && l.const_extent().is_none() => return Err(bad("a workgroup's size is a compile-time constant")),
        _ => {}
    }
    nest.loops[p].kind = kind;
    Ok(nest)
}

/// Vectorize loop `id`.
pub fn vectorize(nest: LoopNest, id: u32) -> Result<LoopNest, ScheduleError> {
    annotate(nest, id, LoopKind::Vectorized)
}
/// Unroll loop `id`.
pub fn unroll(nest: LoopNest, id: u32) -> Result<LoopNest, ScheduleError> {
    annotate(nest, id, LoopKind::Unrolled)
}
/// Run loop `id` on threads.
pub fn parallel(nest: LoopNest, id: u32) -> Result<LoopNest, ScheduleError> {
    annotate(nest, id, LoopKind::Parallel)
}
