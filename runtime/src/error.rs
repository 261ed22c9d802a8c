//! Runtime errors.

use kiln_codegen::CodegenError;
use kiln_dsl::GraphError;
use kiln_schedule::ScheduleError;
use thiserror::Error;

/// Why compiling or running a function failed.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum RuntimeError {
    /// The graph or its run-time inputs are wrong (see [`GraphError`]).
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// A schedule is illegal (see [`ScheduleError`]).
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    /// A kernel could not be compiled (see [`CodegenError`]).
    #[error(transparent)]
    Codegen(#[from] CodegenError),
    /// The GPU (wgpu) failed, or none was found.
    #[error("GPU: {message}")]
    Gpu {
        /// What went wrong.
        message: String,
    },
    /// The graph optimizer failed (see [`kiln_rewrite::RewriteError`]).
    #[error(transparent)]
    Rewrite(#[from] kiln_rewrite::RewriteError),
    /// User error: no function of that name in the module.
    #[error("the module has no function `{0}`")]
    NoSuchFunction(String),
    /// User error: rows copied between tensors that do not match, or
    /// beyond their ends ([`crate::Value::copy_rows`]).
    #[error("copying rows: {0}")]
    RowCopy(String),
    /// User error: a buffer would not fit in memory.
    #[error("buffer for `{what}` needs {bytes} bytes, more than this machine can address")]
    TooLarge {
        /// Which value.
        what: String,
        /// Bytes requested.
        bytes: i128,
    },
}
