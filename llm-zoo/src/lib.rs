//! kiln's model zoo: real language models on kiln's compiler.
//!
//! Owns everything between a model file and text: the GGUF reader
//! ([`gguf`], memory-mapped, every offset checked), the models kiln fetches
//! by name and their cache ([`fetch`]), the Llama architecture written in
//! the DSL with hyper-parameters from the file ([`llama`]), the file's own
//! tokenizer ([`tokenizer`]), the sampler ([`sampler`]), chat templates
//! ([`chat`]), the loop that runs prefill and decode over a KV cache
//! ([`Model`], [`Session`]) and the paged KV cache that several sequences
//! decode over at once ([`paged`]).
//!
//! In: a GGUF path or a known model name, prompts. Out: token ids, text,
//! logits, perplexity, timings. Quantized weights stay quantized: they are
//! module parameters pointing into the file's memory map, and the compiled
//! matmul kernels dequantize them as they read.
//!
//! ```no_run
//! use kiln_llm_zoo::{Model, SamplerConfig};
//! let model = Model::load(std::path::Path::new("SmolLM2-135M-Instruct.Q4_1.gguf"))?;
//! let prompt = model.tokenizer.encode("The capital of France is", true)?;
//! let out = model.generate(&prompt, 16, &SamplerConfig::default(), |piece| print!("{piece}"))?;
//! println!("\n{} tokens at {:.1} tokens/s", out.tokens.len(), out.decode_tokens_per_s());
//! # Ok::<(), kiln_llm_zoo::ZooError>(())
//! ```
#![warn(missing_docs)]

pub mod chat;
mod error;
pub mod fetch;
pub mod gguf;
pub mod llama;
mod model;
pub mod paged;
pub mod sampler;
pub mod testing;
pub mod tokenizer;

pub use chat::{ChatTemplate, Message};
pub use error::ZooError;
pub use fetch::{known_model, KnownModel, ModelCache, KNOWN_MODELS};
pub use gguf::{Gguf, GgufError, GgufWriter};
pub use llama::{LlamaConfig, Numerics, KV_PAGE};
pub use paged::{KvPool, PagedSequence};
pub use model::{gpu_default_numerics, model_graph, Generation, KernelTime, Logits, Model, Perplexity, Session};
pub use sampler::{Sampler, SamplerConfig};
pub use tokenizer::Tokenizer;
