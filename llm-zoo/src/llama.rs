//! The Llama architecture in kiln's DSL: RMSNorm, rotary embeddings,
//! grouped-query attention over a KV cache, a SwiGLU MLP and a tied or
//! untied output head, with every hyper-parameter read from the GGUF file.
//!
//! [`build_module`] makes three functions sharing the weights (named as the
//! GGUF names them, e.g. `blk.0.attn_q.weight`):
//!
//! - `prefill` — inputs `tokens` (`i32[seq]`), `rope` (`f32[seq, n_dims/2,
//!   2]`: [`rope_table`] of the tokens' positions) and `logit_rows`
//!   (`i32[rows]`: which positions to compute logits for); outputs the
//!   logits `[rows, vocab]`, then each layer's keys and values
//!   `[seq, kv_heads, head_dim]`.
//! - `extend` — the same plus each layer's cached keys and values
//!   `[past, kv_heads, head_dim]` as inputs; returns the caches grown to
//!   `past + seq`.
//! - `decode` — `extend` with exactly one token and its logits (no
//!   `logit_rows`), compiled with that constant so its kernels need no
//!   symbolic row count.
//! - `decode_batch{B}` (only when [`build_module`] is asked for batch size
//!   `B`) — one token of each of `B` independent sequences whose keys and
//!   values live in pages of [`KV_PAGE`] rows of one pool per layer (a
//!   paged KV cache, [`crate::KvPool`]): `tokens` (`i32[B]`), `rope` (`[B,
//!   n_dims/2, 2]`, each at its sequence's position), `pages` (`i32[B,
//!   pages]`: each sequence's pages, in order, room for its new token
//!   included), `lens` (`i32[B]`: keys each has in the pool), then each
//!   layer's pools of keys and values `[pool_rows, kv_heads, head_dim]`;
//!   returns the logits `[B, vocab]`, then each layer's new keys and values
//!   `[B, kv_heads, head_dim]` (which the caller writes into the pages).
//!   The projections and the MLP read each weight once for all `B` tokens,
//!   and one `paged_attention` per layer serves every sequence, each row
//!   computing what `decode` computes for that sequence alone.
//!
//! [`Numerics`] picks the arithmetic: llama.cpp's (8-bit activations into
//! Q4_0/Q4_1/Q8_0 matmuls, an f16 KV cache; the default, and the fast one)
//! or plain f32 throughout.

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

    /// Names of the weights that matmuls read: every matrix but the token
    /// embedding, unless the output head is tied to it.
    pub fn matmul_weights(&self) -> Vec<String> {
        self.weight_shapes().into_iter().filter(|(name, shape)| shape.len() == 2 && (self.tied_output || name != "token_embd.weight")).map(|(name, _)| name).collect()
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
    /// One token of each of this many sequences.
    DecodeBatch(usize),
}

/// The name of the function that decodes one token of each of `batch`
/// sequences.
pub fn decode_batch_function(batch: usize) -> String {
    format!("decode_batch{batch}")
}

/// Build the module (`prefill`, `extend`, `decode`, and `decode_batch{B}`
/// for each `B` of `batch_sizes`) for `config`, with each weight
/// declared at the dtype `dtypes` gives it, computing with `numerics`.
pub fn build_module(config: &LlamaConfig, dtypes: &HashMap<String, DType>, numerics: Numerics, batch_sizes: &[usize]) -> Result<Module, GraphError> {
    let c = config;
    let mut m = Module::new();
    for (name, shape) in c.weight_shapes() {
        let dims: Vec<Dim> = shape.iter().map(|&n| d(n)).collect();
        let dtype = dtypes.get(&name).copied().unwrap_or(DType::F32);
        m.declare_param(&name, dtype, &dims)?;
    }
    let batches = batch_sizes.iter().filter(|&&b| b > 0).map(|&b| Variant::DecodeBatch(b));
    for variant in [Variant::Prefill, Variant::Extend, Variant::Decode].into_iter().chain(batches) {
        let f = build_function(c, &m, dtypes, numerics, variant)?;
        m.add_function(f)?;
    }
    Ok(m)
}

/// The cosine and sine of every rotary angle at `positions`,
/// `f32[positions, n_dims/2, 2]`, computed as llama.cpp computes them: the
/// angle starts at the position and is multiplied by `base^(-2/n_dims)`
/// (`powf`) once per pair, rounding to f32 each time, and `cosf`/`sinf` of
/// that — a recurrence, not `p * base^(-2i/n_dims)`, so the angles are
/// llama.cpp's to the last bit. Computed on the host once per step: a few
/// thousand values instead of a sine and a cosine per rotated element.
pub fn rope_table(rope: &RopeConfig, positions: impl ExactSizeIterator<Item = usize>) -> HostTensor {
    let pairs = rope.n_dims / 2;
    let n = positions.len();
    let step = (rope.base as f32).powf(-2.0 / rope.n_dims as f32);
    let mut table = Vec::with_capacity(n * pairs * 2);
    for p in positions {
        let mut theta = p as f32;
        for _ in 0..pairs {
            table.extend([theta.cos(), theta.sin()]);
            theta *= step;
        }
    }
    HostTensor::from_f32(DType::F32, &[n, pairs, 2], &table)
}

