//! Bad graphs, bad inputs and illegal schedules give typed errors that name
//! the op or kernel; nothing panics.

use kiln_codegen::CodegenError;
use kiln_dsl::{Bindings, DType, Dim, FunctionBuilder, GraphError, HostTensor, Module};
use kiln_runtime::{CompileOptions, CpuExecutable, CpuModule, RuntimeError, Scheduler};
use kiln_schedule::{annotate, default_schedule, reorder, split, vectorize, LoopKind, LoopNest, ScheduleError, Target, Trace};
use std::collections::HashMap;
use std::sync::Arc;

fn dims(v: &[i64]) -> Vec<Dim> {
    v.iter().map(|&n| Dim::new(n)).collect()
}

#[test]
fn shape_mismatch_names_the_op_and_shapes() {
    let f = FunctionBuilder::new("bad");
    let x = f.input("x", DType::F32, &dims(&[4, 64]));
    let w = f.input("w", DType::F32, &dims(&[63, 32]));
    let err = f.finish(&[&x.matmul(&w).silu()]).unwrap_err();
    match &err {
        GraphError::Shape { op, inputs, .. } => {
            assert_eq!(op, "matmul");
            assert!(inputs.contains("f32[4, 64]") && inputs.contains("f32[63, 32]"), "{inputs}");
        }
        other => panic!("expected a shape error, got {other:?}"),
    }
    assert!(err.to_string().contains("contraction axes differ: 64 vs 63"), "{err}");

    let f = FunctionBuilder::new("bad");
    let x = f.input("x", DType::F32, &dims(&[7, 3]));
    let y = f.input("y", DType::F32, &dims(&[4]));
    let err = f.finish(&[&x.add(&y)]).unwrap_err();
    assert!(matches!(&err, GraphError::Shape { op, .. } if op == "add"), "{err:?}");

    let f = FunctionBuilder::new("bad");
    let x = f.input("x", DType::F32, &dims(&[6, 10]));
    let err = f.finish(&[&x.reshape(&dims(&[7, 9]))]).unwrap_err();
    assert!(err.to_string().contains("reshape") && err.to_string().contains("element counts differ"), "{err}");

    let f = FunctionBuilder::new("bad");
    let w = f.input("w", DType::Q4_0, &dims(&[8, 48]));
    let x = f.input("x", DType::F32, &dims(&[1, 48]));
    let err = f.finish(&[&x.matmul_t(&w)]).unwrap_err();
    assert!(err.to_string().contains("multiple of 32"), "{err}");

    let f = FunctionBuilder::new("bad");
    let q = f.input("q", DType::F32, &dims(&[1, 5, 8]));
    let k = f.input("k", DType::F32, &dims(&[4, 2, 8]));
    let err = f.finish(&[&q.attention(&k, &k, 1.0)]).unwrap_err();
    assert!(err.to_string().contains("attention") && err.to_string().contains("multiple of kv heads"), "{err}");
}

#[test]
fn unbound_symbolic_dim_names_the_op_and_symbol() {
    let f = FunctionBuilder::new("f");
    let x = f.input("x", DType::F32, &[Dim::sym("n")]);
    let func = f.finish(&[&x.slice(0, 0, "m")]).unwrap();
    let exe = CpuExecutable::compile(&func, &CompileOptions::default()).unwrap();
    let input = HostTensor::from_f32(DType::F32, &[5], &[1.0; 5]);
    let err = exe.run(std::slice::from_ref(&input), &HashMap::new(), &Bindings::new()).unwrap_err();
    match err {
        RuntimeError::Graph(GraphError::UnboundDim { op, sym }) => {
            assert!(op.starts_with("slice"), "{op}");
            assert_eq!(sym, "m");
        }
        other => panic!("expected an unbound-dim error, got {other:?}"),
    }
    // bound, but past the end of the axis: refused before any kernel runs
    let err = exe.run(std::slice::from_ref(&input), &HashMap::new(), &Bindings::from([("m".to_string(), 9)])).unwrap_err();
    assert!(err.to_string().contains("slice end <= length of axis 0"), "{err}");
    let ok = exe.run(&[input], &HashMap::new(), &Bindings::from([("m".to_string(), 3)])).unwrap();
    assert_eq!(ok[0].shape, vec![3]);
}

