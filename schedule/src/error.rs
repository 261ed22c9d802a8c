//! Schedule errors: each names the kernel and loop it is about.

use thiserror::Error;

/// An illegal schedule or a kernel that cannot be lowered.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ScheduleError {
    /// User error: a loop id does not exist (or no longer exists) in the nest.
    #[error("kernel `{kernel}`: no loop l{loop_id} in the nest")]
    NoSuchLoop {
        /// Kernel (stage) name.
        kernel: String,
        /// The loop id asked for.
        loop_id: u32,
    },
    /// User error: split by a factor that is zero or negative.
    #[error("kernel `{kernel}`: cannot split loop l{loop_id} by {factor}; the factor must be at least 1")]
    BadSplitFactor {
        /// Kernel name.
        kernel: String,
        /// Loop being split.
        loop_id: u32,
        /// The factor given.
        factor: i64,
    },
    /// User error: the loops given to `reorder` are not distinct loops of the nest.
    #[error("kernel `{kernel}`: reorder needs distinct loops of the nest, got {loops:?}")]
    BadReorder {
        /// Kernel name.
        kernel: String,
        /// Loops given.
        loops: Vec<u32>,
    },
    /// User error: `fuse` needs an outer loop immediately enclosing an inner
    /// one of the same role (both spatial or both reduction).
    #[error("kernel `{kernel}`: cannot fuse l{outer} and l{inner}: {reason}")]
    BadFuse {
        /// Kernel name.
        kernel: String,
        /// Outer loop.
        outer: u32,
        /// Inner loop.
        inner: u32,
        /// Why not.
        reason: String,
    },
    /// User error: a reduction loop encloses a spatial loop that is not a
    /// register tile (unrolled or vectorized), so the reduction would be
    /// hoisted outside the loop that consumes its result.
    #[error("kernel `{kernel}`: reduction loop l{reduction} is outside spatial loop l{spatial}; only unrolled or vectorized loops may sit inside a reduction")]
    ReductionOutsideConsumer {
        /// Kernel name.
        kernel: String,
        /// The reduction loop.
        reduction: u32,
        /// The spatial loop it encloses.
        spatial: u32,
    },
    /// User error: a loop kind that does not fit where the loop is.
    #[error("kernel `{kernel}`: loop l{loop_id} cannot be {kind}: {reason}")]
    BadLoopKind {
        /// Kernel name.
        kernel: String,
        /// The loop.
        loop_id: u32,
        /// The kind asked for.
        kind: String,
        /// Why not.
        reason: String,
    },
    /// User error: a trace could not be parsed.
    #[error("malformed schedule trace: {0}")]
    BadTrace(String),
    /// User error: the stage's expression is ill-typed.
    #[error("kernel `{kernel}`: {message}")]
    IllTyped {
        /// Kernel name.
        kernel: String,
        /// What is wrong.
        message: String,
    },
}
