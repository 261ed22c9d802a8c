//! The loop-nest IR: one kernel as a perfect nest of loops around one store.
//!
//! A [`LoopNest`] keeps the stage's compute rule over *stage axes* and, for
//! each stage axis, an index expression over *loop variables*
//! (`Expr::Axis(loop id)`). Schedule primitives rewrite the loops and those
//! axis expressions; the rule itself never changes, which is why any legal
//! schedule computes the same values. Loops after the first reduction loop
//! form the *reduction region*: spatial loops there are register tiles.

use crate::error::ScheduleError;
use crate::simplify::simplify;
use kiln_dsl::quant::{expand_quant_loads_in, QuantLayout};
use kiln_dsl::{shape_str, DType, Dim, Expr, KernelClass, ReduceOp, Stage};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a loop runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LoopKind {
    /// An ordinary loop.
    Serial,
    /// Iterations spread over threads (outermost spatial loop only).
    Parallel,
    /// Iterations are SIMD lanes (innermost loop, constant extent).
    Vectorized,
    /// Fully unrolled (constant extent).
    Unrolled,
    /// Bound to a GPU workgroup id axis (0..3).
    GpuBlock(u8),
    /// Bound to a GPU invocation id axis within the workgroup (0..3).
    GpuThread(u8),
}

impl fmt::Display for LoopKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoopKind::Serial => f.write_str("serial"),
            LoopKind::Parallel => f.write_str("parallel"),
            LoopKind::Vectorized => f.write_str("vectorized"),
            LoopKind::Unrolled => f.write_str("unrolled"),
            LoopKind::GpuBlock(a) => write!(f, "gpu_block.{}", ["x", "y", "z"][*a as usize % 3]),
            LoopKind::GpuThread(a) => write!(f, "gpu_thread.{}", ["x", "y", "z"][*a as usize % 3]),
        }
    }
}

/// A loop of the nest.
#[derive(Clone, Debug, PartialEq)]
pub struct Loop {
    /// Identifier, stable across primitives (`Expr::Axis(id)` in axis expressions).
    pub id: u32,
    /// Trip count: an integer expression over constants and symbolic dims.
    pub extent: Expr,
    /// How it runs.
    pub kind: LoopKind,
    /// Whether it iterates a reduction axis.
    pub reduction: bool,
}

impl Loop {
    /// The extent if it is a compile-time constant.
    pub fn const_extent(&self) -> Option<i64> {
        match self.extent {
            Expr::Int(n) => Some(n),
            _ => None,
        }
    }
}

/// A buffer a kernel reads or writes.
#[derive(Clone, Debug, PartialEq)]
pub struct Buffer {
    /// Name in the text form (`s0`, `out`).
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Logical shape.
    pub shape: Vec<Dim>,
}

/// A bound check: the point exists only where `value < extent`. A split
/// that may not divide its loop adds one on the loop's own range (`outer *
/// factor + inner < extent`), so out-of-range iterations never alias real
/// ones; later primitives rewrite `value` like the axis expressions.
#[derive(Clone, Debug, PartialEq)]
pub struct Guard {
    /// An expression of loop variables.
    pub value: Expr,
    /// Its exclusive upper bound.
    pub extent: Expr,
}

/// One kernel: a perfect loop nest around `out[axes] (op)= body`.
#[derive(Clone, Debug, PartialEq)]
pub struct LoopNest {
    /// Kernel name (the stage name).
    pub name: String,
    /// Kernel class, which picked the default schedule.
    pub class: KernelClass,
    /// Buffers read, in source order.
    pub sources: Vec<Buffer>,
    /// Buffer written.
    pub output: Buffer,
    /// Reduction, if the stage reduces; stage axes `output rank..` are reduction axes.
    pub reduce: Option<ReduceOp>,
    /// Loops, outermost first.
    pub loops: Vec<Loop>,
    /// Each stage axis as an expression of loop variables.
    pub axes: Vec<Expr>,
    /// Bound checks.
    pub guards: Vec<Guard>,
    /// The compute rule over stage axes (quantized loads not yet expanded).
    pub body: Expr,
    /// Sources staged in GPU workgroup memory (see [`Cache`]).
    pub caches: Vec<Cache>,
    pub(crate) next_id: u32,
    /// Whether every load of the body is proven in bounds and every
    /// division by a positive value (for symbols bound to 1 or more), at
    /// every point of the stage's iteration space: proven once from the
    /// stage, since schedules change loops, never the rule or its domain.
    bounds_proof: Result<(), String>,
}

/// A source staged in GPU workgroup memory: at the start of each iteration
/// of reduction loop `at`, the workgroup copies in every element that the
/// loops inside `at` and the workgroup's invocations will read, then reads
/// them from there (a GEMM's tiles). Other backends ignore it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cache {
    /// The source (its number).
    pub src: u32,
    /// The serial reduction loop whose iterations refill it.
    pub at: u32,
}