/// The arithmetic a model runs with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Numerics {
    /// llama.cpp's: activations quantized to 8 bits (Q8_0 blocks) before
    /// every Q4_0/Q4_1/Q8_0 matmul, which then sums integer products; the
    /// KV cache, the queries and the attention probabilities in f16. The
    /// default: 2x faster decoding, half the KV memory, and closest to
    /// llama.cpp's tokens.
    #[default]
    LlamaCpp,
    /// f32 activations and KV cache: only f32 rounding, so whole models
    /// agree with the f64 reference interpreter to 1e-5.
    F32,
}

impl Numerics {
    /// Element type of the KV cache (and of the queries and attention
    /// probabilities that meet it).
    pub fn kv_dtype(self) -> DType {
        match self {
            Numerics::LlamaCpp => DType::F16,
            Numerics::F32 => DType::F32,
        }
    }

    /// The arithmetic that decodes a model fastest on a GPU whose kernels
    /// multiply 8-bit activations by Q4_0 and Q8_0 weights with packed
    /// integer dot products (`integer_dot`), for a model whose matmul
    /// weights are `weights` (type, bytes): llama.cpp's where most of
    /// those bytes are Q4_0 or Q8_0 and none Q4_1 (whose 8-bit activations
    /// take the generic kernel: SmolLM2's Q4_1 file decoded 1.6x slower
    /// with them on the H100), f32 otherwise. On the H100 llama.cpp's
    /// arithmetic decoded the Llama-2-7B shape in Q4_0 2x faster
    /// (`benches/RESULTS.md`).
    pub fn fastest_on_gpu(weights: impl IntoIterator<Item = (DType, usize)>, integer_dot: bool) -> Numerics {
        let (mut dot, mut all, mut q4_1) = (0usize, 0usize, false);
        for (dtype, bytes) in weights {
            all += bytes;
            dot += if matches!(dtype, DType::Q4_0 | DType::Q8_0) { bytes } else { 0 };
            q4_1 |= dtype == DType::Q4_1;
        }
        if integer_dot && !q4_1 && all > 0 && 2 * dot >= all {
            Numerics::LlamaCpp
        } else {
            Numerics::F32
        }
    }

    /// The 8-bit block type activations take before a matmul with these
    /// weights (llama.cpp's `vec_dot_type`), if they take one.
    fn activation_blocks(self, weights: DType) -> Option<DType> {
        match (self, weights) {
            (Numerics::LlamaCpp, DType::Q4_0 | DType::Q8_0) => Some(DType::Q8_0),
            (Numerics::LlamaCpp, DType::Q4_1) => Some(DType::Q8_1),
            _ => None,
        }
    }
}

/// Rows per page of a paged KV cache (vLLM's default block size): small
/// enough that a sequence wastes little of its last page, large enough
/// that a page table stays short.
pub const KV_PAGE: usize = 16;

