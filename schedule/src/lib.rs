//! kiln's scheduler: the loop-nest IR and how it is transformed.
//!
//! Owns [`LoopNest`] (one kernel: loops with kinds, buffers, loads, a store
//! and an optional reduction), the schedule primitives (split, reorder, fuse,
//! vectorize, unroll, parallel, GPU binding, staging a source in GPU
//! workgroup memory) as pure functions with legality
//! checks, the replayable [`Trace`] of those decisions, the default
//! schedule per kernel class for the CPU and for GPUs with the knobs that
//! drive it ([`CpuKnobs`], [`GpuKnobs`]), and tuned schedules: a kernel's
//! [`WorkloadKey`] and the [`TunedSchedules`] the autotuner found.
//!
//! In: a `kiln_dsl` [`Stage`](kiln_dsl::Stage) and its source types. Out: a
//! [`Validated`] nest that code generators compile.
//!
//! ```
//! use kiln_dsl::{ax, load, DType, Dim, Stage};
//! use kiln_schedule::{default_schedule, split, LoopNest, Target};
//! let stage = Stage::map("double", vec![Dim::sym("n")], DType::F32, load(0, vec![ax(0)]).mul(kiln_dsl::flt(2.0)));
//! let nest = LoopNest::from_stage(&stage, &[(DType::F32, vec![Dim::sym("n")])]).unwrap();
//! let (scheduled, trace) = default_schedule(nest.clone(), Target::CPU).unwrap();
//! assert!(scheduled.to_string().contains("vectorized"));
//! assert_eq!(trace.apply(nest.clone()).unwrap().validate().unwrap(), scheduled);
//! assert!(split(nest, 0, 0).unwrap_err().to_string().contains("double"));
//! ```
#![warn(missing_docs)]

mod bounds;
mod default;
mod error;
mod gpu;
mod nest;
mod primitives;
mod simplify;
mod tuned;

pub use bounds::{prove_divisors, prove_in_bounds};
pub use default::{cpu_schedule, default_schedule, CpuKnobs, Target};
pub use error::ScheduleError;
pub use gpu::{default_gpu_schedule, gpu_schedule, AdapterKind, GpuKnobs, GPU_WORKGROUP, VECTOR_WIDTHS};
pub use nest::{Buffer, Cache, Guard, Loop, LoopKind, LoopNest, Validated};
pub use primitives::{annotate, cache_read, fuse, parallel, reorder, split, unroll, vectorize, Step, Trace};
pub use simplify::{eval_int, loop_vars, monotone_in, multiple_of, simplify};
pub use tuned::{Knobs, TunedSchedules, WorkloadKey};
