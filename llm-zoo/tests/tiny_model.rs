//! The Llama graph on a tiny random model: against the f64 reference
//! interpreter, and the KV cache against evaluating everything at once.

mod common;

use common::write_temp;
use kiln_llm_zoo::testing::{tiny_llama, tiny_llama_kquants, tiny_llama_of};
use kiln_llm_zoo::testing::CONTEXT;
use kiln_dsl::{interpret, rel_l2_error, Bindings, HostTensor};
use kiln_llm_zoo::llama::{build_module, load_weights, rope_table, LlamaConfig, Numerics};
use kiln_llm_zoo::{Gguf, Logits, Model, PagedSequence, SamplerConfig, ZooError, KV_PAGE};
use kiln_runtime::{CompileOptions, CpuModule};

fn ids(v: &[i32]) -> HostTensor {
    HostTensor::from_i32(&[v.len()], v)
}

#[test]
fn prefill_matches_the_reference_interpreter() {
    let (_dir, path) = write_temp(&tiny_llama(1).to_bytes());
    let config = prefill_against_interpreter(&path, Numerics::F32);
    prefill_against_interpreter(&path, Numerics::LlamaCpp);
    assert_eq!((config.layers, config.heads, config.kv_heads, config.head_dim, config.vocab), (2, 4, 2, 16, 260));
    assert!(config.tied_output);
}

/// What a GPU runs a file with unless told: read from its tensor table.
#[test]
fn a_gpus_default_arithmetic_follows_the_files_weight_types() {
    let default = |bytes: Vec<u8>, integer_dot| {
        let (_dir, path) = write_temp(&bytes);
        kiln_llm_zoo::gpu_default_numerics(&path, integer_dot).unwrap()
    };
    assert_eq!(default(tiny_llama_of(1, kiln_dsl::DType::Q4_0).to_bytes(), true), Numerics::LlamaCpp);
    assert_eq!(default(tiny_llama_of(1, kiln_dsl::DType::Q4_0).to_bytes(), false), Numerics::F32);
    assert_eq!(default(tiny_llama(1).to_bytes(), true), Numerics::F32, "it has Q4_1 matrices");
    assert_eq!(default(tiny_llama_kquants(1).to_bytes(), true), Numerics::F32);
    let (_dir, path) = write_temp(b"GGUF but not really");
    assert!(kiln_llm_zoo::gpu_default_numerics(&path, true).is_err());
}

#[test]
fn a_k_quant_model_matches_the_reference_interpreter() {
    let (_dir, path) = write_temp(&tiny_llama_kquants(1).to_bytes());
    let g = Gguf::open(&path).unwrap();
    assert_eq!(g.tensor("blk.0.attn_k.weight").unwrap().dtype, kiln_dsl::DType::Q6_K);
    assert_eq!(g.tensor("blk.0.ffn_gate.weight").unwrap().dtype, kiln_dsl::DType::Q4_K);
    let config = prefill_against_interpreter(&path, Numerics::F32);
    prefill_against_interpreter(&path, Numerics::LlamaCpp);
    assert_eq!((config.dim, config.head_dim), (256, 64));
}

/// Run `prefill` compiled and in the interpreter; every output must agree to
/// 1e-5. (With llama.cpp's arithmetic an activation that f32 and f64 put on
/// opposite sides of an 8-bit or f16 rounding step would move the result by
/// a whole step; on this fixed model and prompt none does.)
fn prefill_against_interpreter(path: &std::path::Path, numerics: Numerics) -> LlamaConfig {
    let g = Gguf::open(path).unwrap();
    let config = LlamaConfig::from_gguf(&g, path).unwrap();
    let weights = load_weights(&g, &config, path).unwrap();
    let dtypes = weights.iter().map(|(k, v)| (k.clone(), v.dtype)).collect();
    let module = build_module(&config, &dtypes, numerics, &[]).unwrap();
    let compiled = CpuModule::compile(&module, weights.clone(), &CompileOptions::default()).unwrap();
    let tokens = [5, 200, 17, 17, 259, 3, 99];
    let inputs = vec![ids(&tokens), rope_table(&config.rope, 0..7), ids(&[0, 3, 6])];
    let got = compiled.run("prefill", &inputs, &Bindings::new()).unwrap();
    let want = interpret(module.function("prefill").unwrap(), &inputs, &weights, &Bindings::new()).unwrap();
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g.shape, w.shape, "output {i}");
        let err = rel_l2_error(&g.to_f64(), &w.data);
        assert!(err < 1e-5, "{numerics:?} output {i}: relative L2 error {err:e}");
    }
    assert_eq!(got[0].shape, vec![3, 260]);
    config
}

