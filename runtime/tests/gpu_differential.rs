//! The GPU backend against the f64 reference interpreter on fresh random
//! inputs: every shared differential case (`common/cases.rs`) on the first
//! GPU adapter (lavapipe, Mesa's Vulkan on the CPU, in CI: `scripts/test.sh`
//! installs it), again with a discrete GPU's schedules (shared reductions,
//! subgroups, 8-element vector loads in GEMVs), again with vectorized loops
//! in every kernel (8 lanes, and 32 for the matmul-heavy cases), the f16 and reduction cases again on the portable path,
//! and
//! what is particular to the GPU: tiles staged in workgroup memory,
//! quantization's near-ties, resident
//! outputs, the pipeline cache, device errors. A machine without a GPU
//! adapter fails these tests; nothing is skipped.

#[macro_use]
mod common;
use common::cases::*;
use common::*;
use kiln_dsl::{Bindings, DType, Dim, FunctionBuilder, HostTensor};
use kiln_runtime::{GpuDevice, GpuExecutable, Value};
use std::collections::HashMap;

backend_tests!(Backend::Gpu);

/// Every case again with a discrete GPU's schedules: workgroups share long
/// reductions and combine them by subgroups (lavapipe's own schedules
/// reduce serially).
mod discrete {
    use super::*;
    backend_tests!(Backend::GpuDiscrete);
}

/// Every case again with vectorized loops of 8 lanes in every kernel of the
/// discrete schedules: consecutive aligned loads read as vectors, the rest
/// unrolled.
mod vectors {
    use super::*;
    backend_tests!(Backend::GpuVectors);
}

/// The matmul, reduction, attention and transformer-block cases with 32
/// lanes: a whole quantized block per invocation and step.
mod wide {
    use super::*;
    #[test]
    fn matmul_with_quantized_and_f16_weights() {
        common::cases::matmul_with_quantized_and_f16_weights(Backend::GpuWide)
    }
    #[test]
    fn normalizations_and_softmax() {
        common::cases::normalizations_and_softmax(Backend::GpuWide)
    }
    #[test]
    fn gather_from_dense_and_quantized_tables() {
        common::cases::gather_from_dense_and_quantized_tables(Backend::GpuWide)
    }
    #[test]
    fn rewritten_transformer_blocks() {
        common::cases::rewritten_transformer_blocks(Backend::GpuWide)
    }
}

/// The f16, reduction and matmul cases with 4 lanes and no optional shader
/// feature (f16 read as pairs of u32 words).
mod vectors_portable {
    use super::*;
    #[test]
    fn normalizations_and_softmax() {
        common::cases::normalizations_and_softmax(Backend::GpuVectorsPortable)
    }
    #[test]
    fn matmul_with_quantized_and_f16_weights() {
        common::cases::matmul_with_quantized_and_f16_weights(Backend::GpuVectorsPortable)
    }
    #[test]
    fn attention_causal_over_a_kv_cache_and_unmasked() {
        common::cases::attention_causal_over_a_kv_cache_and_unmasked(Backend::GpuVectorsPortable)
    }
}

/// The cases where f16 conversions and shared reductions matter, with a
/// discrete GPU's schedules and no optional shader feature: f16 by integer
/// arithmetic, partials combined by a barrier tree.
mod portable {
    use super::*;
    #[test]
    fn normalizations_and_softmax() {
        common::cases::normalizations_and_softmax(Backend::GpuPortable)
    }
    #[test]
    fn f16_special_values_convert_exactly() {
        common::cases::f16_special_values_convert_exactly(Backend::GpuPortable)
    }
    #[test]
    fn f32_to_f16_rounds_to_nearest_even_like_the_half_crate() {
        common::cases::f32_to_f16_rounds_to_nearest_even_like_the_half_crate(Backend::GpuPortable)
    }
    #[test]
    fn matmul_with_quantized_and_f16_weights() {
        common::cases::matmul_with_quantized_and_f16_weights(Backend::GpuPortable)
    }
    #[test]
    fn attention_causal_over_a_kv_cache_and_unmasked() {
        common::cases::attention_causal_over_a_kv_cache_and_unmasked(Backend::GpuPortable)
    }
    #[test]
    fn attention_as_one_kernel_with_its_queries_rope() {
        common::cases::attention_as_one_kernel_with_its_queries_rope(Backend::GpuPortable)
    }
}

/// The attention, paged attention, matmul and transformer-block cases in
/// checked mode:
/// every shader with wgpu's run-time checks (the other GPU backends run
/// the kernels proven in bounds without them).
mod checked {
    use super::*;
    #[test]
    fn attention_causal_over_a_kv_cache_and_unmasked() {
        common::cases::attention_causal_over_a_kv_cache_and_unmasked(Backend::GpuChecked)
    }
    #[test]
    fn attention_as_one_kernel_with_its_queries_rope() {
        common::cases::attention_as_one_kernel_with_its_queries_rope(Backend::GpuChecked)
    }
    #[test]
    fn paged_attention_over_pages_of_a_pool() {
        common::cases::paged_attention_over_pages_of_a_pool(Backend::GpuChecked)
    }
    #[test]
    fn matmul_with_quantized_and_f16_weights() {
        common::cases::matmul_with_quantized_and_f16_weights(Backend::GpuChecked)
    }
    #[test]
    fn rewritten_transformer_blocks() {
        common::cases::rewritten_transformer_blocks(Backend::GpuChecked)
    }
}

#[test]
fn proven_kernels_run_unchecked_and_match_checked_mode() {
    let mut r = rng();
    let (func, shapes) = transformer_block(2, 5);
    let shapes: Vec<&[usize]> = shapes.iter().map(|(_, s)| s.as_slice()).collect();
    let ins = random_inputs(&func, &shapes, 50, &mut r);
    let options = scheduled_for(Backend::GpuDiscrete, kiln_runtime::CompileOptions::default().rewriting(kiln_runtime::CostModel::gpu()));
    // the FMA path: the matrix units' tile products, where a GPU has them,
    // may sum in another order in another compilation of the same shader;
    // with attention as one kernel and stage by stage (a failure says which)
    let mut differ = Vec::new();
    for attention_kernels in [true, false] {
        let gpu = gpu().with_target(kiln_runtime::GpuTarget { matrix_units: false, attention_kernels, ..gpu().target() });
        let fast = GpuExecutable::compile(&func, &gpu, &options).unwrap();
        let unproven: Vec<String> = fast.kernels().filter_map(|k| k.bounds_proof.as_ref().err().map(|e| format!("{}: {e}", k.name))).collect();
        assert!(unproven.is_empty(), "kernels not proven in bounds: {unproven:?}");
        assert_eq!(fast.unchecked_kernel_count(), fast.kernel_count());
        let checked = GpuExecutable::compile(&func, &gpu.with_checked_shaders(), &options).unwrap();
        assert_eq!(checked.unchecked_kernel_count(), 0);
        let params = HashMap::new();
        let (a, b) = (fast.run(&ins, &params, &Bindings::new()).unwrap(), checked.run(&ins, &params, &Bindings::new()).unwrap());
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            let bits = x.data.iter().zip(&y.data).filter(|(p, q)| p != q).count();
            // a GPU's compiler may contract `a * b + c` into a fused
            // multiply-add in one compilation and not in the other (SPIR-V
            // allows either), so there only f32 rounding apart (the NVIDIA
            // H100 differs so); a clamped index would be far off
            let err = kiln_dsl::rel_l2_error(&x.to_f64(), &y.to_f64());
            let exact = gpu.adapter_kind() == kiln_schedule::AdapterKind::Cpu;
            if bits > 0 && (exact || !(err <= 1e-6)) {
                let kernels: Vec<&str> = fast.kernels().map(|k| k.name.as_str()).collect();
                differ.push(format!("attention kernels {attention_kernels}: output {i} differs in {bits} of {} bytes (relative error {err:.1e}); kernels {kernels:?}", x.data.len()));
            }
        }
    }
    assert!(differ.is_empty(), "unchecked and checked shaders of the same kernels differ:\n{}", differ.join("\n"));
}

