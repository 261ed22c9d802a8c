//! A two-layer toy transformer written in the DSL runs end to end on the CPU
//! backend and matches the reference interpreter, for prefill and for decode
//! over a KV cache; decode after prefill agrees with a longer prefill.

use kiln_dsl::{interpret, rel_l2_error, Bindings, DType, HostTensor};
use kiln_examples::toy_llama::{build, random_params, Config};
use kiln_runtime::{CompileOptions, CpuModule};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[test]
fn toy_llama_matches_the_interpreter_and_its_own_kv_cache() {
    let seed: u64 = std::env::var("KILN_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    eprintln!("KILN_TEST_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let c = Config::TINY;
    let module = build(c).unwrap();
    let params = random_params(&module, &mut rng);
    let cpu = CpuModule::compile(&module, params.clone(), &CompileOptions::default()).unwrap();

    let n = 7;
    let tokens: Vec<i32> = (0..n).map(|_| rng.random_range(0..c.vocab as i32)).collect();
    let positions: Vec<i32> = (0..n as i32).collect();
    let ins = |t: &[i32], p: &[i32]| vec![HostTensor::from_i32(&[t.len()], t), HostTensor::from_i32(&[p.len()], p)];

    // prefill of all n tokens: CPU vs interpreter
    let prefill = module.function("prefill").unwrap();
    let want = interpret(prefill, &ins(&tokens, &positions), &params, &Bindings::new()).unwrap();
    let got = cpu.run("prefill", &ins(&tokens, &positions), &Bindings::new()).unwrap();
    assert_eq!(got.len(), 1 + 2 * c.layers);
    for (g, w) in got.iter().zip(&want) {
        let err = rel_l2_error(&g.to_f64(), &w.data);
        assert!(err < 1e-5, "prefill output error {err:e}");
    }

    // prefill n-1 tokens, then decode the last one over the cache
    let short = cpu.run("prefill", &ins(&tokens[..n - 1], &positions[..n - 1]), &Bindings::new()).unwrap();
    let mut dec_in = ins(&tokens[n - 1..], &positions[n - 1..]);
    dec_in.extend(short[1..].iter().cloned());
    let decode = module.function("decode").unwrap();
    let want_dec = interpret(decode, &dec_in, &params, &Bindings::new()).unwrap();
    let got_dec = cpu.run("decode", &dec_in, &Bindings::new()).unwrap();
    for (g, w) in got_dec.iter().zip(&want_dec) {
        let err = rel_l2_error(&g.to_f64(), &w.data);
        assert!(err < 1e-5, "decode output error {err:e}");
    }
    // the decoded logits equal the last row of the full prefill
    let full = got[0].to_f64();
    let last_row = &full[(n - 1) * c.vocab..];
    let err = rel_l2_error(&got_dec[0].to_f64(), last_row);
    assert!(err < 1e-5, "decode vs prefill error {err:e}");
    // and the grown caches equal the full prefill's keys and values
    for l in 0..2 * c.layers {
        assert!(rel_l2_error(&got_dec[1 + l].to_f64(), &got[1 + l].to_f64()) < 1e-5);
    }
    assert_eq!(got_dec[0].dtype, DType::F32);
}
