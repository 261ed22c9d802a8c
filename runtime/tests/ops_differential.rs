//! Every op on the Cranelift CPU backend against the f64 reference
//! interpreter (the shared cases in `common/cases.rs`), and what is
//! particular to the CPU backend: its inlined exp, activation quantization
//! to the interpreter's exact bytes, and the instruction sequences of its
//! templated stages.

#[macro_use]
mod common;
use common::cases::*;
use common::*;
use kiln_dsl::{interpret, rel_l2_error, Bindings, DType, Dim, FunctionBuilder, HostTensor, NodeKind};
use std::collections::HashMap;

backend_tests!(Backend::Cpu);

#[test]
fn quantized_gather_matches_a_direct_dequantization() {
    // An independent check of the interpreter's own dequantizer: ggml's
    // layout, decoded by hand for one Q4_0 block.
    let mut block = vec![0u8; 18];
    block[..2].copy_from_slice(&half::f16::from_f32(0.5).to_le_bytes());
    block[2] = 0x1F; // element 0: low nibble 15 -> (15 - 8) * 0.5 = 3.5; element 16: high nibble 1 -> -3.5
    let t = HostTensor { dtype: DType::Q4_0, shape: vec![1, 32], data: block.into() };
    let v = t.to_f64();
    assert_eq!(v[0], 3.5);
    assert_eq!(v[16], -3.5);
    assert_eq!(v[1], -4.0);
}

/// The exp the CPU backend inlines, written out in scalar Rust: the
/// ARM-optimized-routines polynomial llama.cpp's AVX2 code uses.
fn exp_reference(x: f32) -> f32 {
    let f = f32::from_bits;
    let z = x.mul_add(f(0x3fb8_aa3b), f(0x4b40_0000));
    let n = z - f(0x4b40_0000);
    let r = (-n).mul_add(f(0x3f31_7200), x);
    let r = (-n).mul_add(f(0x35bf_be8e), r);
    let e = z.to_bits() << 23;
    let k = f(e.wrapping_add(0x3f80_0000));
    let u = r * r;
    let j = f(0x3c07_2010).mul_add(r, f(0x3d2b_9f17)).mul_add(u, f(0x3e2a_af33).mul_add(r, f(0x3eff_fedb))).mul_add(u, f(0x3f7f_fff6) * r);
    if n.abs() <= 126.0 {
        return j.mul_add(k, k);
    }
    let g = if n <= 0.0 { 0x8200_0000u32 } else { 0 };
    let s1 = f(g.wrapping_add(0x7f00_0000));
    let s2 = f(e.wrapping_sub(g));
    if n.abs() > 192.0 { s1 * s1 } else { s2.mul_add(j, s2) * s1 }
}

#[test]
fn exp_is_llamacpps_polynomial_and_within_two_ulp() {
    let mut r = rng();
    let mut values: Vec<f32> = (0..40_000).map(|_| rand::Rng::random_range(&mut r, -110.0f32..95.0)).collect();
    values.extend((0..4000).map(|i| (i as f32 - 2000.0) / 500.0));
    values.extend([0.0f32, -0.0, 1.0, -1.0, 88.3, 88.8, -87.0, -103.0, -104.5, -200.0, 200.0, f32::INFINITY, f32::NEG_INFINITY]);
    let n = values.len();
    let f = FunctionBuilder::new("exp");
    let x = f.input("x", DType::F32, &d(&[n]));
    let func = f.finish(&[&x.exp()]).unwrap();
    let exe = kiln_runtime::CpuExecutable::compile(&func, &Default::default()).unwrap();
    let got = exe.run(&[HostTensor::from_f32(DType::F32, &[n], &values)], &Default::default(), &Bindings::new()).unwrap()[0].to_f64();
    let fma = std::is_x86_feature_detected!("fma");
    for (x, g) in values.iter().zip(&got) {
        let g = *g as f32;
        if fma {
            assert_eq!(g.to_bits(), exp_reference(*x).to_bits(), "exp({x:e}) = {g:e}, want {:e}", exp_reference(*x));
        }
        let exact = (*x as f64).exp();
        if exact.is_finite() && exact > f32::MIN_POSITIVE as f64 * 4.0 && exact < f32::MAX as f64 {
            let ulp = (exact as f32).to_bits().abs_diff(g.to_bits());
            assert!(ulp <= 2, "exp({x:e}) = {g:e}, {ulp} ulp from {exact:e}");
        }
    }
    assert_eq!(got[n - 2], f64::INFINITY);
    assert_eq!(got[n - 1], 0.0);
}