impl LoopNest {
    /// Lower a stage to its naive nest: one serial loop per stage axis in
    /// order, output axes outside reduction axes.
    pub fn from_stage(stage: &Stage, sources: &[(DType, Vec<Dim>)]) -> Result<LoopNest, ScheduleError> {
        stage.check(sources).map_err(|message| ScheduleError::IllTyped { kernel: stage.name.clone(), message })?;
        let loops: Vec<Loop> = stage
            .axis_extents()
            .iter()
            .enumerate()
            .map(|(i, d)| Loop { id: i as u32, extent: kiln_dsl::dim(d), kind: LoopKind::Serial, reduction: i >= stage.shape.len() })
            .collect();
        Ok(LoopNest {
            name: stage.name.clone(),
            class: stage.class,
            sources: sources.iter().enumerate().map(|(i, (dt, sh))| Buffer { name: format!("s{i}"), dtype: *dt, shape: sh.clone() }).collect(),
            output: Buffer { name: "out".into(), dtype: stage.dtype, shape: stage.shape.clone() },
            reduce: stage.reduce.as_ref().map(|r| r.op),
            axes: (0..loops.len()).map(|i| Expr::Axis(i as u32)).collect(),
            next_id: loops.len() as u32,
            loops,
            guards: Vec::new(),
            body: stage.body.clone(),
            caches: Vec::new(),
            bounds_proof: crate::bounds::prove_in_bounds(&stage.body, &stage.axis_extents(), sources),
        })
    }

    /// `Ok` when every load of the body is proven in bounds and every
    /// division by a positive value at every point of the stage (symbols
    /// bound to 1 or more; see [`crate::prove_in_bounds`]), else what was
    /// not proven.
    pub fn bounds_proof(&self) -> Result<(), &str> {
        self.bounds_proof.as_ref().map(|_| ()).map_err(String::as_str)
    }

    /// Rank of the output (stage axes before this are spatial).
    pub fn out_rank(&self) -> usize {
        self.output.shape.len()
    }

    /// Position of a loop in the nest.
    pub fn position(&self, id: u32) -> Result<usize, ScheduleError> {
        self.loops.iter().position(|l| l.id == id).ok_or(ScheduleError::NoSuchLoop { kernel: self.name.clone(), loop_id: id })
    }

    /// The loop with this id.
    pub fn loop_(&self, id: u32) -> Result<&Loop, ScheduleError> {
        Ok(&self.loops[self.position(id)?])
    }

    /// Ids of the loops, outermost first.
    pub fn loop_ids(&self) -> Vec<u32> {
        self.loops.iter().map(|l| l.id).collect()
    }

    /// Replace stage axes in `e` by their loop-variable expressions.
    pub fn substitute_axes(&self, e: &Expr) -> Expr {
        simplify(&e.rewrite(&mut |x| match x {
            Expr::Axis(a) => Some(self.axes[*a as usize].clone()),
            _ => None,
        }))
    }

    /// Index of the first loop of the reduction region (`loops.len()` if none).
    pub fn region_start(&self) -> usize {
        self.loops.iter().position(|l| l.reduction).unwrap_or(self.loops.len())
    }

    /// Check the schedule is legal and seal it.
    pub fn validate(self) -> Result<Validated, ScheduleError> {
        let kernel = self.name.clone();
        let bad = |l: &Loop, reason: &str| ScheduleError::BadLoopKind { kernel: kernel.clone(), loop_id: l.id, kind: l.kind.to_string(), reason: reason.into() };
        let start = self.region_start();
        let n = self.loops.len();
        let mut tile_lanes = 1i64;
        for (i, l) in self.loops.iter().enumerate() {
            match l.kind {
                LoopKind::Parallel if i != 0 => return Err(bad(l, "only the outermost loop can be parallel")),
                LoopKind::Parallel if l.reduction => return Err(bad(l, "a reduction loop cannot be parallel")),
                LoopKind::Vectorized if i != n - 1 => return Err(bad(l, "only the innermost loop can be vectorized")),
                LoopKind::Vectorized | LoopKind::Unrolled if l.const_extent().is_none() => {
                    return Err(bad(l, "its extent is not a compile-time constant"))
                }
                LoopKind::Unrolled if l.const_extent().unwrap() > 64 => return Err(bad(l, "unrolling is limited to 64 iterations")),
                _ => {}
            }
            if i > start && !l.reduction {
                if !matches!(l.kind, LoopKind::Unrolled | LoopKind::Vectorized) {
                    return Err(ScheduleError::ReductionOutsideConsumer { kernel, reduction: self.loops[start].id, spatial: l.id });
                }
                tile_lanes *= l.const_extent().unwrap_or(1);
            }
        }
        if tile_lanes > 64 {
            return Err(ScheduleError::BadLoopKind {
                kernel,
                loop_id: self.loops[start].id,
                kind: "reduction".into(),
                reason: format!("its register tile has {tile_lanes} accumulators, more than 64"),
            });
        }
        // Tail handling checks guards at the last iteration of unrolled and
        // vectorized loops, so their variables must enter guards monotonically.
        for g in &self.guards {
            let e = &g.value;
            for l in self.loops.iter().filter(|l| matches!(l.kind, LoopKind::Unrolled | LoopKind::Vectorized)) {
                if !crate::simplify::monotone_in(e, l.id) {
                    return Err(bad(l, "its variable reaches a bound check through a division or remainder; split instead of fusing"));
                }
            }
        }
        for c in &self.caches {
            let at = self.loops.iter().find(|l| l.id == c.at);
            if !at.is_some_and(|l| l.reduction && l.kind == LoopKind::Serial) || c.src as usize >= self.sources.len() {
                return Err(ScheduleError::IllTyped { kernel, message: format!("a cache of s{} at loop {}: the loop must be a serial reduction loop of the nest", c.src, c.at) });
            }
        }
        Ok(Validated(self))
    }
}

