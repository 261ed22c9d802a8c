//! Fixtures for tests of kiln and of programs built on it: a tiny
//! Llama-architecture GGUF with random weights and a byte-level vocabulary,
//! small enough for the reference interpreter.

use crate::gguf::{GgufWriter, Value};
use kiln_dsl::{DType, HostTensor};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

/// GPT-2's byte-to-character map, as the test vocabulary spells bytes.
fn byte_char(b: u8) -> char {
    let printable = (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b);
    if printable {
        return char::from(b);
    }
    let n = (0..b).filter(|&x| !((b'!'..=b'~').contains(&x) || (0xA1..=0xAC).contains(&x) || (0xAE..=0xFF).contains(&x))).count() as u32;
    char::from_u32(256 + n).unwrap()
}

/// Width of the tiny model.
pub const DIM: usize = 64;
/// Layers of the tiny model.
pub const LAYERS: usize = 2;
/// Context length of the tiny model.
pub const CONTEXT: usize = 96;

/// A tiny Llama GGUF: 2 layers, width 64, 4 query and 2 kv heads, a
/// vocabulary of the 256 bytes, two merges and two control tokens; weights
/// in Q8_0, Q4_0, Q4_1, F16 and F32.
pub fn tiny_llama(seed: u64) -> GgufWriter {
    use DType::*;
    build(seed, DIM, 128, LAYERS, [Q4_1, Q4_1, Q8_0, Q4_0, Q4_1, F16, Q8_0])
}

/// Like [`tiny_llama`], every matrix of the layers in `dtype` (the
/// embedding, also the tied head, stays Q8_0).
pub fn tiny_llama_of(seed: u64, dtype: DType) -> GgufWriter {
    build(seed, DIM, 128, LAYERS, [dtype; 7])
}

/// Like [`tiny_llama`], one layer of width 256 (MLP 512) with K-quant
/// weights: Q4_K and Q6_K (their 256-value blocks need the width).
pub fn tiny_llama_kquants(seed: u64) -> GgufWriter {
    use DType::*;
    build(seed, 256, 512, 1, [Q4_K, Q6_K, Q4_K, Q6_K, Q4_K, Q4_K, Q6_K])
}

/// The metadata of a Llama GGUF with a GPT-2-style vocabulary (`tokens`,
/// the first 256 bytes then text tokens from `first_control` on marked as
/// control tokens), in the order the zoo's tests and stand-ins share.
#[allow(clippy::too_many_arguments)]
fn llama_metadata(w: &mut GgufWriter, name: &str, dims: [usize; 6], tokens: &[String], first_control: usize, merges: &[&str], bos_eos: (usize, usize)) {
    let [layers, context, dim, ffn, heads, kv_heads] = dims;
    let s = |x: &str| Value::Str(x.into());
    let u = |x: usize| Value::U64(x as u64);
    let types: Vec<Value> = (0..tokens.len()).map(|i| Value::I64(if i >= first_control { 3 } else { 1 })).collect();
    w.metadata("general.architecture", s("llama"))
        .metadata("general.name", s(name))
        .metadata("llama.block_count", u(layers))
        .metadata("llama.context_length", u(context))
        .metadata("llama.embedding_length", u(dim))
        .metadata("llama.feed_forward_length", u(ffn))
        .metadata("llama.attention.head_count", u(heads))
        .metadata("llama.attention.head_count_kv", u(kv_heads))
        .metadata("llama.rope.freq_base", Value::F64(10000.0))
        .metadata("llama.attention.layer_norm_rms_epsilon", Value::F64(1e-5))
        .metadata("tokenizer.ggml.model", s("gpt2"))
        .metadata("tokenizer.ggml.pre", s("smollm"))
        .metadata("tokenizer.ggml.tokens", Value::Array(tokens.iter().map(|t| s(t)).collect()))
        .metadata("tokenizer.ggml.token_type", Value::Array(types))
        .metadata("tokenizer.ggml.merges", Value::Array(merges.iter().map(|m| s(m)).collect()))
        .metadata("tokenizer.ggml.bos_token_id", u(bos_eos.0))
        .metadata("tokenizer.ggml.eos_token_id", u(bos_eos.1))
        .metadata("tokenizer.ggml.add_bos_token", Value::Bool(false));
}