#[test]
fn wrong_run_time_inputs_are_refused() {
    let f = FunctionBuilder::new("f");
    let x = f.input("x", DType::F32, &[Dim::sym("n"), 4.into()]);
    let y = f.input("y", DType::F32, &[Dim::sym("n"), 4.into()]);
    let func = f.finish(&[&x.add(&y)]).unwrap();
    let exe = CpuExecutable::compile(&func, &CompileOptions::default()).unwrap();
    let a = HostTensor::from_f32(DType::F32, &[2, 4], &[0.0; 8]);
    let b = HostTensor::from_f32(DType::F32, &[3, 4], &[0.0; 12]);
    let err = exe.run(&[a.clone(), b], &HashMap::new(), &Bindings::new()).unwrap_err();
    assert!(err.to_string().contains("`n` is 3 here but 2 elsewhere"), "{err}");
    let wrong_dtype = HostTensor::from_i32(&[2, 4], &[0; 8]);
    let err = exe.run(&[a.clone(), wrong_dtype], &HashMap::new(), &Bindings::new()).unwrap_err();
    assert!(err.to_string().contains("input `y`"), "{err}");
    let err = exe.run(std::slice::from_ref(&a), &HashMap::new(), &Bindings::new()).unwrap_err();
    assert!(err.to_string().contains("expects 2 inputs, got 1"), "{err}");
    let mut short = a.clone();
    short.data.truncate(5);
    let err = exe.run(&[a, short], &HashMap::new(), &Bindings::new()).unwrap_err();
    assert!(err.to_string().contains("holds 5 bytes"), "{err}");
}

fn matmul_nest() -> LoopNest {
    let f = FunctionBuilder::new("f");
    let a = f.input("a", DType::F32, &dims(&[8, 16]));
    let b = f.input("b", DType::F32, &dims(&[16, 8]));
    let func = f.finish(&[&a.matmul(&b)]).unwrap();
    let node = &func.nodes[2];
    let kiln_dsl::NodeKind::Op(op) = &node.kind else { unreachable!() };
    let ins: Vec<_> = node.inputs.iter().map(|i| func.node(*i).ty.clone()).collect();
    let stage = op.compute(&ins, &node.ty).remove(0);
    LoopNest::from_stage(&stage, &[(DType::F32, dims(&[8, 16])), (DType::F32, dims(&[16, 8]))]).unwrap()
}