#[test]
fn calls_reuse_bind_groups_only_where_their_buffers_are_the_same() {
    // a chain longer than a submission (64 dispatches), called with growing
    // and shrinking lengths: the plan's slots grow (new buffers, new bind
    // groups), and each call's inputs and outputs are new buffers
    let f = FunctionBuilder::new("chain");
    let x = f.input("x", DType::F32, &[Dim::sym("n")]);
    let mut y = x.clone();
    for i in 0..100 {
        y = if i % 2 == 0 { y.mul_scalar(1.01) } else { y.add_scalar(0.5).sub(&x) };
    }
    let func = f.finish(&[&y]).unwrap();
    let exe = GpuExecutable::compile(&func, gpu(), &Default::default()).unwrap();
    assert!(exe.kernel_count() > 64, "{} kernels", exe.kernel_count());
    let mut r = rng();
    for n in [3usize, 1000, 5, 4000, 4000, 2] {
        let ins = random_inputs(&func, &[&[n]], 50, &mut r);
        let want = kiln_dsl::interpret(&func, &ins, &HashMap::new(), &Bindings::new()).unwrap();
        let got = exe.run(&ins, &HashMap::new(), &Bindings::new()).unwrap();
        let err = kiln_dsl::rel_l2_error(&got[0].to_f64(), &want[0].data);
        assert!(err <= 1e-5, "n = {n}: relative L2 error {err:e}");
    }
}

#[test]
fn a_returned_cache_grows_in_place_where_nothing_else_holds_it() {
    // decode's pattern: the cache the last call returned, moved into the
    // next call, grown by a computed row; the result stays exact whether a
    // call appends in place (the row's producer writing into the cache, or
    // a copy where the row's offset breaks the binding alignment) or copies
    // the whole cache. Rows of 2 x 64 f16 (256 bytes) are aligned on every
    // device; rows of 2 x 8 (32 bytes) where the device allows.
    let gpu = GpuDevice::open(0).unwrap();
    for width in [64usize, 8] {
        let f = FunctionBuilder::new("append");
        let past = f.input("past", DType::F16, &[Dim::sym("past"), 2.into(), width.into()]);
        let new = f.input("new", DType::F32, &[1.into(), 2.into(), width.into()]);
        let func = f.finish(&[&past.concat(&[&new.mul_scalar(2.0).cast(DType::F16)], 0)]).unwrap();
        let exe = GpuExecutable::compile(&func, &gpu, &Default::default()).unwrap();
        let row = |step: usize| HostTensor::from_f32(DType::F32, &[1, 2, width], &vec![step as f32; 2 * width]);
        let want = |steps: usize| -> Vec<f64> { (0..=steps).flat_map(|s| vec![2.0 * s as f64; 2 * width]).collect() };
        let mut cache = Value::Gpu(gpu.upload("cache", &HostTensor::from_f32(DType::F16, &[1, 2, width], &vec![0.0; 2 * width])).unwrap());
        let mut held = Vec::new();
        for step in 1..=40 {
            let inputs = [cache, Value::Host(row(step))];
            let out = exe.run_values(&inputs, &HashMap::new(), &Bindings::new()).unwrap();
            // every 10th step another call grows the same cache while the
            // first result is kept: it must not append in place again
            if step % 10 == 0 {
                let again = exe.run_values(&inputs, &HashMap::new(), &Bindings::new()).unwrap();
                held.push((step, again.into_iter().next().unwrap()));
            }
            drop(inputs);
            cache = out.into_iter().next().unwrap();
            assert_eq!(cache.to_host().unwrap().to_f64(), want(step), "width {width}, step {step}");
        }
        for (step, v) in held {
            assert_eq!(v.to_host().unwrap().to_f64(), want(step), "width {width}: the second result of step {step}");
        }
        // the upload's exact buffer is copied once; then room for a quarter
        // more rows each time it is copied
        let (in_place, written) = (exe.appended_in_place(), exe.written_in_place());
        assert!((25..=40).contains(&in_place), "width {width}: {in_place} of 44 appends in place");
        assert!(written <= in_place, "width {width}: {written} of {in_place} written by their producer");
        if width == 64 {
            assert_eq!(written, in_place, "every aligned row is written by its producer");
        }
    }
}