/// `matrices`: the dtypes of attn_q, attn_k, attn_v, attn_output, ffn_gate,
/// ffn_up and ffn_down.
fn build(seed: u64, dim: usize, ffn: usize, layers: usize, matrices: [DType; 7]) -> GgufWriter {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut tokens: Vec<String> = (0..=255u8).map(|b| byte_char(b).to_string()).collect();
    tokens.extend(["he".to_string(), "Ġt".to_string(), "<|im_start|>".to_string(), "<|im_end|>".to_string()]);
    let vocab = tokens.len();
    let mut w = GgufWriter::new();
    llama_metadata(&mut w, "tiny", [layers, CONTEXT, dim, ffn, 4, 2], &tokens, 258, &["h e", "Ġ t"], (258, 259));
    let mut tensor = |w: &mut GgufWriter, name: &str, dtype: DType, shape: &[usize], scale: f32, offset: f32| {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|_| offset + scale * rng.random_range(-1.0f32..1.0)).collect();
        let t = HostTensor::from_f32(dtype, shape, &v);
        w.tensor(name, dtype, shape, t.data.to_vec());
    };
    tensor(&mut w, "token_embd.weight", DType::Q8_0, &[vocab, dim], 1.0, 0.0);
    tensor(&mut w, "output_norm.weight", DType::F32, &[dim], 0.2, 1.0);
    let kv = dim / 2; // 2 of 4 heads
    for l in 0..layers {
        let p = |n: &str| format!("blk.{l}.{n}.weight");
        tensor(&mut w, &p("attn_norm"), DType::F32, &[dim], 0.2, 1.0);
        tensor(&mut w, &p("ffn_norm"), DType::F32, &[dim], 0.2, 1.0);
        let shapes = [("attn_q", [dim, dim]), ("attn_k", [kv, dim]), ("attn_v", [kv, dim]), ("attn_output", [dim, dim]), ("ffn_gate", [ffn, dim]), ("ffn_up", [ffn, dim]), ("ffn_down", [dim, ffn])];
        for ((name, shape), dtype) in shapes.iter().zip(matrices) {
            tensor(&mut w, &p(name), dtype, shape, 0.3, 0.0);
        }
    }
    w
}

/// The shape of a Llama-architecture model, for random-weight stand-ins
/// (benchmarks of published shapes without their weights).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LlamaShape {
    /// Name used on the command line.
    pub name: &'static str,
    /// Width.
    pub dim: usize,
    /// MLP width.
    pub ffn: usize,
    /// Layers.
    pub layers: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads.
    pub kv_heads: usize,
    /// Vocabulary.
    pub vocab: usize,
    /// Whether the output projection is the embedding table.
    pub tied: bool,
}

/// Published shapes: SmolLM2-135M, Llama-3.2-1B and Llama-2-7B.
pub const LLAMA_SHAPES: [LlamaShape; 3] = [
    LlamaShape { name: "smollm2-135m", dim: 576, ffn: 1536, layers: 30, heads: 9, kv_heads: 3, vocab: 49152, tied: true },
    LlamaShape { name: "llama-3.2-1b", dim: 2048, ffn: 8192, layers: 16, heads: 32, kv_heads: 8, vocab: 128_256, tied: true },
    LlamaShape { name: "llama-2-7b", dim: 4096, ffn: 11008, layers: 32, heads: 32, kv_heads: 32, vocab: 32000, tied: false },
];

/// The seed of the random-weight stand-ins kiln's command line measures
/// (`random:SHAPE:DTYPE`), so other programs can write the same weights.
pub const STAND_IN_SEED: u64 = 1;

/// The shape and weight type a `SHAPE:DTYPE` spec names (`llama-2-7b:q4_0`;
/// the part after `random:` on kiln's command line), or what was wrong
/// with it, naming the choices.
pub fn random_llama_spec(spec: &str) -> Result<(&'static LlamaShape, DType), String> {
    let names = || LLAMA_SHAPES.iter().map(|s| s.name).collect::<Vec<_>>().join(", ");
    let (shape, dtype) = spec.split_once(':').ok_or_else(|| format!("`{spec}`: expected SHAPE:DTYPE (shapes {})", names()))?;
    let shape = LLAMA_SHAPES.iter().find(|s| s.name == shape).ok_or_else(|| format!("unknown shape `{shape}`; known: {}", names()))?;
    let dtype = match dtype {
        "q4_0" => DType::Q4_0,
        "q4_1" => DType::Q4_1,
        "q8_0" => DType::Q8_0,
        "f16" => DType::F16,
        other => return Err(format!("random weights come in q4_0, q4_1, q8_0 or f16, not `{other}`")),
    };
    Ok((shape, dtype))
}