#[test]
fn the_kv_cache_gives_the_logits_of_evaluating_everything_at_once() {
    let (_dir, path) = write_temp(&tiny_llama(2).to_bytes());
    let model = Model::load(&path).unwrap();
    let tokens: Vec<u32> = vec![1, 50, 99, 258, 7, 7, 7, 120, 33, 44];
    let all = model.session().feed(&tokens, Logits::All).unwrap();
    // prefill 4, extend by 3 (all rows), then decode one at a time
    let mut s = model.session();
    let mut rows = s.feed(&tokens[..4], Logits::All).unwrap();
    rows.extend(s.feed(&tokens[4..7], Logits::All).unwrap());
    for &t in &tokens[7..] {
        rows.extend(s.feed(&[t], Logits::Last).unwrap());
    }
    assert_eq!(s.len(), tokens.len());
    assert_eq!(rows.len(), all.len());
    for (i, (a, b)) in rows.iter().zip(&all).enumerate() {
        let a: Vec<f64> = a.iter().map(|&x| x as f64).collect();
        let b: Vec<f64> = b.iter().map(|&x| x as f64).collect();
        let err = rel_l2_error(&a, &b);
        assert!(err < 1e-5, "position {i}: relative L2 error {err:e}");
    }
    // forgetting the tail and re-evaluating it gives the same logits again
    s.truncate(6);
    let again = s.feed(&tokens[6..], Logits::All).unwrap();
    let err = rel_l2_error(&again[3].iter().map(|&x| x as f64).collect::<Vec<_>>(), &all[9].iter().map(|&x| x as f64).collect::<Vec<_>>());
    assert!(err < 1e-5, "after truncate: {err:e}");
}

#[test]
fn tokenizer_applies_merges_and_recognises_control_tokens() {
    let (_dir, path) = write_temp(&tiny_llama(3).to_bytes());
    let model = Model::load(&path).unwrap();
    let t = &model.tokenizer;
    // "he" and "Ġt" are merges; digits split one by one (smollm pre-tokenizer)
    assert_eq!(t.encode("he t", true).unwrap(), vec![256, 257]);
    assert_eq!(t.encode("<|im_start|>he", true).unwrap(), vec![258, 256]);
    // as plain text the control token is just characters
    let plain = t.encode("<|im_start|>", false).unwrap();
    assert!(plain.len() > 1 && !plain.contains(&258));
    assert_eq!(t.decode(&t.encode("héllo, wörld 123", true).unwrap()), "héllo, wörld 123");
    assert!(t.is_end_of_generation(259));
}

#[test]
fn greedy_generation_is_deterministic_and_respects_the_limit() {
    let (_dir, path) = write_temp(&tiny_llama(4).to_bytes());
    let model = Model::load(&path).unwrap();
    let prompt = model.tokenizer.encode("hello", true).unwrap();
    let a = model.generate(&prompt, 12, &SamplerConfig::default(), |_| {}).unwrap();
    let b = model.generate(&prompt, 12, &SamplerConfig::default(), |_| {}).unwrap();
    assert_eq!(a.tokens, b.tokens);
    assert!(a.tokens.len() <= 12 && (a.tokens.len() == 12 || a.stopped_at_end));
    // greedy tokens are the argmax of the logits, step by step
    let mut s = model.session();
    let mut logits = s.feed(&prompt, Logits::Last).unwrap().pop().unwrap();
    for &t in &a.tokens {
        assert_eq!(kiln_llm_zoo::sampler::argmax(&logits) as u32, t);
        logits = s.feed(&[t], Logits::Last).unwrap().pop().unwrap();
    }
}