#[test]
fn steps_binding_small_host_inputs_and_a_cache_grown_in_place_keep_their_bind_groups() {
    // decode's pattern: a cache grown in place by a row from the host, and
    // a step reading both (attention reads the cache and the positions).
    // The row goes to a buffer the executable keeps, and the step writing
    // the new row into the cache binds it at a dynamic offset, so after the
    // first calls only the step writing the returned softmax makes a bind
    // group; every result stays exact although the kept buffer is
    // rewritten each call
    let gpu = GpuDevice::open(0).unwrap();
    let f = FunctionBuilder::new("decode_like");
    let past = f.input("past", DType::F32, &[Dim::sym("past"), 64.into()]);
    let new = f.input("new", DType::F32, &[1.into(), 64.into()]);
    let cache = past.concat(&[&new.mul_scalar(2.0)], 0);
    let weighted = cache.mul(&new).exp();
    let func = f.finish(&[&cache, &weighted.softmax()]).unwrap();
    let exe = GpuExecutable::compile(&func, &gpu, &Default::default()).unwrap();
    let steps = exe.kernels().count() as u64;
    let mut cache = Value::Gpu(gpu.upload("cache", &HostTensor::from_f32(DType::F32, &[1, 64], &[0.0; 64])).unwrap());
    let mut made = Vec::new();
    for step in 1..=30 {
        let row: Vec<f32> = (0..64).map(|i| (step * 64 + i) as f32 * 1e-4).collect();
        let before = exe.bind_groups_made();
        let out = exe.run_values(&[cache, Value::Host(HostTensor::from_f32(DType::F32, &[1, 64], &row))], &HashMap::new(), &Bindings::new()).unwrap();
        made.push(exe.bind_groups_made() - before);
        let mut out = out.into_iter();
        cache = out.next().unwrap();
        let rows: Vec<f64> = cache.to_host().unwrap().to_f64();
        let want: Vec<f64> = rows
            .chunks(64)
            .flat_map(|r| {
                let e: Vec<f64> = r.iter().zip(&row).map(|(a, &b)| (a * f64::from(b)).exp()).collect();
                let most = e.iter().copied().fold(f64::MIN, f64::max);
                let total: f64 = e.iter().map(|v| (v - most).exp()).sum();
                e.into_iter().map(move |v| (v - most).exp() / total)
            })
            .collect();
        let got = out.next().unwrap().to_host().unwrap().to_f64();
        let err = kiln_dsl::rel_l2_error(&got, &want);
        assert!(err <= TOL, "step {step}: relative L2 error {err:e}");
        assert_eq!(rows.len(), 64 * (step + 1));
        assert_eq!(rows[64 * step..].iter().map(|&v| v as f32 / 2.0).collect::<Vec<_>>(), row, "step {step}: the new row");
    }
    assert!(steps >= 3, "{steps} kernels");
    // (the cache is copied to a larger buffer now and then: all new groups)
    let steady = made.iter().filter(|&&m| m == 1).count();
    assert!(steady >= 20 && made.iter().all(|&m| m <= steps), "{steps} kernels; groups made per call {made:?}");
    // a caller done with the cache lets the groups binding it go: the next
    // call makes them again (the row's producer and the step reading the
    // cache, with the returned softmax's: at least 3), then keeps them
    exe.forget_callers_buffers();
    let mut after = Vec::new();
    for call in 0..6 {
        let before = exe.bind_groups_made();
        let out = exe.run_values(&[cache, Value::Host(HostTensor::from_f32(DType::F32, &[1, 64], &[0.5; 64]))], &HashMap::new(), &Bindings::new()).unwrap();
        after.push(exe.bind_groups_made() - before);
        cache = out.into_iter().next().unwrap();
        assert_eq!(cache.to_host().unwrap().to_f64()[64 * (31 + call)..], [1.0; 64], "call {call} after forgetting: the new row");
    }
    assert!(after[0] >= 3 && after[1..].contains(&1), "groups made per call after forgetting: {after:?}");
}

#[test]
fn calls_from_several_threads_each_read_their_own_host_inputs() {
    // small host inputs share a buffer the executable keeps: a call's
    // write of it must not land before another call's kernels read it
    let f = FunctionBuilder::new("double");
    let x = f.input("x", DType::F32, &[64.into()]);
    let func = f.finish(&[&x.mul_scalar(2.0).add_scalar(1.0)]).unwrap();
    let exe = GpuExecutable::compile(&func, gpu(), &Default::default()).unwrap();
    std::thread::scope(|scope| {
        for thread in 0..3 {
            let exe = &exe;
            scope.spawn(move || {
                for call in 0..40 {
                    let v = (thread * 1000 + call) as f32;
                    let out = exe.run_values(&[Value::Host(HostTensor::from_f32(DType::F32, &[64], &[v; 64]))], &HashMap::new(), &Bindings::new()).unwrap();
                    assert_eq!(out[0].to_host().unwrap().to_f32(), vec![2.0 * v + 1.0; 64], "thread {thread}, call {call}");
                }
            });
        }
    });
}

#[test]
fn a_gpu_modules_calls_check_their_inputs_every_time_and_its_weights_once() {
    // a module's parameters never change after it is compiled: its first
    // call checks them, later ones only the inputs, which still fail
    // clearly, and the results stay right
    let mut m = kiln_dsl::Module::new();
    m.declare_param("w", DType::F32, &d(&[8, 4])).unwrap();
    let f = m.function_builder("apply");
    let x = f.input("x", DType::F32, &[Dim::sym("n"), 4.into()]);
    let y = x.matmul_t(&f.param("w"));
    m.add_function(f.finish(&[&y]).unwrap()).unwrap();
    let w: Vec<f32> = (0..32).map(|i| i as f32 * 0.125).collect();
    let params = HashMap::from([("w".to_string(), HostTensor::from_f32(DType::F32, &[8, 4], &w))]);
    let module = kiln_runtime::GpuModule::compile(&m, &params, gpu(), &Default::default()).unwrap();
    for n in [1usize, 3, 2] {
        let xs: Vec<f32> = (0..4 * n).map(|i| 1.0 - i as f32 * 0.25).collect();
        let out = module.run("apply", &[Value::Host(HostTensor::from_f32(DType::F32, &[n, 4], &xs))], &Bindings::new()).unwrap();
        let want: Vec<f64> = xs.chunks(4).flat_map(|x| w.chunks(4).map(move |r| r.iter().zip(x).map(|(a, b)| f64::from(a * b)).sum())).collect();
        assert_eq!(out[0].to_host().unwrap().to_f64(), want, "{n} rows");
    }
    let wrong = module.run("apply", &[Value::Host(HostTensor::from_f32(DType::F32, &[2, 5], &[0.0; 10]))], &Bindings::new()).unwrap_err();
    assert!(wrong.to_string().contains("declared f32[n, 4]"), "{wrong}");
    let none = module.run("apply", &[], &Bindings::new()).unwrap_err();
    assert!(none.to_string().contains("expects 1 inputs"), "{none}");
}

#[test]
fn a_growing_cache_reuses_the_buffers_of_dropped_outputs() {
    // decode's pattern: each call appends a row to the cache the previous
    // call returned, and the old cache is dropped
    let gpu = GpuDevice::open(0).unwrap();
    let f = FunctionBuilder::new("append");
    let past = f.input("past", DType::F32, &[Dim::sym("past"), 64.into()]);
    let new = f.input("new", DType::F32, &[1.into(), 64.into()]);
    let func = f.finish(&[&past.concat(&[&new], 0)]).unwrap();
    let exe = GpuExecutable::compile(&func, &gpu, &Default::default()).unwrap();
    let mut cache = Value::Host(HostTensor::from_f32(DType::F32, &[1, 64], &[0.0; 64]));
    for step in 1..=40 {
        let row = HostTensor::from_f32(DType::F32, &[1, 64], &[step as f32; 64]);
        let out = exe.run_values(&[cache, Value::Host(row)], &HashMap::new(), &Bindings::new()).unwrap();
        cache = out.into_iter().next().unwrap();
        assert!(gpu.buffer_pool().0 <= 2, "step {step}: {:?} buffers pooled, reused", gpu.buffer_pool());
    }
    let Value::Gpu(t) = &cache else { panic!("the output stays on the device") };
    let want: Vec<f32> = (0..=40).flat_map(|s| [s as f32; 64]).collect();
    assert_eq!(t.to_host().unwrap().to_f32(), want);
    // the 40 outputs were mostly the buffers of the previous step's (new
    // ones where the cache outgrew its size class: 4, 8, 9, 10 KiB, ...)
    let (pooled, reused) = gpu.buffer_pool();
    assert!(reused >= 30 && pooled <= 2, "{pooled} buffers pooled, {reused} reused");
}

