//! How to define a new op and a new small model, compile them and run them.
//!
//! Run with `cargo run --release -p kiln-examples --example custom_op_and_model`.
//!
//! 1. An op is a type implementing `OpDef`: type inference plus its compute
//!    definition as tensor expressions (see `L2Normalize` in `examples/lib.rs`).
//!    Nothing is written per backend.
//! 2. A model is Rust code chaining tensor methods; `FunctionBuilder::apply`
//!    adds a user-defined op to the chain.
//! 3. `CpuExecutable::compile` lowers every op to loop nests, schedules them
//!    and JIT-compiles them; `run` executes with symbolic dims bound from the
//!    inputs. The reference interpreter checks the result.

use kiln_dsl::{interpret, rel_l2_error, Bindings, DType, Dim, FunctionBuilder, HostTensor};
use kiln_examples::toy_llama::{self, Config};
use kiln_examples::L2Normalize;
use kiln_runtime::{CompileOptions, CpuExecutable, CpuModule};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::HashMap;
use std::sync::Arc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = StdRng::seed_from_u64(7);

    // --- a new op inside a small model: an embedding MLP with L2-normalized output ---
    let f = FunctionBuilder::new("embed");
    let x = f.input("x", DType::F32, &[Dim::sym("batch"), 64.into()]);
    let w1 = f.input("w1", DType::Q8_0, &[128.into(), 64.into()]); // GGUF-style [out, in], quantized
    let w2 = f.input("w2", DType::F32, &[128.into(), 32.into()]);
    let h = x.matmul_t(&w1).gelu().matmul(&w2);
    let y = f.apply(Arc::new(L2Normalize { eps: 1e-6 }), &[&h]);
    let func = f.finish(&[&y])?;
    println!("{func}");

    let exe = CpuExecutable::compile(&func, &CompileOptions::default())?;
    println!("compiled into {} kernels; the scheduled loop nests:\n", exe.kernel_count());
    for (op, nest) in exe.kernels() {
        println!("// from op `{op}`\n{nest}\n");
    }
    let inputs = vec![
        HostTensor::random(DType::F32, &[5, 64], 0, &mut rng),
        HostTensor::random(DType::Q8_0, &[128, 64], 0, &mut rng),
        HostTensor::random(DType::F32, &[128, 32], 0, &mut rng),
    ];
    let got = exe.run(&inputs, &HashMap::new(), &Bindings::new())?;
    let want = interpret(&func, &inputs, &HashMap::new(), &Bindings::new())?;
    let err = rel_l2_error(&got[0].to_f64(), &want[0].data);
    println!("batch of 5: output {:?}, relative L2 error against the f64 interpreter: {err:.2e}", got[0].shape);
    let norms: Vec<f32> = got[0].to_f32().chunks(32).map(|r| r.iter().map(|v| v * v).sum::<f32>().sqrt()).collect();
    println!("row norms after l2_normalize: {norms:?}\n");

    // --- a small Llama-style model: prefill, then greedy decoding over the KV cache ---
    let c = Config::TINY;
    let module = toy_llama::build(c)?;
    let params = toy_llama::random_params(&module, &mut rng);
    let model = CpuModule::compile(&module, params, &CompileOptions::default())?;
    let prompt = [1, 5, 9, 2];
    let positions: Vec<i32> = (0..prompt.len() as i32).collect();
    let out = model.run("prefill", &[HostTensor::from_i32(&[4], &prompt), HostTensor::from_i32(&[4], &positions)], &Bindings::new())?;
    let argmax = |logits: &[f32]| logits.iter().enumerate().fold((0, f32::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b }).0 as i32;
    let logits = out[0].to_f32();
    let mut next = argmax(&logits[(prompt.len() - 1) * c.vocab..]);
    let mut caches: Vec<HostTensor> = out[1..].to_vec();
    let mut generated = vec![next];
    for pos in prompt.len()..prompt.len() + 8 {
        let mut ins = vec![HostTensor::from_i32(&[1], &[next]), HostTensor::from_i32(&[1], &[pos as i32])];
        ins.extend(caches.iter().cloned());
        let out = model.run("decode", &ins, &Bindings::new())?;
        next = argmax(&out[0].to_f32());
        caches = out[1..].to_vec();
        generated.push(next);
    }
    println!("toy model (random weights), prompt {prompt:?} -> greedy tokens {generated:?}");
    Ok(())
}