#[test]
fn illegal_schedules_are_typed_errors_naming_the_kernel() {
    let nest = matmul_nest();
    let err = split(nest.clone(), 0, 0).unwrap_err();
    assert!(matches!(&err, ScheduleError::BadSplitFactor { kernel, factor: 0, .. } if kernel == "matmul"), "{err:?}");
    assert!(err.to_string().contains("kernel `matmul`"), "{err}");

    // loops are [m, n, k]; moving k outside n hoists the reduction out of its consumer
    let err = reorder(nest.clone(), &[2, 1]).unwrap().validate().unwrap_err();
    assert!(matches!(err, ScheduleError::ReductionOutsideConsumer { reduction: 2, spatial: 1, .. }), "{err:?}");
    // ...unless the loop inside is a register tile
    let tiled = annotate(reorder(nest.clone(), &[2, 1]).unwrap(), 1, LoopKind::Unrolled).unwrap();
    assert!(tiled.validate().is_ok());

    assert!(matches!(annotate(nest.clone(), 2, LoopKind::Parallel), Err(ScheduleError::BadLoopKind { loop_id: 2, .. })));
    assert!(matches!(vectorize(nest.clone(), 0).unwrap().validate(), Err(ScheduleError::BadLoopKind { loop_id: 0, .. })), "vectorizing a non-innermost loop");
    assert!(matches!(annotate(nest.clone(), 1, LoopKind::Parallel).unwrap().validate(), Err(ScheduleError::BadLoopKind { .. })), "parallel inside another loop");
    assert!(matches!(split(nest.clone(), 42, 2), Err(ScheduleError::NoSuchLoop { loop_id: 42, .. })));
    assert!(matches!(reorder(nest.clone(), &[0, 0]), Err(ScheduleError::BadReorder { .. })));
    assert!(matches!(kiln_schedule::fuse(nest.clone(), 0, 2), Err(ScheduleError::BadFuse { .. })));
    assert!(matches!(kiln_schedule::fuse(nest.clone(), 1, 2), Err(ScheduleError::BadFuse { .. })), "spatial with reduction");

    // symbolic extents cannot be vectorized or unrolled
    let f = FunctionBuilder::new("f");
    let x = f.input("x", DType::F32, &[Dim::sym("n")]);
    let func = f.finish(&[&x.exp()]).unwrap();
    let node = &func.nodes[1];
    let kiln_dsl::NodeKind::Op(op) = &node.kind else { unreachable!() };
    let stage = op.compute(&[func.node(node.inputs[0]).ty.clone()], &node.ty).remove(0);
    let sym_nest = LoopNest::from_stage(&stage, &[(DType::F32, vec![Dim::sym("n")])]).unwrap();
    assert!(matches!(vectorize(sym_nest, 0), Err(ScheduleError::BadLoopKind { .. })));

    // through the runtime, the error surfaces as a schedule error
    let f = FunctionBuilder::new("f");
    let a = f.input("a", DType::F32, &dims(&[8, 16]));
    let b = f.input("b", DType::F32, &dims(&[16, 8]));
    let func = f.finish(&[&a.matmul(&b)]).unwrap();
    let bad: Scheduler = Arc::new(|n: LoopNest| reorder(n, &[2, 0]).and_then(|n| n.validate()));
    let err = CpuExecutable::compile(&func, &CompileOptions { scheduler: Some(bad), ..Default::default() }).unwrap_err();
    assert!(matches!(err, RuntimeError::Schedule(ScheduleError::ReductionOutsideConsumer { .. })), "{err:?}");
}

#[test]
fn the_cpu_backend_refuses_what_it_cannot_run() {
    let nest = matmul_nest();
    let gpu = annotate(nest.clone(), 0, LoopKind::GpuBlock(0)).unwrap().validate().unwrap();
    let err = kiln_codegen::cpu::compile(&gpu).unwrap_err();
    assert!(matches!(&err, CodegenError::Unsupported { kernel, .. } if kernel == "matmul"), "{err:?}");
    // an 8-wide vector loop: this backend has 4-lane vectors
    let (n, _, inner) = split(nest, 1, 8).unwrap();
    let ids = n.loop_ids(); // [m, n_o, n_i, k]
    let n = reorder(n, &[ids[0], ids[1], ids[3], ids[2]]).unwrap();
    let v = vectorize(n, inner).unwrap().validate().unwrap();
    let err = kiln_codegen::cpu::compile(&v).unwrap_err();
    assert!(err.to_string().contains("4-lane"), "{err}");
}

#[test]
fn traces_round_trip_through_json_and_bad_ones_are_refused() {
    let nest = matmul_nest();
    let (scheduled, trace) = default_schedule(nest.clone(), Target::CPU).unwrap();
    let back = Trace::from_json(&trace.to_json()).unwrap();
    assert_eq!(back, trace);
    assert_eq!(back.apply(nest).unwrap().validate().unwrap(), scheduled);
    assert!(matches!(Trace::from_json("{\"steps\": [{\"Split\": {\"loop_id\": 1}}]}"), Err(ScheduleError::BadTrace(_))));
}