#[test]
fn a_symbolic_dim_of_zero_is_refused_by_unchecked_kernels() {
    // proofs hold for dims of at least 1: an empty cache would make the
    // concatenation read its element -1
    let f = FunctionBuilder::new("append");
    let past = f.input("past", DType::F32, &[Dim::sym("past"), 4.into()]);
    let new = f.input("new", DType::F32, &[1.into(), 4.into()]);
    let func = f.finish(&[&past.concat(&[&new], 0)]).unwrap();
    let ins = [HostTensor::from_f32(DType::F32, &[0, 4], &[]), HostTensor::from_f32(DType::F32, &[1, 4], &[1.0; 4])];
    let exe = GpuExecutable::compile(&func, gpu(), &Default::default()).unwrap();
    let err = exe.run(&ins, &HashMap::new(), &Bindings::new()).unwrap_err().to_string();
    assert!(err.contains("dim `past` is 0") && err.contains("KILN_GPU_DISABLE=trusted"), "{err}");
    // checked, it runs (the checks make the stray read harmless)
    let exe = GpuExecutable::compile(&func, &gpu().with_checked_shaders(), &Default::default()).unwrap();
    let out = exe.run(&ins, &HashMap::new(), &Bindings::new()).unwrap();
    assert_eq!(out[0].to_f64(), vec![1.0; 4]);
}

#[test]
fn activation_quantization_differs_from_the_interpreter_only_at_near_ties() {
    let mut r = rng();
    for (to, shape) in [DType::Q8_0, DType::Q8_1].into_iter().flat_map(|t| [&[1usize, 32][..], &[7, 96], &[3, 2, 64], &[64], &[40, 576]].map(|s| (t, s))) {
        let f = FunctionBuilder::new("quantize_acts");
        let x = f.input("x", DType::F32, &d(shape));
        let func = f.finish(&[&x.quantize(to)]).unwrap();
        let ins = random_inputs(&func, &[shape], 50, &mut r);
        let got = run_on(Backend::Gpu, &func, &ins, &Bindings::new());
        let values: Vec<f32> = ins[0].to_f64().iter().map(|&v| v as f32).collect();
        let want = kiln_dsl::quant::quantize_activations(to, &values);
        assert_eq!(got[0].dtype, to);
        let header = to.block_bytes() - 32;
        for (blk, (g, w)) in got[0].data.chunks(to.block_bytes()).zip(want.chunks(to.block_bytes())).enumerate() {
            let half = |b: &[u8], at: usize| half::f16::from_le_bytes([b[at], b[at + 1]]).to_f32();
            let ulps = |a: f32, b: f32| half::f16::from_f32(a).to_bits().abs_diff(half::f16::from_f32(b).to_bits());
            assert!(ulps(half(g, 0), half(w, 0)) <= 1, "{to} block {blk}: scale {} vs {}", half(g, 0), half(w, 0));
            let vals = &values[32 * blk..32 * blk + 32];
            let amax = vals.iter().fold(0f32, |m, v| m.max(v.abs()));
            for e in 0..32 {
                let (gq, wq) = (g[header + e] as i8, w[header + e] as i8);
                if gq != wq {
                    // only a value a hair from halfway between two integers may flip
                    let scaled = vals[e] as f64 * 127.0 / amax as f64;
                    let from_tie = (scaled - scaled.floor() - 0.5).abs();
                    assert!((gq as i32 - wq as i32).abs() == 1 && from_tie < 1e-4, "{to} block {blk} value {e}: {gq} vs {wq} ({scaled})");
                }
            }
            if to == DType::Q8_1 {
                let (gs, ws) = (half(g, 2), half(w, 2));
                assert!((gs - ws).abs() <= 2.0 * half(w, 0) + ws.abs() * 1e-3, "{to} block {blk}: sum {gs} vs {ws}");
            }
        }
    }
}

#[test]
fn outputs_stay_on_the_device_and_feed_the_next_call() {
    // a growing cache: each call appends a row to the previous call's output
    let f = FunctionBuilder::new("grow");
    let past = f.input("past", DType::F16, &[Dim::sym("past"), 4.into()]);
    let new = f.input("new", DType::F32, &[1.into(), 4.into()]);
    let func = f.finish(&[&past.concat(&[&new.cast(DType::F16)], 0)]).unwrap();
    let exe = GpuExecutable::compile(&func, gpu(), &Default::default()).unwrap();
    let mut cache = Value::Host(HostTensor::from_f32(DType::F16, &[1, 4], &[1.0, 2.0, 3.0, 4.0]));
    for step in 0..3 {
        let row = HostTensor::from_f32(DType::F32, &[1, 4], &[step as f32; 4]);
        let out = exe.run_values(&[cache, Value::Host(row)], &HashMap::new(), &Bindings::new()).unwrap();
        assert!(matches!(out[0], Value::Gpu(_)), "outputs stay resident");
        cache = out.into_iter().next().unwrap();
    }
    let host = cache.to_host().unwrap();
    assert_eq!(host.shape, vec![4, 4]);
    assert_eq!(host.to_f32(), vec![1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0]);
    // a truncated view shares the buffer
    assert_eq!(cache.truncated(2).to_host().unwrap().to_f32()[4..8], [0.0; 4]);
}

#[test]
fn layers_with_equal_kernels_share_one_pipeline() {
    let f = FunctionBuilder::new("layers");
    let x = f.input("x", DType::F32, &[Dim::sym("n"), 64.into()]);
    let mut h = x.clone();
    for _ in 0..6 {
        h = h.silu().mul_scalar(0.5);
    }
    let func = f.finish(&[&h]).unwrap();
    let g = GpuDevice::open(0).unwrap();
    let exe = GpuExecutable::compile(&func, &g, &Default::default()).unwrap();
    assert_eq!(exe.kernel_count(), 12);
    assert_eq!(g.cached_pipelines(), 2, "six layers of two kernels each");
}

/// The measuring shaders the autotuner and the benchmarks use: the copy
/// probe gives a finite positive bandwidth, the clock heater compiles and
/// runs (one dispatch on a CPU adapter).
#[test]
fn the_bandwidth_probe_and_the_clock_heater_run() {
    let bw = gpu().probe_bandwidth(1 << 20).unwrap();
    assert!(bw.is_finite() && bw > 0.0, "{bw}");
    gpu().warm_up(std::time::Duration::from_millis(10)).unwrap();
    gpu().check().unwrap();
}

