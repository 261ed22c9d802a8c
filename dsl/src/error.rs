//! Errors of graph construction and interpretation.

use thiserror::Error;

/// Everything that can go wrong building or interpreting a graph.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum GraphError {
    /// User error: an op's inputs do not fit it (shape or dtype mismatch).
    #[error("op `{op}`: {message} (inputs: {inputs})")]
    Shape {
        /// The op's name.
        op: String,
        /// What does not fit.
        message: String,
        /// The input types, rendered.
        inputs: String,
    },
    /// User error: a symbolic dimension has no value at run time.
    #[error("op `{op}`: symbolic dimension `{sym}` is unbound; bind it or pass an input whose shape determines it")]
    UnboundDim {
        /// The op (or input) whose shape needed the symbol.
        op: String,
        /// The symbol.
        sym: String,
    },
    /// User error: a run-time input does not match the declared type.
    #[error("input `{name}`: {message}")]
    Input {
        /// Input or parameter name.
        name: String,
        /// What does not match.
        message: String,
    },
    /// User error: bound dims break a condition of an op (e.g. a slice past
    /// the end of its axis).
    #[error("op `{op}`: {message}")]
    Constraint {
        /// The op.
        op: String,
        /// Which condition fails, with the values.
        message: String,
    },
    /// User error: a name is declared twice or refers to nothing.
    #[error("{0}")]
    Name(String),
    /// Always a bug: a graph failed verification after construction.
    #[error("graph verification failed at node %{node}: {message}")]
    Invalid {
        /// Offending node.
        node: usize,
        /// What is wrong.
        message: String,
    },
}