/// Random storage bytes of `n` values of `dtype` with small magnitudes
/// (about 0.01; norms' weights are 1): quantized blocks get a fixed scale
/// and random quants, f16 and f32 random mantissas and signs. Fast enough
/// for 7B shapes, unlike quantizing random floats.
fn random_bytes(dtype: DType, n: usize, rng: &mut StdRng) -> Vec<u8> {
    let mut data = vec![0u8; dtype.storage_bytes(n)];
    rng.fill_bytes(&mut data);
    let scale = half::f16::from_f32(0.002).to_le_bytes();
    match dtype {
        DType::F16 => data.chunks_exact_mut(2).for_each(|h| {
            // exponent 8 (2^-7), random sign and mantissa
            let bits = (u16::from_le_bytes([h[0], h[1]]) & 0x83ff) | (8 << 10);
            h.copy_from_slice(&bits.to_le_bytes());
        }),
        DType::F32 => data.chunks_exact_mut(4).for_each(|f| {
            let bits = (u32::from_le_bytes([f[0], f[1], f[2], f[3]]) & 0x807f_ffff) | (120 << 23);
            f.copy_from_slice(&bits.to_le_bytes());
        }),
        DType::Q4_0 | DType::Q8_0 => data.chunks_exact_mut(dtype.block_bytes()).for_each(|b| b[..2].copy_from_slice(&scale)),
        DType::Q4_1 => data.chunks_exact_mut(dtype.block_bytes()).for_each(|b| {
            b[..2].copy_from_slice(&scale);
            b[2..4].copy_from_slice(&half::f16::from_f32(-0.015).to_le_bytes());
        }),
        _ => panic!("random {dtype} weights are not made (use q4_0, q4_1, q8_0, f16 or f32)"),
    }
    data
}

/// A random-weight GGUF of `shape` with every matrix (and the embedding)
/// in `dtype`: a byte-level vocabulary padded with unused tokens to the
/// shape's size, context 4096.
pub fn random_llama(shape: &LlamaShape, dtype: DType, seed: u64) -> GgufWriter {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut tokens: Vec<String> = (0..=255u8).map(|b| byte_char(b).to_string()).collect();
    tokens.extend(["he".to_string(), "<|im_start|>".to_string(), "<|im_end|>".to_string()]);
    tokens.extend((tokens.len()..shape.vocab).map(|i| format!("<unused_{i}>")));
    let mut w = GgufWriter::new();
    let name = format!("random {} {}", shape.name, dtype.name());
    llama_metadata(&mut w, &name, [shape.layers, 4096, shape.dim, shape.ffn, shape.heads, shape.kv_heads], &tokens, 257, &["h e"], (257, 258));
    let (dim, kv) = (shape.dim, shape.dim / shape.heads * shape.kv_heads);
    let mut tensor = |w: &mut GgufWriter, name: &str, dtype: DType, dims: &[usize]| {
        let data = random_bytes(dtype, dims.iter().product(), &mut rng);
        w.tensor(name, dtype, dims, data);
    };
    tensor(&mut w, "token_embd.weight", dtype, &[shape.vocab, dim]);
    if !shape.tied {
        tensor(&mut w, "output.weight", dtype, &[shape.vocab, dim]);
    }
    let ones: Vec<u8> = (0..dim).flat_map(|_| 1.0f32.to_le_bytes()).collect();
    w.tensor("output_norm.weight", DType::F32, &[dim], ones.clone());
    for l in 0..shape.layers {
        let p = |n: &str| format!("blk.{l}.{n}.weight");
        w.tensor(&p("attn_norm"), DType::F32, &[dim], ones.clone());
        w.tensor(&p("ffn_norm"), DType::F32, &[dim], ones.clone());
        let mats = [("attn_q", [dim, dim]), ("attn_k", [kv, dim]), ("attn_v", [kv, dim]), ("attn_output", [dim, dim]), ("ffn_gate", [shape.ffn, dim]), ("ffn_up", [shape.ffn, dim]), ("ffn_down", [dim, shape.ffn])];
        for (name, dims) in mats {
            tensor(&mut w, &p(name), dtype, &dims);
        }
    }
    w
}

/// The bytes of [`tiny_llama`]`(seed)`.
pub fn tiny_llama_gguf(seed: u64) -> Vec<u8> {
    tiny_llama(seed).to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stand_in_spec_names_a_published_shape_and_a_weight_type() {
        let (shape, dtype) = random_llama_spec("llama-2-7b:q4_0").unwrap();
        assert_eq!((shape.name, shape.dim, dtype), ("llama-2-7b", 4096, DType::Q4_0));
        assert_eq!(random_llama_spec("smollm2-135m:f16").unwrap().1, DType::F16);
        let no_dtype = random_llama_spec("llama-2-7b").unwrap_err();
        assert!(no_dtype.contains("expected SHAPE:DTYPE") && no_dtype.contains("llama-3.2-1b"), "{no_dtype}");
        let shape = random_llama_spec("llama-9b:q4_0").unwrap_err();
        assert!(shape.contains("unknown shape `llama-9b`") && shape.contains("smollm2-135m"), "{shape}");
        let dtype = random_llama_spec("llama-2-7b:q6_k").unwrap_err();
        assert!(dtype.contains("not `q6_k`"), "{dtype}");
    }
}