#[test]
fn kernels_are_timed_by_timestamp_queries_where_the_device_has_them() {
    let f = FunctionBuilder::new("timed");
    let x = f.input("x", DType::F32, &[Dim::from(4096)]);
    let func = f.finish(&[&x.exp().softmax()]).unwrap();
    let exe = GpuExecutable::compile(&func, gpu(), &Default::default()).unwrap();
    let x = Value::Host(HostTensor::from_f32(DType::F32, &[4096], &vec![0.5; 4096]));
    match exe.run_profiled(std::slice::from_ref(&x), &HashMap::new(), &Bindings::new()) {
        Ok((profiled, times)) => {
            assert_eq!(times.len(), exe.kernel_count());
            // timing changes how the step is recorded, not what it computes
            let plain = exe.run_values(&[x], &HashMap::new(), &Bindings::new()).unwrap();
            let host = |v: &[Value]| v.iter().map(|v| v.to_host().unwrap().data).collect::<Vec<_>>();
            assert_eq!(host(&profiled), host(&plain));
        }
        Err(e) => {
            assert!(!gpu().has_timestamps());
            assert!(e.to_string().contains("no timestamp queries"), "{e}");
        }
    }
}

#[test]
fn tensors_of_constant_shape_above_the_binding_limit_are_bound_as_ranges() {
    // 4 KiB bindings: these weights take 2 to 25 ranges
    let ranged = |func: &kiln_dsl::Function| {
        let small = device_for(Backend::GpuRanges);
        let kernels = kiln_runtime::gpu_kernels(func, &small.target(), small.adapter_kind(), &Default::default()).unwrap();
        kernels.iter().map(|(_, k)| k.ranges.iter().max().copied().unwrap_or(1)).max().unwrap_or(1)
    };
    for wt in [DType::F32, DType::F16, DType::Q8_0, DType::Q4_0, DType::Q4_1] {
        let f = run_case(Backend::GpuRanges, "matmul_t_ranges", &[(DType::F32, c(&[3, 256])), (wt, c(&[100, 256]))], TOL, |t| t[0].matmul_t(&t[1]));
        assert!(ranged(&f) >= 3, "{wt} weights were bound whole");
        // (outputs are bound whole: 3 rows fit)
        let f = run_case(Backend::GpuRanges, "gather_ranges", &[(wt, c(&[50, 256])), (DType::I32, c(&[3]))], TOL, |t| t[0].gather(&t[1]));
        assert!(ranged(&f) >= 2, "{wt} table was bound whole");
    }
}

/// Every case again with matmuls over rows tiled in workgroup memory.
mod tiles {
    use super::*;
    backend_tests!(Backend::GpuTiled);
}

#[test]
fn prefill_matmuls_stage_tiles_in_workgroup_memory() {
    // rows that do not fill the last tile, a symbolic row count, a batch
    for wt in [DType::F32, DType::F16, DType::Q4_0] {
        let cases: [&[(DType, Case)]; 3] = [
            &[(DType::F32, c(&[37, 64])), (wt, c(&[48, 64]))],
            &[(DType::F32, sym_first("seq", &[21, 96])), (wt, c(&[40, 96]))],
            &[(DType::F32, c(&[2, 17, 32])), (wt, c(&[16, 32]))],
        ];
        for case in cases {
            let f = run_case(Backend::GpuTiled, "tiled_matmul", case, TOL, |t| t[0].matmul_t(&t[1]));
            let kernels = kiln_runtime::gpu_kernels(&f, &device_for(Backend::GpuTiled).target(), kiln_schedule::AdapterKind::Gpu, &scheduled_for(Backend::GpuTiled, Default::default())).unwrap();
            let wgsl = kernels[0].1.wgsl().unwrap();
            assert!(wgsl.contains("s0_tile") && wgsl.contains("workgroupBarrier"), "{wt}: the activations were not staged:\n{}", kernels[0].1.nest);
            // plain weights are staged too; quantized ones are read through their bytes
            assert_eq!(wgsl.contains("s1_tile"), wt != DType::Q4_0, "{wt}:\n{}", kernels[0].1.nest);
        }
    }
    let f = run_case(Backend::GpuTiled, "plain_matmul", &[(DType::F32, sym_first("m", &[33, 48])), (DType::F32, c(&[48, 20]))], TOL, |t| t[0].matmul(&t[1]));
    let kernels = kiln_runtime::gpu_kernels(&f, &device_for(Backend::GpuTiled).target(), kiln_schedule::AdapterKind::Gpu, &scheduled_for(Backend::GpuTiled, Default::default())).unwrap();
    assert!(kernels[0].1.wgsl().unwrap().contains("s1_tile"), "{}", kernels[0].1.nest);
}

#[test]
fn matmuls_over_rows_take_the_matrix_units_where_the_gpu_has_them() {
    // where the adapter has matrix units (the NVIDIA H100) the differential
    // cases of matmuls over rows check the matrix-unit kernel; elsewhere
    // (lavapipe) the FMA nest
    let target = gpu().target();
    for wt in [DType::F16, DType::Q4_0, DType::Q8_0] {
        // f32 activations, and Q8_0 blocks of them (llama.cpp's arithmetic,
        // quantized weights only)
        let f32_acts = run_case(Backend::GpuDiscrete, "matmul_t_rows", &[(DType::F32, sym_first("seq", &[70, 96])), (wt, c(&[72, 96]))], over_rows_tol(Backend::GpuDiscrete), |t| t[0].matmul_t(&t[1]));
        let q8_acts = (wt != DType::F16).then(|| run_case(Backend::GpuDiscrete, "matmul_t_rows_q8", &[(DType::F32, sym_first("seq", &[70, 96])), (wt, c(&[72, 96]))], quantized_tol(Backend::GpuDiscrete), |t| t[0].quantize(DType::Q8_0).matmul_t(&t[1])));
        for f in [Some(f32_acts), q8_acts].into_iter().flatten() {
            let kernels = kiln_runtime::gpu_kernels(&f, &target, kiln_schedule::AdapterKind::Gpu, &scheduled_for(Backend::GpuDiscrete, Default::default())).unwrap();
            let on_matrix_units = kernels.iter().any(|(_, k)| k.nest.contains("run on the matrix units"));
            assert_eq!(on_matrix_units, target.matrix_units, "{wt}: {:?}", kernels.iter().map(|(_, k)| &k.nest).collect::<Vec<_>>());
        }
    }
}

