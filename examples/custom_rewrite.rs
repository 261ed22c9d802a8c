//! How to add a rewrite rule and a pass to kiln's graph optimizer from your
//! own crate, and what the optimizer reports.
//!
//! Run with `cargo run --release -p kiln-examples --example custom_rewrite`.
//!
//! 1. A `Rule` is a function from one e-node to the terms equal to it
//!    (`kiln_examples::rewriting::double_negation`).
//! 2. A `Pass` transforms a whole `Function` before the e-graph is built
//!    (`kiln_examples::rewriting::DropSameTypeCasts`).
//! 3. `Optimizer::new(cost).with_rule(..).with_pass(..)` runs them with the
//!    built-in rules; `CompileOptions { optimizer: Some(..), .. }` makes the
//!    executors use it. The reference interpreter checks the result.

use kiln_dsl::{interpret, rel_l2_error, Bindings, DType, Dim, FunctionBuilder, HostTensor};
use kiln_examples::rewriting::{double_negation, DropSameTypeCasts};
use kiln_rewrite::{CostModel, Optimizer};
use kiln_runtime::{CompileOptions, CpuExecutable};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::HashMap;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // a small MLP with a double negation and a no-op cast in it
    let f = FunctionBuilder::new("mlp");
    let x = f.input("x", DType::F32, &[Dim::sym("batch"), 64.into()]);
    let w1 = f.input("w1", DType::Q8_0, &[128.into(), 64.into()]);
    let w2 = f.input("w2", DType::F32, &[32.into(), 128.into()]);
    let h = x.matmul_t(&w1).neg().neg().cast(DType::F32).silu();
    let y = h.matmul_t(&w2).mul_scalar(2.0).mul_scalar(0.5);
    let func = f.finish(&[&y])?;

    let optimizer = Optimizer::new(CostModel::cpu()).with_rule(double_negation()).with_pass(DropSameTypeCasts);
    let (rewritten, report) = optimizer.optimize(&func)?;
    println!("before:\n{func}\nafter:\n{rewritten}\n{}", report.summary());
    for r in report.rules.iter().filter(|r| r.applied > 0) {
        println!("  {:?} rule {}: applied {} times", r.family, r.rule, r.applied);
    }

    // the executors take the optimizer through their options
    let mut rng = StdRng::seed_from_u64(3);
    let inputs = [HostTensor::random(DType::F32, &[5, 64], 0, &mut rng), HostTensor::random(DType::Q8_0, &[128, 64], 0, &mut rng), HostTensor::random(DType::F32, &[32, 128], 0, &mut rng)];
    let options = CompileOptions { optimizer: Some(optimizer), ..Default::default() };
    let exe = CpuExecutable::compile(&func, &options)?;
    let got = exe.run(&inputs, &HashMap::new(), &Bindings::new())?;
    let want = interpret(&func, &inputs, &HashMap::new(), &Bindings::new())?;
    let err = rel_l2_error(&got[0].to_f64(), &want[0].data);
    println!("{} kernels instead of {}; relative L2 error against the interpreter on the graph as written: {err:.1e}", exe.kernel_count(), report.kernels_before);
    assert!(err < 1e-5);
    Ok(())
}
