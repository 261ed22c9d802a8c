//! Helpers for kiln's benchmarks: compile the single kernel of a one-op
//! function with its default schedule, and call it on raw buffers, so a
//! benchmark times the generated code and not the executor around it.
#![warn(missing_docs)]

use kiln_codegen::cpu::{compile, CpuKernel};
use kiln_dsl::{Bindings, DType, Dim, Function, FunctionBuilder, HostTensor, NodeKind, Tensor};
use kiln_schedule::{default_schedule, LoopNest, Target};
use std::sync::Arc;

/// The kernel of a function made of exactly one single-stage op.
pub fn single_kernel(func: &Function) -> Arc<CpuKernel> {
    compile(&single_nest(func)).expect("compiles")
}

/// Build a function of `inputs` (name, dtype, shape) whose output is `body`.
pub fn function(inputs: &[(&str, DType, &[usize])], body: impl Fn(&[Tensor]) -> Tensor) -> Function {
    let f = FunctionBuilder::new("bench");
    let ts: Vec<Tensor> = inputs.iter().map(|(n, dt, s)| f.input(n, *dt, &s.iter().map(|&x| Dim::from(x)).collect::<Vec<_>>())).collect();
    let out = body(&ts);
    f.finish(&[&out]).expect("a valid benchmark graph")
}

/// Run `kernel` over its whole outer range on this thread.
pub fn run_single_thread(kernel: &CpuKernel, inputs: &[HostTensor], out: &mut [u8]) {
    let mut bufs: Vec<*mut u8> = inputs.iter().map(|t| t.data.as_ptr() as *mut u8).collect();
    bufs.push(out.as_mut_ptr());
    let extent = kernel.outer_extent(&Bindings::new()).expect("constant shapes");
    assert!(kernel.symbols.is_empty(), "benchmarks use constant shapes");
    // SAFETY: inputs and output are sized for the function's constant shapes.
    unsafe { kernel.run(&bufs, &[], 0, extent) }
}

/// The default-scheduled nest of a function made of one single-stage op.
pub fn single_nest(func: &Function) -> kiln_schedule::Validated {
    let (nest, stages) = stage_nest(func, 0);
    assert_eq!(stages, 1, "the op has {stages} stages");
    nest
}

/// The default-scheduled nest of stage `n` of a function's one op, and how
/// many stages the op has.
pub fn stage_nest(func: &Function, n: usize) -> (kiln_schedule::Validated, usize) {
    let node = func.nodes.iter().rev().find(|n| matches!(n.kind, NodeKind::Op(_))).expect("an op");
    let NodeKind::Op(op) = &node.kind else { unreachable!() };
    let ins: Vec<_> = node.inputs.iter().map(|x| func.node(*x).ty.clone()).collect();
    let stages = op.compute(&ins, &node.ty);
    let mut srcs: Vec<(DType, Vec<Dim>)> = ins.iter().map(|t| (t.dtype, t.shape.clone())).collect();
    srcs.extend(stages[..n].iter().map(|s| (s.dtype, s.shape.clone())));
    let nest = default_schedule(LoopNest::from_stage(&stages[n], &srcs).expect("lowers"), Target::CPU).expect("schedules").0;
    (nest, stages.len())
}