#[test]
fn a_prompt_longer_than_the_context_is_refused() {
    let (_dir, path) = write_temp(&tiny_llama(5).to_bytes());
    let model = Model::load(&path).unwrap();
    let long = vec![7u32; CONTEXT + 1];
    let err = model.generate(&long, 4, &SamplerConfig::default(), |_| {}).unwrap_err().to_string();
    assert!(err.contains(&format!("do not fit the context of {CONTEXT} tokens")), "{err}");
    let err = model.session().feed(&long, Logits::Last).unwrap_err().to_string();
    assert!(err.contains("context"), "{err}");
    // prompt plus the tokens to generate must fit too
    let err = model.generate(&vec![7u32; CONTEXT - 2], 10, &SamplerConfig::default(), |_| {}).unwrap_err().to_string();
    assert!(err.contains("prompt plus the tokens to generate"), "{err}");
}

/// Sequences at different lengths in a paged KV pool: `decode_batch`
/// gives each the logits that feeding its token alone to a session gives:
/// bit for bit where `exact` (the CPU with llama.cpp's numerics: its
/// matmuls sum each row in one order whatever the row count, and its paged
/// attention reads the pages in the order its attention reads a contiguous
/// cache), else to f32 rounding (a GPU schedules a matmul of several rows,
/// and so its sums, unlike one row's; the generic f32 attention kernels
/// may vectorize a key count of whole pages more widely than a cache's).
/// Sequences cross page boundaries, the pool runs out and refuses, and a
/// released sequence's pages serve another.
fn batched_decode_equals_single_decodes(device: &kiln_runtime::Device, options: &CompileOptions, numerics: Numerics, exact: bool) {
    let same = |a: &[f32], b: &[f32], what: &str| {
        if exact {
            assert_eq!(a, b, "{numerics:?}: {what}");
        } else {
            let err = rel_l2_error(&a.iter().map(|&x| x as f64).collect::<Vec<_>>(), &b.iter().map(|&x| x as f64).collect::<Vec<_>>());
            assert!(err < 1e-5, "{numerics:?}: {what}: relative L2 error {err:e}");
        }
    };
    let (_dir, path) = write_temp(&tiny_llama(5).to_bytes());
    let model = Model::load_batched(&path, device, options, numerics, &[3, 2, 1]).unwrap();
    assert_eq!(model.batch_sizes(), &[1, 2, 3]);
    // 3 tokens: one page; 15: one page, then its second new token takes a
    // second; 20: two pages
    let prompts: Vec<Vec<u32>> = [3usize, KV_PAGE - 1, KV_PAGE + 4].iter().map(|&n| (0..n as u32).map(|i| (i * 37 + n as u32) % 250).collect()).collect();
    let next: [u32; 3] = [10, 11, 12];
    let mut alone = Vec::new();
    for (p, &t) in prompts.iter().zip(&next) {
        let mut s = model.session();
        let prefill = s.feed(p, Logits::Last).unwrap().remove(0);
        let first = s.feed(&[t], Logits::Last).unwrap().remove(0);
        let second = s.feed(&[t + 100], Logits::Last).unwrap().remove(0);
        alone.push((prefill, first, second));
    }
    let mut pool = model.kv_pool(4 * KV_PAGE).unwrap();
    assert_eq!((pool.pages(), pool.free_pages(), pool.capacity()), (4, 4, 4 * KV_PAGE));
    let mut seqs: Vec<_> = prompts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut s = pool.sequence();
            let logits = model.prefill_paged(&mut pool, &mut s, p).unwrap();
            same(&logits, &alone[i].0, &format!("sequence {i}, prompt"));
            s
        })
        .collect();
    assert_eq!(pool.free_pages(), 0);
    // a prompt the full pool has no pages for is refused, the sequence left empty
    let mut refused = pool.sequence();
    let err = model.prefill_paged(&mut pool, &mut refused, &prompts[0]).unwrap_err();
    assert!(matches!(err, ZooError::KvPoolFull { needed: 1, free: 0, pages: 4 }), "{err}");
    assert_eq!((refused.len(), refused.pages()), (0, 0));
    // three at once, then two of them at once
    let mut all: Vec<&mut PagedSequence> = seqs.iter_mut().collect();
    let rows = model.decode_batch(&mut pool, &mut all, &next).unwrap();
    for (i, row) in rows.iter().enumerate() {
        same(row, &alone[i].1, &format!("sequence {i}, first token"));
    }
    let (a, b) = seqs.split_at_mut(2);
    let mut two = vec![&mut b[0], &mut a[0]];
    let rows = model.decode_batch(&mut pool, &mut two, &[next[2] + 100, next[0] + 100]).unwrap();
    same(&rows[0], &alone[2].2, "sequence 2, second token");
    same(&rows[1], &alone[0].2, "sequence 0, second token");
    assert_eq!(seqs[0].tokens(), [prompts[0].clone(), vec![10, 110]].concat());
    // sequence 1's second token needs a page the full pool does not have:
    // refused, and nothing changes
    let err = model.decode_batch(&mut pool, &mut [&mut seqs[1]], &[111]).unwrap_err();
    assert!(matches!(err, ZooError::KvPoolFull { needed: 1, free: 0, pages: 4 }), "{err}");
    assert_eq!(seqs[1].len(), KV_PAGE);
    // ending sequence 0 frees its page for it
    let mut ended = seqs.remove(0);
    pool.release(&mut ended).unwrap();
    assert_eq!((pool.free_pages(), ended.len()), (1, 0));
    let rows = model.decode_batch(&mut pool, &mut [&mut seqs[0]], &[111]).unwrap();
    same(&rows[0], &alone[1].2, "sequence 1, second token, on a page sequence 0 held");
    assert_eq!(seqs[0].pages(), 2);
    // sizes it was not compiled for, sequences without a prompt or of
    // another pool, are refused
    let (s0, s1) = seqs.split_at_mut(1);
    let mut fresh = pool.sequence();
    let err = model.decode_batch(&mut pool, &mut [&mut s0[0], &mut s1[0], &mut ended, &mut fresh], &[1, 2, 3, 4]).unwrap_err();
    assert!(err.to_string().contains("no function decodes 4"), "{err}");
    let err = model.decode_batch(&mut pool, &mut [&mut ended], &[3]).unwrap_err();
    assert!(err.to_string().contains("without a prompt"), "{err}");
    let mut other = model.kv_pool(KV_PAGE).unwrap();
    let mut stranger = other.sequence();
    model.prefill_paged(&mut other, &mut stranger, &prompts[0]).unwrap();
    let err = model.decode_batch(&mut pool, &mut [&mut stranger], &[3]).unwrap_err();
    assert!(err.to_string().contains("another KV pool"), "{err}");
}

#[test]
fn batched_decode_equals_single_decodes_on_the_cpu() {
    // as written, and rewritten as `kiln` compiles it (fused kernels)
    let cpu = kiln_runtime::Device::Cpu;
    for options in [CompileOptions::default(), CompileOptions::default().rewriting(cpu.cost_model())] {
        for numerics in [Numerics::LlamaCpp, Numerics::F32] {
            batched_decode_equals_single_decodes(&cpu, &options, numerics, numerics == Numerics::LlamaCpp);
        }
    }
}

#[test]
fn batched_decode_equals_single_decodes_on_the_gpu() {
    let (device, _) = kiln_runtime::Device::open(kiln_runtime::DeviceChoice::Gpu(0)).unwrap_or_else(|e| panic!("{e}"));
    let options = CompileOptions::default().rewriting(device.cost_model());
    batched_decode_equals_single_decodes(&device, &options, Numerics::F32, false);
}