/// A [`LoopNest`] that passed [`LoopNest::validate`]; only this is compiled.
#[derive(Clone, Debug, PartialEq)]
pub struct Validated(LoopNest);

impl Validated {
    /// The validated nest.
    pub fn nest(&self) -> &LoopNest {
        &self.0
    }
    /// Back to an editable nest.
    pub fn into_inner(self) -> LoopNest {
        self.0
    }
    /// The stage body with quantized loads expanded and stage axes replaced
    /// by loop-variable expressions: what a code generator evaluates at each
    /// point. Loads keep multi-dimensional indices into the source shapes.
    pub fn point_body(&self) -> Expr {
        self.point_body_in(QuantLayout::Gguf)
    }

    /// [`Validated::point_body`] for quantized sources stored in `layout`.
    pub fn point_body_in(&self, layout: QuantLayout) -> Expr {
        let n = &self.0;
        let sources: Vec<(DType, Vec<Dim>)> = n.sources.iter().map(|b| (b.dtype, b.shape.clone())).collect();
        n.substitute_axes(&expand_quant_loads_in(layout, &n.body, &sources))
    }

    /// The output's multi-dimensional index in loop variables.
    pub fn store_index(&self) -> Vec<Expr> {
        self.0.axes[..self.0.out_rank()].to_vec()
    }

    /// Each guard as `(value, bound)` in loop variables.
    pub fn guard_exprs(&self) -> Vec<(Expr, Expr)> {
        self.0.guards.iter().map(|g| (g.value.clone(), g.extent.clone())).collect()
    }

    /// The guards that mention no reduction loop: what must hold to store.
    pub fn spatial_guard_exprs(&self) -> Vec<(Expr, Expr)> {
        let red: Vec<u32> = self.0.loops.iter().filter(|l| l.reduction).map(|l| l.id).collect();
        self.guard_exprs().into_iter().filter(|(v, _)| crate::simplify::loop_vars(v).iter().all(|x| !red.contains(x))).collect()
    }
}

impl fmt::Display for LoopNest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bufs: Vec<String> = self.sources.iter().map(|b| format!("{}: {}{}", b.name, b.dtype, shape_str(&b.shape))).collect();
        writeln!(f, "kernel {} ({:?}) ({}) -> out: {}{} {{", self.name, self.class, bufs.join(", "), self.output.dtype, shape_str(&self.output.shape))?;
        let mut depth = 1;
        for l in &self.loops {
            let red = if l.reduction { " reduce" } else { "" };
            writeln!(f, "{}for l{} in 0..{} {}{red}", "  ".repeat(depth), l.id, l.extent.with_axis_prefix("l"), l.kind)?;
            depth += 1;
        }
        let pad = "  ".repeat(depth);
        let rank = self.out_rank();
        for c in &self.caches {
            writeln!(f, "{pad}cache s{} in workgroup memory at l{}", c.src, c.at)?;
        }
        for g in &self.guards {
            writeln!(f, "{pad}if {} < {}", g.value.with_axis_prefix("l"), g.extent)?;
        }
        for (i, a) in self.axes.iter().enumerate() {
            writeln!(f, "{pad}i{i} = {}", a.with_axis_prefix("l"))?;
        }
        let idx: Vec<String> = (0..rank).map(|i| format!("i{i}")).collect();
        let op = match self.reduce {
            None => "=".to_string(),
            Some(r) => format!("{r:?}="),
        };
        writeln!(f, "{pad}out[{}] {op} {}", idx.join(", "), self.body)?;
        write!(f, "}}")
    }
}

impl fmt::Display for Validated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
