//! kiln's autotuner: searches a kernel's schedule space on the actual
//! device and keeps what it measured in the tuning database.
//!
//! Owns the schedule spaces per backend ([`Space`]: the GPU schedules'
//! invocations per reduction, outputs per workgroup, vector width and
//! workgroup-memory tiles within the device's limits; the CPU schedules'
//! register tile and unroll), the search ([`tune`]: default first, random
//! population, then evolution ranked by a gradient-boosted cost model over
//! features of the scheduled loop nest, with early stopping), measurement
//! (each candidate checked against the f64 reference interpreter on its
//! first run, then warm-up and the median of repeats over rotated input
//! sets, by GPU timestamp queries), and the convergence plot.
//!
//! In: [`Workload`]s (from a spec such as `matmul:q4_0:1x4096x11008`, or
//! the kernels of a model's functions as kiln compiles them), a
//! [`Backend`], a [`kiln_tuning_db::TuningDb`]. Out: [`Outcome`]s, and
//! records in the database that `kiln_runtime::CompileOptions::tuned`
//! applies when the same kernels are compiled again.
#![warn(missing_docs)]

mod error;
mod measure;
mod plot;
mod space;
mod tune;
mod workload;

pub use error::TuneError;
pub use measure::{kernel_identity, rel_l2, Backend, MeasureOptions, Timing};
pub use plot::convergence_plot;
pub use space::{features, Point, Space};
pub use tune::{tune, Outcome, Progress, Stop, Trial, TuneOptions};
pub use workload::{workload_from_spec, workloads_of_module, Workload};

/// The tuned schedules of `device_fingerprint` in `db`, for
/// `CompileOptions::tuned`: the best record of every workload whose
/// schedule this kiln reads (others are skipped and counted).
pub fn tuned_schedules(db: &kiln_tuning_db::TuningDb, device_fingerprint: &str) -> Result<(kiln_schedule::TunedSchedules, usize), TuneError> {
    let mut skipped = 0;
    let mut knobs = Vec::new();
    for r in db.best_records(Some(device_fingerprint))? {
        match serde_json::from_value::<kiln_schedule::Knobs>(r.schedule) {
            Ok(k) => knobs.push((r.workload.key, k)),
            Err(_) => skipped += 1,
        }
    }
    Ok((kiln_schedule::TunedSchedules::new(knobs), skipped))
}
