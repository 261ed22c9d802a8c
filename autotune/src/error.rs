//! What can go wrong while tuning.

/// An autotuning failure.
#[derive(Debug, thiserror::Error)]
pub enum TuneError {
    /// User error: a workload that cannot be built or measured.
    #[error("workload: {0}")]
    Workload(String),
    /// The default schedule itself failed to compile, run or match the
    /// reference: a kiln bug, so nothing is tuned on top of it.
    #[error("the default schedule of {workload} failed: {message}")]
    Default {
        /// The workload key.
        workload: String,
        /// What failed.
        message: String,
    },
    /// The device failed.
    #[error(transparent)]
    Runtime(#[from] kiln_runtime::RuntimeError),
    /// The tuning database failed.
    #[error(transparent)]
    Db(#[from] kiln_tuning_db::DbError),
    /// The reference interpreter failed.
    #[error("reference interpreter: {0}")]
    Reference(String),
    /// Writing the convergence plot failed.
    #[error("plot {path}: {message}")]
    Plot {
        /// The file.
        path: String,
        /// What failed.
        message: String,
    },
}
