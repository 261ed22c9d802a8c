//! Tuned schedules: the knobs the autotuner found for a kernel, keyed by
//! the kernel's workload (its structure with shapes and dtypes, not its
//! name), and applied when the same kernel is compiled again.

use crate::default::{cpu_schedule, CpuKnobs, Target};
use crate::error::ScheduleError;
use crate::gpu::{gpu_schedule, GpuKnobs};
use crate::nest::{LoopNest, Validated};
use kiln_dsl::{shape_str, KernelClass};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A point of a schedule space: the knobs of one backend's schedules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Knobs {
    /// [`gpu_schedule`]'s knobs.
    Gpu(GpuKnobs),
    /// [`cpu_schedule`]'s knobs.
    Cpu(CpuKnobs),
}

impl Knobs {
    /// Schedule `nest` under these knobs (`target` is used by CPU knobs).
    pub fn schedule(&self, nest: LoopNest, target: Target) -> Result<Validated, ScheduleError> {
        Ok(match self {
            Knobs::Gpu(k) => gpu_schedule(nest, k)?.0,
            Knobs::Cpu(k) => cpu_schedule(nest, target, k)?.0,
        })
    }

    /// The knobs in a short form for tables (`gpu 8x8 w8`, `cpu tile 4 unroll 2`).
    pub fn short(&self) -> String {
        match self {
            Knobs::Gpu(k) if k.tile > 0 => format!("tile {}x{}", k.tile, k.tile),
            Knobs::Gpu(k) => format!("{}x{} w{}", k.reduce_threads, k.outputs_per_group, k.vector_width),
            Knobs::Cpu(k) => format!("tile {} unroll {}", k.tile, k.unroll),
        }
    }
}

/// What identifies a kernel for tuning: the same key means the same loop
/// nest (class, source and output dtypes and shapes, reduction, compute
/// rule), whatever op or layer it came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WorkloadKey {
    /// `CLASS-HASH`, e.g. `gemv-5c1f0e2a9b3d4c67`: the class and a 64-bit
    /// FNV-1a hash of the nest's structure (stable across runs and builds).
    pub key: String,
    /// `gemv`, `gemm`, `reduction`, `elementwise`, `attention` or `quantize`.
    pub class: String,
    /// The sources and output, for people (`q4_0[11008, 4096] · f32[1, 4096] -> f32[1, 11008]`).
    pub description: String,
}

impl LoopNest {
    /// The workload key of this (naive, unscheduled) nest.
    pub fn workload_key(&self) -> WorkloadKey {
        let structure = format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            self.class,
            self.sources.iter().map(|b| (b.dtype, &b.shape)).collect::<Vec<_>>(),
            (self.output.dtype, &self.output.shape),
            self.reduce,
            self.loops.iter().map(|l| (&l.extent, l.reduction)).collect::<Vec<_>>(),
            self.body
        );
        let hash = structure.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        let one_row = self.output.shape.split_last().is_some_and(|(_, rows)| rows.iter().all(|d| d.as_const() == Some(1)));
        let class = match self.class {
            KernelClass::Matmul if one_row => "gemv",
            KernelClass::Matmul => "gemm",
            KernelClass::Elementwise => "elementwise",
            KernelClass::Reduction => "reduction",
            KernelClass::Attention => "attention",
            KernelClass::Quantize => "quantize",
        };
        let sources: Vec<String> = self.sources.iter().map(|b| format!("{}{}", b.dtype.name(), shape_str(&b.shape))).collect();
        let description = format!("{} -> {}{}", sources.join(" · "), self.output.dtype.name(), shape_str(&self.output.shape));
        WorkloadKey { key: format!("{class}-{hash:016x}"), class: class.into(), description }
    }
}

/// The best knobs per workload key for one device, read from a tuning
/// database, and how many kernels compiling scheduled with them.
#[derive(Debug, Default)]
pub struct TunedSchedules {
    knobs: HashMap<String, Knobs>,
    looked_up: AtomicUsize,
    applied: AtomicUsize,
}

impl TunedSchedules {
    /// Tuned schedules from (workload key, knobs) pairs.
    pub fn new(knobs: impl IntoIterator<Item = (String, Knobs)>) -> TunedSchedules {
        TunedSchedules { knobs: knobs.into_iter().collect(), ..TunedSchedules::default() }
    }

    /// The tuned knobs of `nest`, if any (a kernel compiled, for
    /// [`TunedSchedules::usage`]).
    pub fn lookup(&self, nest: &LoopNest) -> Option<Knobs> {
        self.looked_up.fetch_add(1, Ordering::Relaxed);
        self.knobs.get(&nest.workload_key().key).copied()
    }

    /// A kernel was compiled with its tuned knobs (they scheduled it; a
    /// record that no longer fits its nest falls back to the default and is
    /// not counted).
    pub fn applied(&self) {
        self.applied.fetch_add(1, Ordering::Relaxed);
    }

    /// Workloads known.
    pub fn len(&self) -> usize {
        self.knobs.len()
    }

    /// Whether none is known.
    pub fn is_empty(&self) -> bool {
        self.knobs.is_empty()
    }

    /// (kernels compiled with tuned knobs, kernels compiled) so far.
    pub fn usage(&self) -> (usize, usize) {
        (self.applied.load(Ordering::Relaxed), self.looked_up.load(Ordering::Relaxed))
    }
}