#[test]
fn a_prompts_attention_takes_the_matrix_units_where_the_gpu_has_them() {
    // a prompt's attention as the graph optimizer makes it one kernel:
    // after cached keys (queries past a whole tile of 64, keys past a whole
    // block of 64), causal and unmasked, grouped-query, an f16 cache with f16
    // queries (llama.cpp's arithmetic) or f32, heads of 64 and 128 dims.
    // Where the adapter has matrix units (the NVIDIA H100) its kernel runs
    // on them, with queries, keys, values and probabilities rounded to f16;
    // elsewhere (lavapipe) the one kernel of a workgroup per query and head
    let mut r = rng();
    let target = gpu().target();
    let options = scheduled_for(Backend::GpuDiscrete, kiln_runtime::CompileOptions::default().rewriting(kiln_runtime::CostModel::gpu()));
    let shapes = [(70, 30, 4, 2, 64, DType::F16), (5, 0, 2, 2, 128, DType::F32), (130, 3, 2, 1, 128, DType::F16), (40, 0, 3, 3, 64, DType::F32)];
    for ((s, past, hq, hkv, dd, dtype), causal) in shapes.into_iter().flat_map(|shape| [(shape, false), (shape, true)]) {
        let t = past + s;
        let f = FunctionBuilder::new("prompt_attention");
        let q = f.input("q", dtype, &[Dim::sym("seq"), Dim::from(hq), Dim::from(dd)]);
        let k = f.input("k", dtype, &[Dim::sym("kv"), Dim::from(hkv), Dim::from(dd)]);
        let v = f.input("v", dtype, &[Dim::sym("kv"), Dim::from(hkv), Dim::from(dd)]);
        let scale = 1.0 / (dd as f64).sqrt();
        let out = if causal { q.attention(&k, &v, scale) } else { q.attention_unmasked(&k, &v, scale) };
        let func = f.finish(&[&out]).unwrap();
        let ins = random_inputs(&func, &[&[s, hq, dd], &[t, hkv, dd], &[t, hkv, dd]], 0, &mut r);
        let want = kiln_dsl::interpret(&func, &ins, &HashMap::new(), &Bindings::new()).unwrap();
        let exe = GpuExecutable::compile(&func, gpu(), &options).unwrap();
        let on_matrix_units = exe.kernels().any(|k| k.nest.contains("on the matrix units"));
        let what = format!("{s} queries, {t} keys, {hq}/{hkv} heads of {dd}, {dtype}, causal {causal}");
        assert_eq!(on_matrix_units, target.matrix_units, "{what}: {:?}", exe.kernels().map(|k| &k.nest).collect::<Vec<_>>());
        let got = exe.run(&ins, &HashMap::new(), &Bindings::new()).unwrap();
        let err = kiln_dsl::rel_l2_error(&got[0].to_f64(), &want[0].data);
        let tol = if on_matrix_units { 3e-3 } else if dtype == DType::F16 { 1e-3 } else { TOL };
        assert!(err <= tol, "{what}: relative L2 error {err:e} > {tol:e}");
    }
}

#[test]
fn decode_gemvs_of_8_bit_activations_use_integer_dot_products() {
    // what llama.cpp's arithmetic makes of a decode step's Q4_0 and Q8_0
    // matmuls, with 1 to 4 rows of activations (batched decode); K = 64
    // reads Q4_0 weights as words, 1024 as 16-byte vectors
    for (m, k, n, w) in [(1, 1024, 70, DType::Q4_0), (4, 64, 3, DType::Q4_0), (2, 1024, 1, DType::Q4_0), (3, 192, 9, DType::Q8_0), (1, 4096, 5, DType::Q8_0)] {
        let f = run_case(Backend::GpuDiscrete, "int_dot_gemv", &[(DType::F32, c(&[m, k])), (w, c(&[n, k]))], quantized_tol(Backend::GpuDiscrete), |t| t[0].quantize(DType::Q8_0).matmul_t(&t[1]));
        let kernels = kiln_runtime::gpu_kernels(&f, &gpu().target(), kiln_schedule::AdapterKind::Gpu, &Default::default()).unwrap();
        let gemv = kernels.iter().find(|k| k.1.name == "matmul_t").expect("a matmul kernel");
        assert!(gemv.1.wgsl().unwrap().contains("dot4I8Packed"), "{m}x{k}x{n} {w}: {}", gemv.1.nest);
    }
}

#[test]
fn an_integer_dot_gemv_takes_one_two_or_four_blocks_per_step() {
    // the schedule's vector width over 8 is the blocks an invocation takes
    // per step: blocks that fill the steps exactly (K = 4096 over 64 x 2 or
    // 32 x 4) and ragged ones (K = 1024: 32 blocks over 64 x 2)
    let mut r = rng();
    for (m, k, n, w) in [(1, 4096, 9, DType::Q4_0), (2, 1024, 5, DType::Q4_0), (1, 4096, 3, DType::Q8_0), (4, 192, 7, DType::Q4_0)] {
        let f = FunctionBuilder::new("gemv");
        let x = f.input("x", DType::F32, &d(&[m, k]));
        let weights = f.input("w", w, &d(&[n, k]));
        let func = f.finish(&[&x.quantize(DType::Q8_0).matmul_t(&weights)]).unwrap();
        let ins = random_inputs(&func, &[&[m, k], &[n, k]], 0, &mut r);
        let want = kiln_dsl::interpret(&func, &ins, &HashMap::new(), &Bindings::new()).unwrap();
        for (lanes, rows, width) in [(64, 2, 8), (64, 2, 16), (32, 4, 32), (16, 1, 16), (128, 1, 32)] {
            let mut options = kiln_runtime::CompileOptions::default();
            options.scheduler = Some(std::sync::Arc::new(move |nest| {
                let knobs = kiln_schedule::GpuKnobs { reduce_threads: lanes, outputs_per_group: rows, vector_width: width, tile: 0 };
                Ok(kiln_schedule::gpu_schedule(nest, &knobs)?.0)
            }));
            let what = format!("{m}x{k}x{n} {w}, {lanes} x {rows}, width {width}");
            let exe = GpuExecutable::compile(&func, gpu(), &options).unwrap();
            let gemv = exe.kernels().find(|k| k.name == "matmul_t").unwrap_or_else(|| panic!("{what}: no GEMV"));
            assert!(gemv.wgsl().unwrap().contains("dot4I8Packed"), "{what}: {}", gemv.nest);
            let got = exe.run(&ins, &HashMap::new(), &Bindings::new()).unwrap();
            let err = kiln_dsl::rel_l2_error(&got[0].to_f64(), &want[0].data);
            assert!(err <= quantized_tol(Backend::GpuDiscrete), "{what}: relative L2 error {err:e}");
        }
    }
}

