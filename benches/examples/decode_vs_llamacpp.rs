//! SmolLM2-135M decode speed: kiln beside llama.cpp in the same run, and the
//! memory-bandwidth limit.
//!
//! `cargo run --release -p kiln-benches --example decode_vs_llamacpp`
//! (needs `pip install llama-cpp-python`; `KILN_HOME` / `KILN_PYTHON` as for
//! `kiln`). A 32-token prompt, then 128 greedy tokens (never stopping at end
//! of sequence), 2 threads each, best of 3; only the decode steps are timed.
//! Results go in `benches/RESULTS.md`.

use kiln_llm_zoo::sampler::argmax;
use kiln_llm_zoo::{Gguf, Logits, Model, ModelCache};
use rayon::prelude::*;
use std::process::Command;
use std::time::Instant;

const PROMPT_TOKENS: usize = 32;
const NEW_TOKENS: usize = 128;

/// Read+write bytes per second of a 2-thread copy of 256 MiB (best of 5).
fn copy_bandwidth() -> f64 {
    let n = 64 << 20;
    let src = vec![1.0f32; n];
    let mut dst = vec![0.0f32; n];
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        dst.par_chunks_mut(1 << 18).zip(src.par_chunks(1 << 18)).for_each(|(d, s)| d.copy_from_slice(s));
        best = best.min(t.elapsed().as_secs_f64());
    }
    std::hint::black_box(&dst);
    (2 * 4 * n) as f64 / best
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    rayon::ThreadPoolBuilder::new().num_threads(2).build_global()?;
    let cache = ModelCache::from_env();
    let python = cache.python.clone();
    let path = cache.resolve("smollm2-135m", &mut |l| eprintln!("{l}"))?;
    let model = Model::load(&path)?;
    let text = "The history of the printing press begins in the fifteenth century, when Johannes Gutenberg, a goldsmith from Mainz, combined several existing technologies into a machine that could reproduce text quickly and cheaply. Before his invention, books were copied by hand.";
    let prompt: Vec<u32> = model.tokenizer.encode(text, true)?.into_iter().take(PROMPT_TOKENS).collect();
    assert_eq!(prompt.len(), PROMPT_TOKENS);

    // kiln
    let mut kiln_best = 0.0f64;
    for _ in 0..3 {
        let mut s = model.session();
        let mut tok = argmax(&s.feed(&prompt, Logits::Last)?[0]) as u32;
        let t = Instant::now();
        for _ in 1..NEW_TOKENS {
            tok = argmax(&s.feed(&[tok], Logits::Last)?[0]) as u32;
        }
        kiln_best = kiln_best.max((NEW_TOKENS - 1) as f64 / t.elapsed().as_secs_f64());
    }

    // llama.cpp, same prompt ids, same machine, same run
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/llamacpp_decode.py");
    let ids = format!("{prompt:?}");
    let out = Command::new(&python).arg(script).arg(&path).arg(&ids).arg(NEW_TOKENS.to_string()).arg("2").output()?;
    if !out.status.success() {
        return Err(format!("llama.cpp run failed (pip install llama-cpp-python?): {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let peer: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let llama = peer["tokens_per_s"].as_f64().ok_or("no tokens_per_s from llama.cpp")?;

    // the limit: every weight once per token (the tied embedding is the
    // output head, read whole), plus the KV cache read by attention
    let g = Gguf::open(&path)?;
    let weights: usize = g.tensors.iter().map(|t| t.range.len()).sum();
    let c = &model.config;
    let mean_past = PROMPT_TOKENS + NEW_TOKENS / 2;
    let kv = c.layers * 2 * mean_past * c.kv_dim() * 4;
    let bytes = (weights + kv) as f64;
    let bw = copy_bandwidth();
    // a copy moves each byte twice (read and write); reading alone is at best that fast per byte
    let limit = bw / bytes;

    println!("SmolLM2-135M-Instruct Q4_1, {PROMPT_TOKENS}-token prompt, {NEW_TOKENS} greedy tokens, 2 threads, best of 3");
    println!("| | tokens/s | vs llama.cpp | share of the bandwidth limit |");
    println!("|---|---|---|---|");
    println!("| kiln (CPU, Cranelift) | {kiln_best:.1} | {:.2}x | {:.0}% |", kiln_best / llama, 100.0 * kiln_best / limit);
    println!("| llama.cpp (llama-cpp-python) | {llama:.1} | 1.00x | {:.0}% |", 100.0 * llama / limit);
    println!("| limit: {:.1} MB/token over {:.1} GB/s (2-thread copy, read+write) | {limit:.0} | | |", bytes / 1e6, bw / 1e9);
    Ok(())
}
