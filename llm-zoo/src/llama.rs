//! The Llama architecture in kiln's DSL: RMSNorm, rotary embeddings,
//! grouped-query attention over a KV cache, a SwiGLU MLP and a tied or
//! untied output head, with every hyper-parameter read from the GGUF file.
//!
//! [`build_module`] makes three functions sharing the weights (named as the
//! GGUF names them, e.g. `blk.0.attn_q.weight`):
//!
//! - `prefill` — inputs `tokens`, `positions` (`i32[seq]`) and `logit_rows`
//!   (`i32[rows]`: which positions to compute logits for); outputs the
//!   logits `[rows, vocab]`, then each layer's keys and values
//!   `[seq, kv_heads, head_dim]`.
//! - `extend` — the same plus each layer's cached keys and values
//!   `[past, kv_heads, head_dim]` as inputs; returns the caches grown to
//!   `past + seq`.
//! - `decode` — `extend` with exactly one token and its logits (no
//!   `logit_rows`), compiled with that constant so its kernels need no
//!   symbolic row count.

use crate::error::ZooError;
use crate::gguf::Gguf;
use kiln_dsl::{Dim, DType, GraphError, HostTensor, Module, RopeConfig, Tensor};
use std::collections::HashMap;
use std::path::Path;

/// The hyper-parameters of a Llama-architecture model.
#[derive(Clone, Debug, PartialEq)]
pub struct LlamaConfig {
    /// Vocabulary size (rows of the embedding).
    pub vocab: usize,
    /// Model width.
    pub dim: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads (fewer than `heads` for grouped-query attention).
    pub kv_heads: usize,
    /// Width of one head.
    pub head_dim: usize,
    /// Hidden width of the MLP.
    pub ffn: usize,
    /// Transformer blocks.
    pub layers: usize,
    /// Rotary embedding: base and rotated dims (adjacent pairs, as GGUF's
    /// converted Llama weights expect).
    pub rope: RopeConfig,
    /// RMSNorm epsilon.
    pub norm_eps: f64,
    /// Context length the model was trained for.
    pub context: usize,
    /// Whether the output head reuses the token embedding.
    pub tied_output: bool,
}

fn model_error(path: &Path, message: impl Into<String>) -> ZooError {
    ZooError::Model { path: path.to_path_buf(), message: message.into() }
}

impl LlamaConfig {
    /// Read the hyper-parameters from a GGUF file's metadata (keys
    /// `llama.*`), checking that they are consistent.
    pub fn from_gguf(g: &Gguf, path: &Path) -> Result<LlamaConfig, ZooError> {
        let arch = g.get_str("general.architecture")?;
        if arch != "llama" {
            return Err(model_error(path, format!("architecture `{arch}` is not supported; kiln runs `llama` models")));
        }
        let int = |key: &str| -> Result<usize, ZooError> { Ok(g.get_u64(&format!("llama.{key}"))? as usize) };
        let dim = int("embedding_length")?;
        let heads = int("attention.head_count")?;
        let kv_heads = match g.get_u64("llama.attention.head_count_kv") {
            Ok(v) => v as usize,
            Err(_) => heads,
        };
        if heads == 0 || kv_heads == 0 || dim % heads != 0 || heads % kv_heads != 0 {
            return Err(model_error(path, format!("{heads} heads and {kv_heads} kv heads do not divide a width of {dim}")));
        }
        let head_dim = dim / heads;
        let rope_dims = match g.get_u64("llama.rope.dimension_count") {
            Ok(v) => v as usize,
            Err(_) => head_dim,
        };
        if rope_dims % 2 != 0 || rope_dims > head_dim {
            return Err(model_error(path, format!("rope.dimension_count {rope_dims} must be even and at most the head width {head_dim}")));
        }
        let base = g.get_f64("llama.rope.freq_base").unwrap_or(10000.0);
        let vocab = g.tensor("token_embd.weight")?.shape[0];
        let tied_output = g.tensor("output.weight").is_err();
        let layers = int("block_count")?;
        let ffn = int("feed_forward_length")?;
        let context = int("context_length")?;
        let norm_eps = g.get_f64("llama.attention.layer_norm_rms_epsilon")?;
        if layers == 0 || ffn == 0 || context == 0 {
            return Err(model_error(path, "block_count, feed_forward_length and context_length must be positive"));
        }
        // each block has 9 tensors: refuse counts the file cannot hold before
        // anything is sized by them
        if layers > g.tensors.len() / 9 {
            return Err(model_error(path, format!("block_count is {layers} but the file holds only {} tensors", g.tensors.len())));
        }
        Ok(LlamaConfig { vocab, dim, heads, kv_heads, head_dim, ffn, layers, rope: RopeConfig { base, n_dims: rope_dims, neox: false }, norm_eps, context, tied_output })
    }

    /// Width of the keys and values of one position: `kv_heads * head_dim`.
    pub fn kv_dim(&self) -> usize {
        self.kv_heads * self.head_dim
    }

    /// Every weight the model reads, with the shape it must have (row-major,
    /// `[out, in]` for projections).
    pub fn weight_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let mut w = vec![("token_embd.weight".to_string(), vec![self.vocab, self.dim]), ("output_norm.weight".to_string(), vec![self.dim])];
        if !self.tied_output {
            w.push(("output.weight".into(), vec![self.vocab, self.dim]));
        }
        for l in 0..self.layers {
            let (d, kv, f) = (self.dim, self.kv_dim(), self.ffn);
            for (name, shape) in [
                ("attn_norm", vec![d]),
                ("attn_q", vec![d, d]),
                ("attn_k", vec![kv, d]),
                ("attn_v", vec![kv, d]),
                ("attn_output", vec![d, d]),
                ("ffn_norm", vec![d]),
                ("ffn_gate", vec![f, d]),
                ("ffn_up", vec![f, d]),
                ("ffn_down", vec![d, f]),
            ] {
                w.push((format!("blk.{l}.{name}.weight"), shape));
            }
        }
        w
    }
}

