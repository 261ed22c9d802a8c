//! `kiln serve`: an OpenAI-compatible HTTP API over one kiln model.
//!
//! Owns the HTTP API ([`http`]: `POST /v1/chat/completions` and
//! `/v1/completions`, streamed as server-sent events or not, `GET
//! /v1/models`, `GET /health`, OpenAI-style errors, an optional API key and
//! a body limit), the request and response bodies ([`api`]), stop
//! sequences over streamed text ([`stop`]) and the engine ([`engine`]): one
//! thread that owns the model and a paged KV cache and steps every
//! admitted request's sequence, decoding them in batches, with a bounded
//! queue, admission and eviction by free pages, a time limit, and
//! cancellation when a client goes away.
//!
//! In: a loaded [`kiln_llm_zoo::Model`] compiled to decode batches (built
//! on the engine's thread by a closure the caller passes) and settings.
//! Out: an axum [`axum::Router`] to serve on a listener.
//!
//! ```no_run
//! use kiln_llm_zoo::{Model, Numerics};
//! use kiln_runtime::{CompileOptions, Device};
//! use kiln_server::{router, Engine, EngineConfig, HttpConfig};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let path = std::path::PathBuf::from("SmolLM2-135M-Instruct.Q4_1.gguf");
//! // decode 1, 2, 4 or 8 sequences per call (8: EngineConfig's default max_concurrent)
//! let load = move || Model::load_batched(&path, &Device::Cpu, &CompileOptions::default(), Numerics::default(), &[1, 2, 4, 8]).map_err(|e| e.to_string());
//! let engine = Engine::start("smollm2-135m", EngineConfig::default(), load)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, router(engine, HttpConfig::default())).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod api;
pub mod engine;
pub mod http;
pub mod stop;

pub use api::{ApiError, Usage};
pub use engine::{Engine, EngineConfig, Event, FinishReason, Job, ModelInfo, PromptInput};
pub use http::{router, HttpConfig};