#[test]
fn activation_quantization_gives_the_interpreters_bytes() {
    let mut r = rng();
    for (to, shape) in [DType::Q8_0, DType::Q8_1].into_iter().flat_map(|t| [&[1usize, 32][..], &[7, 96], &[3, 2, 64], &[64]].map(|s| (t, s))) {
        let f = FunctionBuilder::new("quantize_acts");
        let x = f.input("x", DType::F32, &d(shape));
        let q = x.quantize(to);
        let func = f.finish(&[&q]).unwrap();
        let ins = random_inputs(&func, &[shape], 50, &mut r);
        let exe = kiln_runtime::CpuExecutable::compile(&func, &Default::default()).unwrap();
        let got = exe.run(&ins, &Default::default(), &Bindings::new()).unwrap();
        let values: Vec<f32> = ins[0].to_f64().iter().map(|&v| v as f32).collect();
        assert_eq!(got[0].dtype, to);
        assert_eq!(&got[0].data[..], &kiln_dsl::quant::quantize_activations(to, &values)[..], "{to} shape {shape:?}");
        // and the interpreter's dequantization of it
        check(&func, &ins, &Bindings::new(), TOL);
    }
}

/// The disassembly of the default-scheduled kernel of `func`'s last op.
fn last_op_asm(func: &kiln_dsl::Function) -> String {
    use kiln_schedule::{default_schedule, LoopNest, Target};
    let node = func.node(*func.outputs.last().unwrap());
    let ins: Vec<_> = node.inputs.iter().map(|i| func.node(*i).ty.clone()).collect();
    let NodeKind::Op(op) = &node.kind else { panic!("not an op") };
    let stage = op.compute(&ins, &node.ty).pop().unwrap();
    let sources: Vec<_> = ins.iter().map(|t| (t.dtype, t.shape.clone())).collect();
    let (v, _) = default_schedule(LoopNest::from_stage(&stage, &sources).unwrap(), Target::CPU).unwrap();
    kiln_codegen::cpu::disassemble(&v).unwrap()
}

#[test]
fn templated_stages_compile_to_their_instruction_sequences() {
    for (acts, wt, want) in [(DType::Q8_0, DType::Q4_0, "pmaddubsw"), (DType::Q8_1, DType::Q4_1, "pmaddubsw"), (DType::Q8_0, DType::Q8_0, "pmaddwd")] {
        let f = FunctionBuilder::new("qdot");
        let x = f.input("x", DType::F32, &[Dim::sym("m"), 64.into()]);
        let w = f.input("w", wt, &d(&[8, 64]));
        let func = f.finish(&[&x.quantize(acts).matmul_t(&w)]).unwrap();
        let asm = last_op_asm(&func);
        assert!(asm.contains(want), "{wt}: no {want} in\n{asm}");
    }
    // concatenating f16 rows copies 16 bytes at a time, converting nothing
    let f = FunctionBuilder::new("grow");
    let past = f.input("past", DType::F16, &[Dim::sym("past"), 3.into(), 64.into()]);
    let new = f.input("new", DType::F16, &d(&[1, 3, 64]));
    let asm = last_op_asm(&f.finish(&[&past.concat(&[&new], 0)]).unwrap());
    assert!(asm.contains("movdqu") && !asm.contains("cvt"), "{asm}");
}

/// Elementwise kernels write over the operand they are the last to read:
/// a chain of maps needs fewer bytes than with shared buffers alone, and
/// computes the same (against the interpreter, through `run_case`; here
/// with the rewriter off, so each map is its own kernel).
#[test]
fn elementwise_chains_run_in_place() {
    let f = FunctionBuilder::new("chain");
    let x = f.input("x", DType::F32, &[Dim::new(5), Dim::new(33)]);
    let y = f.input("y", DType::F32, &[Dim::new(33)]);
    // exp -> tanh -> mul (broadcast y: y is an input, x's chain is in place) -> sin -> add of a reduction's row
    let m = x.exp().tanh().mul(&y).sin();
    let out = m.add(&m.softmax());
    let func = f.finish(&[&out]).unwrap();
    let r = &mut rng();
    let ins = random_inputs(&func, &[&[5, 33], &[33]], 50, r);
    check_on(Backend::Cpu, &func, &ins, &Bindings::new(), 1e-5);
    let report = kiln_runtime::memory_report(&func, 1, kiln_runtime::WholeKernels::default()).unwrap();
    assert!(report.in_place_bytes < report.planned_bytes, "{report:?}");
    let exe = kiln_runtime::CpuExecutable::compile(&func, &kiln_runtime::CompileOptions::default()).unwrap();
    let (planned, _) = exe.intermediate_bytes(&Bindings::new()).unwrap();
    assert_eq!(planned, report.in_place_bytes + report.output_bytes, "the CPU backend plans in place");
}

/// The rows `paged_attention` reads for sequence `b`: its cached keys (or
/// values) from the pool's pages, then its new one, as one `[len + 1,
/// Hkv, D]` cache.
fn gathered_cache(ins: &[HostTensor], pool: usize, new: usize, b: usize, page: usize) -> HostTensor {
    let (table, lens) = (ins[5].to_f64(), ins[6].to_f64());
    let width = ins[5].shape[1];
    let row_bytes = ins[pool].data.len() / ins[pool].shape[0];
    let mut bytes = Vec::new();
    for j in 0..lens[b] as usize {
        let row = table[b * width + j / page] as usize * page + j % page;
        bytes.extend_from_slice(&ins[pool].data[row * row_bytes..(row + 1) * row_bytes]);
    }
    bytes.extend_from_slice(&ins[new].data[b * row_bytes..(b + 1) * row_bytes]);
    let mut shape = ins[pool].shape.clone();
    shape[0] = lens[b] as usize + 1;
    HostTensor { dtype: ins[pool].dtype, shape, data: bytes.into() }
}

