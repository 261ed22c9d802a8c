//! Code generation errors.

use thiserror::Error;

/// Why a kernel could not be compiled.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CodegenError {
    /// User error: the schedule uses something this target cannot do (e.g.
    /// a GPU-bound loop on the CPU, or a vector width it lacks).
    #[error("kernel `{kernel}`: the {target} target cannot {what}")]
    Unsupported {
        /// Kernel name.
        kernel: String,
        /// Target name.
        target: &'static str,
        /// What it cannot do.
        what: String,
    },
    /// Always a bug: the backend rejected the code kiln generated.
    #[error("kernel `{kernel}`: backend error: {message}")]
    Backend {
        /// Kernel name.
        kernel: String,
        /// The backend's message.
        message: String,
    },
}