/// The weights of `config` from the file, checked for shape, as tensors
/// that point into the file's memory map.
pub fn load_weights(g: &Gguf, config: &LlamaConfig, path: &Path) -> Result<HashMap<String, HostTensor>, ZooError> {
    let mut out = HashMap::new();
    for (name, shape) in config.weight_shapes() {
        let info = g.tensor(&name)?;
        if info.shape != shape {
            return Err(model_error(path, format!("tensor `{name}` has shape {:?}; the hyper-parameters need {shape:?}", info.shape)));
        }
        let is_matrix = shape.len() == 2;
        if !is_matrix && info.dtype != DType::F32 && info.dtype != DType::F16 {
            return Err(model_error(path, format!("tensor `{name}` is {}, but norm weights must be f32 or f16", info.dtype)));
        }
        out.insert(name.clone(), g.host_tensor(&name)?);
    }
    Ok(out)
}

fn d(n: usize) -> Dim {
    Dim::from(n)
}

/// Which function of the module to build.
#[derive(Clone, Copy, PartialEq)]
enum Variant {
    Prefill,
    Extend,
    Decode,
}

/// Build the module (`prefill`, `extend`, `decode`) for `config`, with each
/// weight declared at the dtype `dtypes` gives it.
pub fn build_module(config: &LlamaConfig, dtypes: &HashMap<String, DType>) -> Result<Module, GraphError> {
    let c = config;
    let mut m = Module::new();
    for (name, shape) in c.weight_shapes() {
        let dims: Vec<Dim> = shape.iter().map(|&n| d(n)).collect();
        let dtype = dtypes.get(&name).copied().unwrap_or(DType::F32);
        m.declare_param(&name, dtype, &dims)?;
    }
    for variant in [Variant::Prefill, Variant::Extend, Variant::Decode] {
        let f = build_function(c, &m, variant)?;
        m.add_function(f)?;
    }
    Ok(m)
}

fn build_function(c: &LlamaConfig, m: &Module, variant: Variant) -> Result<kiln_dsl::Function, GraphError> {
    let (name, n_tok) = match variant {
        Variant::Prefill => ("prefill", Dim::sym("seq")),
        Variant::Extend => ("extend", Dim::sym("seq")),
        Variant::Decode => ("decode", d(1)),
    };
    let (hd, kvh) = (c.head_dim, c.kv_heads);
    let f = m.function_builder(name);
    let tokens = f.input("tokens", DType::I32, &[n_tok.clone()]);
    let positions = f.input("positions", DType::I32, &[n_tok.clone()]);
    let logit_rows = (variant != Variant::Decode).then(|| f.input("logit_rows", DType::I32, &[Dim::sym("rows")]));
    let caches: Vec<(Tensor, Tensor)> = if variant == Variant::Prefill {
        Vec::new()
    } else {
        let shape = [Dim::sym("past"), d(kvh), d(hd)];
        (0..c.layers).map(|l| (f.input(&format!("k_cache.{l}"), DType::F32, &shape), f.input(&format!("v_cache.{l}"), DType::F32, &shape))).collect()
    };
    let p = |name: &str| f.param(name);
    let mut x = p("token_embd.weight").gather(&tokens);
    let mut kv_out = Vec::new();
    let scale = 1.0 / (hd as f64).sqrt();
    for l in 0..c.layers {
        let w = |name: &str| p(&format!("blk.{l}.{name}.weight"));
        let h = x.rms_norm(&w("attn_norm"), c.norm_eps);
        let q = h.matmul_t(&w("attn_q")).reshape(&[n_tok.clone(), d(c.heads), d(hd)]).rope(&positions, c.rope);
        let k = h.matmul_t(&w("attn_k")).reshape(&[n_tok.clone(), d(kvh), d(hd)]).rope(&positions, c.rope);
        let v = h.matmul_t(&w("attn_v")).reshape(&[n_tok.clone(), d(kvh), d(hd)]);
        let (k, v) = match caches.get(l) {
            Some((kc, vc)) => (kc.concat(&[&k], 0), vc.concat(&[&v], 0)),
            None => (k, v),
        };
        let att = q.attention(&k, &v, scale).reshape(&[n_tok.clone(), d(c.dim)]);
        x = x.add(&att.matmul_t(&w("attn_output")));
        let h = x.rms_norm(&w("ffn_norm"), c.norm_eps);
        let mlp = h.matmul_t(&w("ffn_gate")).silu().mul(&h.matmul_t(&w("ffn_up"))).matmul_t(&w("ffn_down"));
        x = x.add(&mlp);
        kv_out.push(k);
        kv_out.push(v);
    }
    let head = if c.tied_output { p("token_embd.weight") } else { p("output.weight") };
    let last = match &logit_rows {
        Some(rows) => x.gather(rows),
        None => x,
    };
    let logits = last.rms_norm(&p("output_norm.weight"), c.norm_eps).matmul_t(&head);
    let mut outs = vec![&logits];
    outs.extend(kv_out.iter());
    let func = f.finish(&outs)?;
    Ok(func)
}