#[test]
fn a_norms_mean_is_computed_inside_the_quantization_that_reads_it() {
    // llama.cpp's arithmetic before a GEMV: a norm (its mean of squares,
    // then its scaling), the quantization of the normed rows, the GEMV.
    // The graph optimizer makes the mean part of the quantize kernel where
    // rows are whole spans of 256 values, each workgroup computing its own
    // row's; rows of 576 (SmolLM2's) keep the mean's own kernel. With
    // `row_reductions` off, every shape keeps it.
    let options = scheduled_for(Backend::GpuDiscrete, kiln_runtime::CompileOptions::default().rewriting(kiln_runtime::CostModel::gpu()));
    let apart = gpu().with_target(kiln_runtime::GpuTarget { row_reductions: false, ..gpu().target() });
    let mut r = rng();
    for (shape, acts, w) in [(&[1, 256][..], DType::Q8_0, DType::Q4_0), (&[3, 512], DType::Q8_1, DType::Q4_1), (&[2, 2, 1024], DType::Q8_0, DType::Q8_0), (&[1, 4096], DType::Q8_0, DType::Q4_0), (&[2, 576], DType::Q8_0, DType::Q4_0)] {
        let (k, n) = (*shape.last().unwrap(), 5);
        let f = FunctionBuilder::new("norm_quantize_gemv");
        let x = f.input("x", DType::F32, &d(shape));
        let norm = f.input("norm", DType::F32, &d(&[k]));
        let weights = f.input("w", w, &d(&[n, k]));
        let y = x.rms_norm(&norm, 1e-5).quantize(acts).matmul_t(&weights);
        let func = f.finish(&[&y]).unwrap();
        let ins = random_inputs(&func, &[shape, &[k], &[n, k]], 0, &mut r);
        let want = kiln_dsl::interpret(&func, &ins, &HashMap::new(), &Bindings::new()).unwrap();
        for (device, fused) in [(gpu(), k % 256 == 0), (&apart, false)] {
            let exe = GpuExecutable::compile(&func, device, &options).unwrap();
            let got = exe.run(&ins, &HashMap::new(), &Bindings::new()).unwrap();
            let err = kiln_dsl::rel_l2_error(&got[0].to_f64(), &want[0].data);
            assert!(err <= quantized_tol(Backend::GpuDiscrete), "{shape:?} {acts} fused {fused}: relative L2 error {err:e}");
            let kernels: Vec<(&str, &str)> = exe.kernels().map(|k| (k.name.as_str(), k.nest.as_str())).collect();
            assert_eq!(kernels.len(), if fused { 2 } else { 3 }, "{shape:?} {acts} fused {fused}: {kernels:#?}");
            let quantize = kernels.iter().find(|(name, _)| name.contains("quantize")).unwrap_or_else(|| panic!("no quantize kernel in {kernels:#?}"));
            assert_eq!(quantize.1.contains("each workgroup's row's value"), fused, "{}", quantize.1);
        }
    }
}

#[test]
fn an_f32_norms_mean_is_computed_by_the_kernel_that_scales_the_row() {
    // f32 arithmetic's norm: its mean of squares, then its scaling. Where
    // rows are whole spans of 64 values the two stages are one kernel, a
    // workgroup per row (256 invocations for rows of whole 256s); rows of
    // 96 keep two. With `row_reductions` off, every shape keeps two.
    let options = scheduled_for(Backend::GpuDiscrete, kiln_runtime::CompileOptions::default().rewriting(kiln_runtime::CostModel::gpu()));
    let apart = gpu().with_target(kiln_runtime::GpuTarget { row_reductions: false, ..gpu().target() });
    let mut r = rng();
    for shape in [&[1, 4096][..], &[3, 576], &[2, 2, 1024], &[5, 2048], &[1, 64], &[2, 96]] {
        let k = *shape.last().unwrap();
        let f = FunctionBuilder::new("norm");
        let x = f.input("x", DType::F32, &d(shape));
        let norm = f.input("norm", DType::F32, &d(&[k]));
        let y = x.rms_norm(&norm, 1e-5);
        let func = f.finish(&[&y]).unwrap();
        let ins = random_inputs(&func, &[shape, &[k]], 0, &mut r);
        let want = kiln_dsl::interpret(&func, &ins, &HashMap::new(), &Bindings::new()).unwrap();
        for (device, fused) in [(gpu(), k % 64 == 0), (&apart, false)] {
            let exe = GpuExecutable::compile(&func, device, &options).unwrap();
            let got = exe.run(&ins, &HashMap::new(), &Bindings::new()).unwrap();
            let err = kiln_dsl::rel_l2_error(&got[0].to_f64(), &want[0].data);
            assert!(err <= TOL, "{shape:?} fused {fused}: relative L2 error {err:e}");
            let kernels: Vec<&str> = exe.kernels().map(|k| k.nest.as_str()).collect();
            assert_eq!(kernels.len(), if fused { 1 } else { 2 }, "{shape:?} fused {fused}: {kernels:#?}");
            assert_eq!(kernels[0].contains("each workgroup's row's value"), fused, "{}", kernels[0]);
        }
    }
}

#[test]
fn a_residual_add_after_an_integer_dot_gemv_is_its_epilogue() {
    // a decode step's output projection and its residual add (or a
    // subtraction): the graph optimizer makes the add the GEMV's epilogue,
    // which the integer-dot kernel adds once per output after its sum
    // (priced so: also after a long reduction, a down projection's)
    // (a discrete GPU's schedules, whatever adapter runs the test)
    let options = scheduled_for(Backend::GpuDiscrete, kiln_runtime::CompileOptions::default().rewriting(kiln_runtime::CostModel::gpu()));
    let mut r = rng();
    for (m, k, n, w, subtract) in [(1, 1024, 70, DType::Q4_0, false), (4, 64, 3, DType::Q4_0, true), (3, 192, 9, DType::Q8_0, false), (2, 576, 33, DType::Q8_0, true), (1, 8192, 16, DType::Q4_0, false)] {
        let f = FunctionBuilder::new("gemv_residual");
        let x = f.input("x", DType::F32, &d(&[m, k]));
        let weights = f.input("w", w, &d(&[n, k]));
        let residual = f.input("r", DType::F32, &d(&[m, n]));
        let product = x.quantize(DType::Q8_0).matmul_t(&weights);
        let out = if subtract { product.sub(&residual) } else { residual.add(&product) };
        let func = f.finish(&[&out]).unwrap();
        let ins = random_inputs(&func, &[&[m, k], &[n, k], &[m, n]], 0, &mut r);
        let want = kiln_dsl::interpret(&func, &ins, &HashMap::new(), &Bindings::new()).unwrap();
        let exe = GpuExecutable::compile(&func, gpu(), &options).unwrap();
        let got = exe.run(&ins, &HashMap::new(), &Bindings::new()).unwrap();
        let err = kiln_dsl::rel_l2_error(&got[0].to_f64(), &want[0].data);
        assert!(err <= quantized_tol(Backend::GpuDiscrete), "{m}x{k}x{n} {w}: relative L2 error {err:e}");
        let names: Vec<&str> = exe.kernels().map(|k| k.name.as_str()).collect();
        assert_eq!(names.len(), 2, "{m}x{k}x{n} {w}: {names:?}");
        let gemv = exe.kernels().find(|k| k.name.starts_with("matmul_t+")).unwrap_or_else(|| panic!("{m}x{k}x{n} {w}: no epilogue in {names:?}"));
        assert!(gemv.wgsl().unwrap().contains("dot4I8Packed"), "{m}x{k}x{n} {w}: {}", gemv.nest);
        // the plain GEMV's default schedule: 64 invocations for 2 rows of w
        // (where K / 8 fills them)
        assert!(k < 512 || (gemv.workgroup_size[0], &gemv.grid[0]) == (64, &kiln_dsl::Expr::Int((n as i64 + 1) / 2)), "{m}x{k}x{n} {w}: {:?}", (gemv.workgroup_size, &gemv.grid));
    }
}