fn build_function(c: &LlamaConfig, m: &Module, dtypes: &HashMap<String, DType>, numerics: Numerics, variant: Variant) -> Result<kiln_dsl::Function, GraphError> {
    let (name, n_tok) = match variant {
        Variant::Prefill => ("prefill".to_string(), Dim::sym("seq")),
        Variant::Extend => ("extend".to_string(), Dim::sym("seq")),
        Variant::Decode => ("decode".to_string(), d(1)),
        Variant::DecodeBatch(b) => (decode_batch_function(b), d(b)),
    };
    let (hd, kvh) = (c.head_dim, c.kv_heads);
    let f = m.function_builder(&name);
    let tokens = f.input("tokens", DType::I32, &[n_tok.clone()]);
    let rope = f.input("rope", DType::F32, &[n_tok.clone(), d(c.rope.n_dims / 2), d(2)]);
    let logit_rows = matches!(variant, Variant::Prefill | Variant::Extend).then(|| f.input("logit_rows", DType::I32, &[Dim::sym("rows")]));
    let paging = matches!(variant, Variant::DecodeBatch(_)).then(|| (f.input("pages", DType::I32, &[n_tok.clone(), Dim::sym("pages")]), f.input("lens", DType::I32, &[n_tok.clone()])));
    // per layer: the cached keys and values (a sequence's, or the pools)
    let rows = Dim::sym(if paging.is_some() { "pool_rows" } else { "past" });
    let (k_name, v_name) = if paging.is_some() { ("k_pool", "v_pool") } else { ("k_cache", "v_cache") };
    let caches: Vec<(Tensor, Tensor)> = match variant {
        Variant::Prefill => Vec::new(),
        _ => {
            let shape = [rows, d(kvh), d(hd)];
            (0..c.layers).map(|l| (f.input(&format!("{k_name}.{l}"), numerics.kv_dtype(), &shape), f.input(&format!("{v_name}.{l}"), numerics.kv_dtype(), &shape))).collect()
        }
    };
    let p = |name: &str| f.param(name);
    let blocks = |name: &str| dtypes.get(name).copied().and_then(|d| numerics.activation_blocks(d));
    // `x @ wᵀ` for the weights `names`, quantizing `x` once per block type
    // the weights want
    let linear = |x: &Tensor, names: &[&str]| -> Vec<Tensor> {
        let mut quantized: Vec<(DType, Tensor)> = Vec::new();
        names
            .iter()
            .map(|n| match blocks(n) {
                None => x.matmul_t(&p(n)),
                Some(b) => {
                    let i = quantized.iter().position(|(d, _)| *d == b).unwrap_or_else(|| {
                        quantized.push((b, x.quantize(b)));
                        quantized.len() - 1
                    });
                    quantized[i].1.matmul_t(&p(n))
                }
            })
            .collect()
    };
    let to_kv = |t: Tensor| if numerics.kv_dtype() == DType::F32 { t } else { t.cast(numerics.kv_dtype()) };
    let mut x = p("token_embd.weight").gather(&tokens);
    let mut kv_out = Vec::new();
    let scale = 1.0 / (hd as f64).sqrt();
    for l in 0..c.layers {
        let name = |w: &str| format!("blk.{l}.{w}.weight");
        let w = |w: &str| p(&name(w));
        let h = x.rms_norm(&w("attn_norm"), c.norm_eps);
        let [q, k, v] = <[Tensor; 3]>::try_from(linear(&h, &[&name("attn_q"), &name("attn_k"), &name("attn_v")])).expect("three projections");
        // queries meet the keys in the cache's type, as in llama.cpp's f16 matmul
        let q = q.reshape(&[n_tok.clone(), d(c.heads), d(hd)]).rope_table(&rope, c.rope.neox);
        let k = k.reshape(&[n_tok.clone(), d(kvh), d(hd)]).rope_table(&rope, c.rope.neox);
        let v = v.reshape(&[n_tok.clone(), d(kvh), d(hd)]);
        let (q, k, v) = (to_kv(q), to_kv(k), to_kv(v));
        let att = match (caches.get(l), &paging) {
            (None, _) => {
                let att = q.attention(&k, &v, scale);
                kv_out.extend([k, v]);
                att
            }
            // each sequence's token over its own keys in the pools' pages;
            // its new key and value are returned for the caller to store
            (Some((k_pool, v_pool)), Some((pages, lens))) => {
                let att = q.paged_attention(&k, &v, k_pool, v_pool, pages, lens, scale, KV_PAGE);
                kv_out.extend([k, v]);
                att
            }
            (Some((k_cache, v_cache)), None) => {
                let (k, v) = (k_cache.concat(&[&k], 0), v_cache.concat(&[&v], 0));
                let att = q.attention(&k, &v, scale);
                kv_out.extend([k, v]);
                att
            }
        };
        let att = att.reshape(&[n_tok.clone(), d(c.dim)]);
        x = x.add(&linear(&att, &[&name("attn_output")])[0]);
        let h = x.rms_norm(&w("ffn_norm"), c.norm_eps);
        let [gate, up] = <[Tensor; 2]>::try_from(linear(&h, &[&name("ffn_gate"), &name("ffn_up")])).expect("two projections");
        let mlp = linear(&gate.silu().mul(&up), &[&name("ffn_down")]).remove(0);
        x = x.add(&mlp);
    }
    let head = if c.tied_output { "token_embd.weight" } else { "output.weight" };
    let last = match &logit_rows {
        Some(rows) => x.gather(rows),
        None => x,
    };
    let logits = linear(&last.rms_norm(&p("output_norm.weight"), c.norm_eps), &[head]).remove(0);
    let mut outs = vec![&logits];
    outs.extend(kv_out.iter());
    let func = f.finish(&outs)?;
    Ok(func)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gpu_runs_llamacpps_arithmetic_where_integer_dot_products_take_most_weight_bytes() {
        use DType::*;
        let fastest = |w: &[(DType, usize)], dot| Numerics::fastest_on_gpu(w.iter().copied(), dot);
        // a llama.cpp Q4_0 file: its head in Q6_K
        let q4_0 = [(Q4_0, 900), (Q6_K, 100)];
        assert_eq!(fastest(&q4_0, true), Numerics::LlamaCpp);
        assert_eq!(fastest(&q4_0, false), Numerics::F32, "no integer-dot kernels");
        assert_eq!(fastest(&[(Q8_0, 10)], true), Numerics::LlamaCpp);
        // K-quants and f16 take f32 activations either way
        assert_eq!(fastest(&[(Q4_K, 600), (Q6_K, 400)], true), Numerics::F32);
        assert_eq!(fastest(&[(Q4_0, 400), (F16, 600)], true), Numerics::F32, "most bytes f16");
        // any Q4_1: its 8-bit activations take the generic kernel
        assert_eq!(fastest(&[(Q4_0, 900), (Q4_1, 10)], true), Numerics::F32);
        assert_eq!(fastest(&[], true), Numerics::F32);
    }
}
