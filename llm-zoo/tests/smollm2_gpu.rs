//! SmolLM2-135M on the GPU backend (lavapipe, Mesa's Vulkan on the CPU, in
//! CI; `scripts/test.sh` installs it), compiled as `kiln` compiles for a GPU
//! (graphs rewritten and fused), against the CPU backend on the graph as
//! written, at the same arithmetic: the same greedy tokens on every golden
//! prompt, and logits close to the CPU's. Each backend sums in its own order, so only f32
//! rounding separates them. lavapipe runs the model at about 0.4 tokens/s
//! on two cores, so CI compares the first `KILN_GPU_TOKENS` (default 8)
//! generated tokens per prompt; the H100 run in `benches/RESULTS.md` sets
//! it to 32. A machine without a GPU adapter fails, nothing is skipped.

mod common;

use kiln_llm_zoo::{Logits, Model, Numerics, SamplerConfig};
use kiln_runtime::{CompileOptions, Device, DeviceChoice};
use serde_json::Value;

fn golden_prompts() -> Vec<Vec<u32>> {
    let path = format!("{}/tests/goldens/smollm2-135m.generate.json", env!("CARGO_MANIFEST_DIR"));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    v.as_array().unwrap().iter().map(|g| g["prompt_ids"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()).collect()
}

fn gpu() -> Device {
    let (device, _) = Device::open(DeviceChoice::Gpu(0)).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("GPU: {}", device.info());
    device
}

/// How `kiln` compiles for a GPU: graphs rewritten (fused) first, priced by
/// the device's cost model (lavapipe's is the CPU's: it recomputes dearly).
fn gpu_options(device: &Device) -> CompileOptions {
    CompileOptions::default().rewriting(device.cost_model())
}

fn rel_l2(a: &[f32], b: &[f32]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| (*x as f64 - *y as f64).powi(2)).sum();
    let den: f64 = b.iter().map(|y| (*y as f64).powi(2)).sum();
    (num / den).sqrt()
}

#[test]
fn greedy_tokens_equal_the_cpu_backends_on_the_golden_prompts() {
    let path = common::smollm2();
    let tokens: usize = std::env::var("KILN_GPU_TOKENS").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    let cpu = Model::load_with(&path, &Default::default(), Numerics::F32).unwrap();
    let device = gpu();
    let gpu = Model::load_on(&path, &device, &gpu_options(&device), Numerics::F32).unwrap();
    for prompt in golden_prompts() {
        let want = cpu.generate(&prompt, tokens, &SamplerConfig::default(), |_| {}).unwrap();
        let t0 = std::time::Instant::now();
        let got = gpu.generate(&prompt, tokens, &SamplerConfig::default(), |_| {}).unwrap();
        eprintln!("{} prompt tokens + {} generated on the GPU in {:.1} s", prompt.len(), got.tokens.len(), t0.elapsed().as_secs_f64());
        assert_eq!(got.tokens, want.tokens, "prompt {prompt:?}: GPU {:?} vs CPU {:?}", got.text, want.text);
        assert_eq!(got.stopped_at_end, want.stopped_at_end);
    }
}

/// With f32 arithmetic only summation order separates the backends. (In
/// llama.cpp's arithmetic, activations round to 8 bits before each matmul,
/// and an f32 difference of an ulp moves a value across a rounding step
/// often enough over 30 layers that the logits end up ~4e-2 apart (measured
/// on lavapipe): a GPU runs it, but is not held to the CPU's tokens.)
#[test]
fn logits_after_a_prompt_and_a_step_are_close_to_the_cpus() {
    let path = common::smollm2();
    let prompt = &golden_prompts()[0];
    let cpu = Model::load_with(&path, &Default::default(), Numerics::F32).unwrap();
    // f32 arithmetic throughout: not the matrix units' f16 tiles of a
    // prefill, where a GPU has them (the greedy-token test above uses them)
    let device = match gpu() {
        Device::Gpu(g, name) => Device::Gpu(g.with_target(kiln_runtime::GpuTarget { matrix_units: false, ..g.target() }), name),
        cpu => cpu,
    };
    let gpu = Model::load_on(&path, &device, &gpu_options(&device), Numerics::F32).unwrap();
    let (mut a, mut b) = (cpu.session(), gpu.session());
    for step in [prompt.as_slice(), &[279]] {
        let want = a.feed(step, Logits::Last).unwrap().pop().unwrap();
        let got = b.feed(step, Logits::Last).unwrap().pop().unwrap();
        let err = rel_l2(&got, &want);
        eprintln!("{} tokens: relative L2 {err:e}", step.len());
        assert!(err < 1e-4, "GPU logits {err:e} from the CPU's after {} tokens", step.len());
    }
}
