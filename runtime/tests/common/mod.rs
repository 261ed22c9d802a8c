//! Shared helpers of the runtime's differential tests.
#![allow(dead_code)]

use kiln_dsl::{interpret, rel_l2_error, Bindings, DType, Function, HostTensor, Tensor};
use kiln_runtime::{CompileOptions, CpuExecutable};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::HashMap;

/// A fresh RNG per test run: the seed is printed so a failure can be replayed
/// with `KILN_TEST_SEED`.
pub fn rng() -> StdRng {
    let seed = std::env::var("KILN_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random::<u64>);
    eprintln!("KILN_TEST_SEED={seed}");
    StdRng::seed_from_u64(seed)
}

/// Random inputs for `func`, with concrete shapes given per input.
pub fn random_inputs(func: &Function, shapes: &[&[usize]], int_bound: i32, rng: &mut StdRng) -> Vec<HostTensor> {
    func.inputs().iter().zip(shapes).map(|((_, _, ty), shape)| HostTensor::random(ty.dtype, shape, int_bound, rng)).collect()
}

/// Run `func` on the CPU backend (with `options`) and on the reference
/// interpreter, and return the worst relative L2 error over the outputs.
pub fn max_error_with(func: &Function, inputs: &[HostTensor], bindings: &Bindings, options: &CompileOptions) -> f64 {
    let want = interpret(func, inputs, &HashMap::new(), bindings).unwrap_or_else(|e| panic!("interpreter failed on {}: {e}\n{func}", func.name));
    let exe = CpuExecutable::compile(func, options).unwrap_or_else(|e| panic!("compile failed: {e}\n{func}"));
    let got = exe.run(inputs, &HashMap::new(), bindings).unwrap_or_else(|e| panic!("run failed: {e}\n{func}"));
    let mut worst = 0.0f64;
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.shape, w.shape, "output shape of {}", func.name);
        let err = rel_l2_error(&g.to_f64(), &w.data);
        if g.dtype == DType::I32 {
            assert_eq!(g.to_f64(), w.data, "integer output of {} differs", func.name);
        }
        worst = worst.max(err);
    }
    worst
}

/// Differential check against the interpreter with the default schedules.
pub fn check(func: &Function, inputs: &[HostTensor], bindings: &Bindings, tol: f64) {
    let err = max_error_with(func, inputs, bindings, &CompileOptions::default());
    assert!(err <= tol, "{}: relative L2 error {err:e} > {tol:e}\n{func}", func.name);
}

/// A unary op under test.
pub type UnaryOp = fn(&Tensor) -> Tensor;

/// Every unary elementwise op, with inputs shifted or scaled into the range
/// that exercises it (logs of positives, tanh past its knee, ...).
pub const UNARY_OPS: [(&str, UnaryOp); 13] = [
    ("neg", |x| x.neg()),
    ("abs", |x| x.abs()),
    ("exp", |x| x.exp()),
    // inputs in [0.05, 0.55]: away from log's root at 1, where a relative error
    // measures only the rounding of the input
    ("log", |x| x.abs().mul_scalar(0.5).add_scalar(0.05).log()),
    ("sqrt", |x| x.abs().sqrt()),
    ("rsqrt", |x| x.abs().add_scalar(0.1).rsqrt()),
    ("tanh", |x| x.mul_scalar(3.0).tanh()),
    ("erf", |x| x.mul_scalar(2.0).erf()),
    ("sin", |x| x.mul_scalar(4.0).sin()),
    ("cos", |x| x.mul_scalar(4.0).cos()),
    ("silu", |x| x.mul_scalar(4.0).silu()),
    ("gelu", |x| x.mul_scalar(4.0).gelu()),
    ("scalar_ops", |x| x.add_scalar(1.5).sub_scalar(0.25).mul_scalar(-2.0).div_scalar(3.0).maximum_scalar(-0.5).minimum_scalar(0.7)),
];