#[test]
fn a_buffer_above_the_binding_limit_is_a_clear_error() {
    let small = GpuDevice::open_with(0, |l| l.max_storage_buffer_binding_size = 4096).unwrap();
    let f = FunctionBuilder::new("big");
    let x = f.input("x", DType::F32, &[Dim::sym("n")]);
    let func = f.finish(&[&x.exp()]).unwrap();
    let exe = GpuExecutable::compile(&func, &small, &Default::default()).unwrap();
    let ok = exe.run(&[HostTensor::from_f32(DType::F32, &[1000], &vec![0.0; 1000])], &HashMap::new(), &Bindings::new()).unwrap();
    assert_eq!(ok[0].to_f32(), vec![1.0; 1000]);
    let err = exe.run(&[HostTensor::from_f32(DType::F32, &[2000], &vec![0.0; 2000])], &HashMap::new(), &Bindings::new()).unwrap_err().to_string();
    assert!(err.contains("max_storage_buffer_binding_size") && err.contains("8000-byte"), "{err}");
}

#[test]
fn a_lost_device_is_a_clear_error_not_a_panic() {
    // a device of its own: destroying it is how a test loses one
    let gpu = GpuDevice::open(0).unwrap();
    let f = FunctionBuilder::new("lost");
    let x = f.input("x", DType::F32, &[Dim::sym("n")]);
    let func = f.finish(&[&x.exp()]).unwrap();
    let exe = GpuExecutable::compile(&func, &gpu, &Default::default()).unwrap();
    let input = HostTensor::from_f32(DType::F32, &[4], &[0.0; 4]);
    let resident = exe.run_values(&[Value::Host(input.clone())], &HashMap::new(), &Bindings::new()).unwrap();
    gpu.raw().0.destroy();
    let err = exe.run(&[input], &HashMap::new(), &Bindings::new()).unwrap_err().to_string();
    assert!(err.contains("was lost") && err.contains("open it again"), "{err}");
    let err = resident[0].to_host().unwrap_err().to_string();
    assert!(err.contains("was lost"), "{err}");
}

#[test]
fn no_such_adapter_is_a_clear_error() {
    let err = GpuDevice::open(99).unwrap_err().to_string();
    assert!(err.contains("no GPU adapter 99"), "{err}");
}

#[test]
fn rows_copy_into_a_pool_in_place_on_the_host_and_the_gpu() {
    use kiln_runtime::RowRun;
    let mut r = rng();
    let src = HostTensor::random(DType::F16, &[5, 3, 4], 0, &mut r);
    let row = 3 * 4 * 2;
    let runs = [RowRun { from: 0, to: 6, rows: 2 }, RowRun { from: 4, to: 0, rows: 1 }, RowRun { from: 2, to: 9, rows: 0 }];
    let mut want = vec![0u8; 10 * row];
    want[6 * row..8 * row].copy_from_slice(&src.data[..2 * row]);
    want[..row].copy_from_slice(&src.data[4 * row..5 * row]);
    let on_gpu = Value::Gpu(gpu().upload("rows", &src).unwrap());
    for (name, mut pool, from) in [
        ("host from host", Value::Host(HostTensor::zeros(DType::F16, &[10, 3, 4])), Value::Host(src.clone())),
        ("host from gpu", Value::Host(HostTensor::zeros(DType::F16, &[10, 3, 4])), on_gpu.clone()),
        ("gpu from gpu", Value::Gpu(gpu().zeros("pool", DType::F16, &[10, 3, 4]).unwrap()), on_gpu.clone()),
        ("gpu from host", Value::Gpu(gpu().zeros("pool", DType::F16, &[10, 3, 4]).unwrap()), Value::Host(src.clone())),
    ] {
        let shared = pool.clone();
        pool.copy_rows(&from, &runs).unwrap();
        assert_eq!(&pool.to_host().unwrap().data[..], &want[..], "{name}");
        if let Value::Host(_) = pool {
            // a value sharing the storage keeps what it had
            assert!(shared.to_host().unwrap().data.iter().all(|&b| b == 0), "{name}: the copy wrote through a shared value");
        }
    }
    // several pools from their own sources in one call (one submission)
    let other = HostTensor::random(DType::F16, &[5, 3, 4], 0, &mut r);
    let mut other_want = vec![0u8; 10 * row];
    other_want[6 * row..8 * row].copy_from_slice(&other.data[..2 * row]);
    other_want[..row].copy_from_slice(&other.data[4 * row..5 * row]);
    let (mut a, mut b) = (Value::Gpu(gpu().zeros("a", DType::F16, &[10, 3, 4]).unwrap()), Value::Gpu(gpu().zeros("b", DType::F16, &[10, 3, 4]).unwrap()));
    let other_on_gpu = Value::Gpu(gpu().upload("other", &other).unwrap());
    Value::copy_rows_each(&mut [(&mut a, &on_gpu), (&mut b, &other_on_gpu)], &runs).unwrap();
    assert_eq!(&a.to_host().unwrap().data[..], &want[..]);
    assert_eq!(&b.to_host().unwrap().data[..], &other_want[..]);
    let mut pool = Value::Host(HostTensor::zeros(DType::F16, &[10, 3, 4]));
    let e = pool.copy_rows(&Value::Host(src.clone()), &[RowRun { from: 4, to: 9, rows: 2 }]).unwrap_err();
    assert!(e.to_string().contains("rows 4..6 into rows 9..11"), "{e}");
    let e = pool.copy_rows(&Value::Host(HostTensor::zeros(DType::F32, &[5, 3, 4])), &runs).unwrap_err();
    assert!(e.to_string().contains("the rows differ"), "{e}");
}

#[test]
fn quantized_tensors_read_back_as_uploaded_in_either_layout() {
    let mut r = rng();
    for split in [true, false] {
        let g = gpu().with_target(kiln_codegen::gpu::GpuTarget { split_q4_0: split, ..gpu().target() });
        for (dtype, shape) in [(DType::Q4_0, vec![3, 64]), (DType::Q4_0, vec![2, 2, 32]), (DType::Q4_1, vec![2, 64]), (DType::Q8_0, vec![96])] {
            let t = HostTensor::random(dtype, &shape, 0, &mut r);
            let back = g.upload("w", &t).unwrap().to_host().unwrap();
            assert_eq!(back.data, t.data, "{dtype}{shape:?}, split Q4_0 rows: {split}");
        }
        // rows of a block and a half cannot be split (GGUF has none)
        let odd = HostTensor::random(DType::Q4_0, &[2, 48], 0, &mut r);
        assert_eq!(g.upload("odd", &odd).is_err(), split);
    }
}