#[test]
fn every_stage_of_f16_attention_paged_or_not_runs_in_llama_cpps_order() {
    // the templates sum in llama.cpp's order; a stage left to the generic
    // emitter would sum in another and break the bit-for-bit agreement of
    // paged and contiguous attention
    use kiln_schedule::{default_schedule, LoopNest, Target};
    let paged = paged_attention_function(DType::F16, (9, 3, 64), 16);
    let f = FunctionBuilder::new("attention");
    let q = f.input("q", DType::F16, &d(&[1, 9, 64]));
    let k = f.input("k", DType::F16, &[Dim::sym("t"), 3.into(), 64.into()]);
    let v = f.input("v", DType::F16, &[Dim::sym("t"), 3.into(), 64.into()]);
    let plain = f.finish(&[&q.attention(&k, &v, 0.125)]).unwrap();
    for func in [plain, paged] {
        let node = func.node(*func.outputs.last().unwrap());
        let ins: Vec<_> = node.inputs.iter().map(|i| func.node(*i).ty.clone()).collect();
        let NodeKind::Op(op) = &node.kind else { panic!("not an op") };
        let stages = op.compute(&ins, &node.ty);
        let mut sources: Vec<_> = ins.iter().map(|t| (t.dtype, t.shape.clone())).collect();
        let mut templated = Vec::new();
        for stage in &stages {
            let (v, _) = default_schedule(LoopNest::from_stage(stage, &sources).unwrap(), Target::CPU).unwrap();
            templated.push((stage.name.clone(), kiln_codegen::cpu::template_of(&v)));
            sources.push((stage.dtype, stage.shape.clone()));
        }
        // the max and the exponentials are exact in any order
        for (name, t) in &templated {
            assert!(t.is_some() || name == "attention_max" || name == "attention_weights", "{}: {name} has no template: {templated:?}", func.name);
        }
    }
}

#[test]
fn paged_attention_is_each_sequences_attention_over_its_own_keys() {
    // the interpreter, and the CPU backend bit for bit with f16 values (its
    // llama.cpp-order templates read pool rows through the page table)
    let mut r = rng();
    let (heads, page) = ((9, 3, 64), 16);
    let lens = [17, 0, 40, 5, 300, 511];
    // queries and keys of a real model's magnitudes (scores spread over
    // tens), where summing in another order rounds differently
    let spread = |t: &HostTensor, by: f32| HostTensor::from_f32(t.dtype, &t.shape, &t.to_f32().iter().map(|x| x * by).collect::<Vec<_>>());
    for (dtype, trial) in [DType::F32, DType::F16, DType::F16, DType::F16].into_iter().zip(0..) {
        let paged = paged_attention_function(dtype, heads, page);
        let mut ins = paged_inputs(dtype, &lens, page, 64, heads, &mut r);
        let by = [1.0, 1.0, 4.0, 8.0][trial];
        for i in [0, 1, 3] {
            ins[i] = spread(&ins[i], by);
        }
        let want_paged = interpret(&paged, &ins, &HashMap::new(), &Bindings::new()).unwrap().remove(0);
        let got_paged = run_on(Backend::Cpu, &paged, &ins, &Bindings::new()).remove(0);
        let row = heads.0 * heads.2;
        for b in 0..lens.len() {
            let f = FunctionBuilder::new("attention");
            let q = f.input("q", dtype, &[Dim::from(1), Dim::from(heads.0), Dim::from(heads.2)]);
            let k = f.input("k", dtype, &[Dim::sym("t"), Dim::from(heads.1), Dim::from(heads.2)]);
            let v = f.input("v", dtype, &[Dim::sym("t"), Dim::from(heads.1), Dim::from(heads.2)]);
            let func = f.finish(&[&q.attention(&k, &v, 1.0 / (heads.2 as f64).sqrt())]).unwrap();
            let q_bytes = ins[0].data.len() / lens.len();
            let q_row = HostTensor { dtype, shape: vec![1, heads.0, heads.2], data: ins[0].data.slice(b * q_bytes..(b + 1) * q_bytes) };
            let single = [q_row, gathered_cache(&ins, 3, 1, b, page), gathered_cache(&ins, 4, 2, b, page)];
            let want = interpret(&func, &single, &HashMap::new(), &Bindings::new()).unwrap().remove(0);
            let err = rel_l2_error(&want_paged.data[b * row..(b + 1) * row], &want.data);
            assert!(err < 1e-12, "{dtype} sequence {b}: the interpreter's paged attention is off by {err:e}");
            let got = run_on(Backend::Cpu, &func, &single, &Bindings::new()).remove(0).to_f32();
            let got_row = &got_paged.to_f32()[b * row..(b + 1) * row];
            if dtype == DType::F16 {
                assert!(got_row.iter().zip(&got).all(|(a, b)| a.to_bits() == b.to_bits()), "sequence {b}: the CPU's paged attention differs from its attention over the gathered cache");
            }
        }
    }
}