#[test]
fn modules_check_parameters_and_function_names() {
    let mut m = Module::new();
    m.declare_param("w", DType::F32, &dims(&[4, 4])).unwrap();
    assert!(m.declare_param("w", DType::F32, &dims(&[4])).is_err());
    let f = m.function_builder("apply");
    let x = f.input("x", DType::F32, &[Dim::sym("n"), 4.into()]);
    let y = x.matmul(&f.param("w"));
    m.add_function(f.finish(&[&y]).unwrap()).unwrap();
    let f = m.function_builder("bad");
    let _ = f.param("nope");
    assert!(f.finish(&[]).unwrap_err().to_string().contains("`nope` is not declared"));

    let err = CpuModule::compile(&m, HashMap::new(), &CompileOptions::default()).unwrap_err();
    assert!(err.to_string().contains("parameter has no value"), "{err}");
    let wrong = HashMap::from([("w".to_string(), HostTensor::from_f32(DType::F32, &[4, 5], &[0.0; 20]))]);
    assert!(CpuModule::compile(&m, wrong, &CompileOptions::default()).unwrap_err().to_string().contains("declared f32[4, 4]"));
    let ok = HashMap::from([("w".to_string(), HostTensor::from_f32(DType::F32, &[4, 4], &[0.0; 16]))]);
    let cm = CpuModule::compile(&m, ok, &CompileOptions::default()).unwrap();
    assert!(matches!(cm.run("decode", &[], &Bindings::new()), Err(RuntimeError::NoSuchFunction(_))));
}

/// A user-defined op whose definition is wrong in a chosen way.
#[derive(Debug)]
struct BrokenOp(&'static str);

impl kiln_dsl::OpDef for BrokenOp {
    fn name(&self) -> String {
        format!("broken_{}", self.0)
    }
    fn infer(&self, inputs: &[kiln_dsl::TensorType]) -> Result<kiln_dsl::TensorType, String> {
        Ok(inputs[0].clone())
    }
    fn compute(&self, _inputs: &[kiln_dsl::TensorType], out: &kiln_dsl::TensorType) -> Vec<kiln_dsl::Stage> {
        use kiln_dsl::{ax, load, Stage};
        let shape = out.shape.clone();
        match self.0 {
            "no_stage" => vec![],
            "bad_axis" => vec![Stage::map("s", shape, DType::F32, load(0, vec![ax(5)]))],
            "bad_arity" => vec![Stage::map("s", shape, DType::F32, load(0, vec![ax(0), ax(0)]))],
            "bad_source" => vec![Stage::map("s", shape, DType::F32, load(3, vec![ax(0)]))],
            "int_body" => vec![Stage::map("s", shape, DType::F32, ax(0))],
            "wrong_shape" => vec![Stage::map("s", vec![Dim::new(2)], DType::F32, load(0, vec![ax(0)]))],
            _ => vec![Stage::reduce("s", shape, DType::F32, kiln_dsl::ReduceOp::Sum, vec![], load(0, vec![ax(0)]))],
        }
    }
}

#[test]
fn a_broken_user_op_is_an_error_in_the_interpreter_and_the_compiler_not_a_panic() {
    for which in ["no_stage", "bad_axis", "bad_arity", "bad_source", "int_body", "wrong_shape", "empty_reduce"] {
        let f = FunctionBuilder::new("f");
        let x = f.input("x", DType::F32, &dims(&[4]));
        let y = f.apply(Arc::new(BrokenOp(which)), &[&x]);
        let func = f.finish(&[&y]).unwrap();
        let input = HostTensor::from_f32(DType::F32, &[4], &[1.0; 4]);
        let interp = kiln_dsl::interpret(&func, std::slice::from_ref(&input), &HashMap::new(), &Bindings::new());
        assert!(interp.is_err(), "{which}: the interpreter accepted it");
        let compiled = CpuExecutable::compile(&func, &CompileOptions::default());
        assert!(compiled.is_err(), "{which}: the compiler accepted it");
        let msg = compiled.unwrap_err().to_string();
        assert!(msg.contains("broken") || msg.contains("stage `s`") || msg.contains("kernel `s`"), "{which}: {msg}");
    }
}

#[test]
fn quantizing_f16_rows_on_the_cpu_is_a_clear_error() {
    let f = FunctionBuilder::new("q16");
    let x = f.input("x", DType::F16, &[Dim::from(2), Dim::from(64)]);
    let func = f.finish(&[&x.quantize(DType::Q8_0)]).unwrap();
    let err = CpuExecutable::compile(&func, &CompileOptions::default()).unwrap_err().to_string();
    assert!(err.contains("q8_0") && err.contains("f16"), "{err}");
}
