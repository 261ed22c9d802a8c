//! A small Llama-style transformer in kiln's DSL.

use kiln_dsl::{Dim, DType, GraphError, HostTensor, Module, RopeConfig, Tensor};
use rand::Rng;
use std::collections::HashMap;

/// Hyper-parameters.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Vocabulary size.
    pub vocab: usize,
    /// Model width.
    pub dim: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads (grouped-query attention when fewer than `heads`).
    pub kv_heads: usize,
    /// Hidden width of the SwiGLU MLP.
    pub ffn: usize,
    /// Transformer blocks.
    pub layers: usize,
    /// Weight type of the projections and the embedding.
    pub weights: DType,
}

impl Config {
    /// A two-layer model small enough for the reference interpreter.
    pub const TINY: Config = Config { vocab: 64, dim: 32, heads: 4, kv_heads: 2, ffn: 64, layers: 2, weights: DType::Q8_0 };

    fn head_dim(&self) -> usize {
        self.dim / self.heads
    }
}

fn d(n: usize) -> Dim {
    Dim::from(n)
}

/// Declares the parameters and builds `prefill` (inputs `tokens`,
/// `positions`: `i32[seq]`; outputs logits `[seq, vocab]` then each layer's
/// keys and values `[seq, kv_heads, head_dim]`) and `decode` (inputs one
/// token and position, then each layer's cached keys and values
/// `[past, ..]`; outputs logits `[1, vocab]` then the caches grown by one).
pub fn build(c: Config) -> Result<Module, GraphError> {
    let (hd, kvd) = (c.head_dim(), c.kv_heads * c.head_dim());
    let mut m = Module::new();
    m.declare_param("token_embd", c.weights, &[d(c.vocab), d(c.dim)])?;
    m.declare_param("output_norm", DType::F32, &[d(c.dim)])?;
    for l in 0..c.layers {
        for (name, rows, cols) in [("attn_q", c.dim, c.dim), ("attn_k", kvd, c.dim), ("attn_v", kvd, c.dim), ("attn_output", c.dim, c.dim), ("ffn_gate", c.ffn, c.dim), ("ffn_up", c.ffn, c.dim), ("ffn_down", c.dim, c.ffn)] {
            m.declare_param(&format!("blk.{l}.{name}"), c.weights, &[d(rows), d(cols)])?;
        }
        m.declare_param(&format!("blk.{l}.attn_norm"), DType::F32, &[d(c.dim)])?;
        m.declare_param(&format!("blk.{l}.ffn_norm"), DType::F32, &[d(c.dim)])?;
    }
    let rope = RopeConfig { base: 10000.0, n_dims: hd, neox: false };
    let seq = Dim::sym("seq");
    let past = Dim::sym("past");

    for (fname, n_tok) in [("prefill", seq.clone()), ("decode", d(1))] {
        let f = m.function_builder(fname);
        let tokens = f.input("tokens", DType::I32, &[n_tok.clone()]);
        let positions = f.input("positions", DType::I32, &[n_tok.clone()]);
        let caches: Vec<(Tensor, Tensor)> = if fname == "decode" {
            (0..c.layers)
                .map(|l| {
                    let shape = [past.clone(), d(c.kv_heads), d(hd)];
                    (f.input(&format!("k_cache.{l}"), DType::F32, &shape), f.input(&format!("v_cache.{l}"), DType::F32, &shape))
                })
                .collect()
        } else {
            Vec::new()
        };
        let p = |name: &str| f.param(name);
        let mut x = p("token_embd").gather(&tokens);
        let mut kv_out = Vec::new();
        for l in 0..c.layers {
            let w = |name: &str| p(&format!("blk.{l}.{name}"));
            let h = x.rms_norm(&w("attn_norm"), 1e-5);
            let q = h.matmul_t(&w("attn_q")).reshape(&[n_tok.clone(), d(c.heads), d(hd)]).rope(&positions, rope);
            let k = h.matmul_t(&w("attn_k")).reshape(&[n_tok.clone(), d(c.kv_heads), d(hd)]).rope(&positions, rope);
            let v = h.matmul_t(&w("attn_v")).reshape(&[n_tok.clone(), d(c.kv_heads), d(hd)]);
            let (k, v) = match caches.get(l) {
                Some((kc, vc)) => (kc.concat(&[&k], 0), vc.concat(&[&v], 0)),
                None => (k, v),
            };
            let att = q.attention(&k, &v, 1.0 / (hd as f64).sqrt()).reshape(&[n_tok.clone(), d(c.dim)]);
            x = x.add(&att.matmul_t(&w("attn_output")));
            let h = x.rms_norm(&w("ffn_norm"), 1e-5);
            let mlp = h.matmul_t(&w("ffn_gate")).silu().mul(&h.matmul_t(&w("ffn_up"))).matmul_t(&w("ffn_down"));
            x = x.add(&mlp);
            kv_out.push(k);
            kv_out.push(v);
        }
        let logits = x.rms_norm(&p("output_norm"), 1e-5).matmul_t(&p("token_embd"));
        let mut outs = vec![&logits];
        outs.extend(kv_out.iter());
        m.add_function(f.finish(&outs)?)?;
    }
    Ok(m)
}

/// Random parameters of the right types (norm weights near 1).
pub fn random_params(m: &Module, rng: &mut impl Rng) -> HashMap<String, HostTensor> {
    m.params
        .iter()
        .map(|p| {
            let shape: Vec<usize> = p.ty.shape.iter().map(|d| d.as_const().expect("parameters have constant shapes") as usize).collect();
            let n: usize = shape.iter().product();
            let values: Vec<f32> = if p.name.ends_with("norm") { (0..n).map(|_| rng.random_range(0.8..1.2)).collect() } else { (0..n).map(|_| rng.random_range(-0.5..0.5)).collect() };
            (p.name.clone(), HostTensor::from_f32(p.ty.dtype, &shape, &values))
        })
        .collect()
}
