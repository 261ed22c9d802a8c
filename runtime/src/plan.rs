//! The static memory plan: intermediate values share buffers whose
//! lifetimes do not overlap, and (where the backend allows) an elementwise
//! kernel writes over the operand it is the last to read.
//!
//! Lifetimes are known when the function is compiled (kernels run in a fixed
//! order), so slots are assigned once; only their sizes depend on the
//! symbolic dims and are evaluated per run.

use crate::error::RuntimeError;
use kiln_codegen::gpu::{AttentionPart, FusedAttention, GpuTarget};
use kiln_dsl::ops::{AttentionPlan, RowReduced};
use kiln_rewrite::CostModel;
use kiln_dsl::{product, Bindings, DType, Dim, Expr, Function, GraphError, NodeKind, Stage};
use kiln_schedule::LoopNest;

/// An intermediate value to place: its size in bytes (symbolic), the step
/// that writes it and the last step that reads it.
#[derive(Clone, Debug)]
pub struct Interval {
    /// Storage bytes.
    pub bytes: Dim,
    /// Writing step.
    pub def: usize,
    /// Last reading step (`usize::MAX` for function outputs, which must survive).
    pub last_use: usize,
    /// A value the writing step may overwrite: one its kernel reads only at
    /// the point it writes (elementwise, same shape and element size) and
    /// is the last to read. The plan gives both one slot when it can.
    pub in_place_of: Option<usize>,
}

impl Interval {
    /// Whether the function returns the value (it outlives the call).
    pub fn returned(&self) -> bool {
        self.last_use == usize::MAX
    }
}

/// Slot of each value, and the values sharing each slot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemoryPlan {
    /// `slot_of[v]` is value `v`'s slot.
    pub slot_of: Vec<usize>,
    /// Values assigned to each slot.
    pub slots: Vec<Vec<usize>>,
}

impl MemoryPlan {
    /// Best-fit interval colouring in order of definition: a value takes,
    /// of the slots whose occupants are all dead before it is written, the
    /// smallest that holds it, else (in place) the slot of the operand it
    /// overwrites, else the largest (which grows least). Sizes
    /// are compared with every symbolic dim at `PLAN_DIM`. A slot is
    /// read and written by one step only in place ([`Interval::in_place_of`]:
    /// the value takes the slot of the operand it overwrites, if that is the
    /// slot's latest occupant); a returned value (`last_use == usize::MAX`)
    /// gets a slot of its own, since it outlives the call.
    pub fn new(values: &[Interval]) -> MemoryPlan {
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by_key(|&v| values[v].def);
        let mut plan = MemoryPlan { slot_of: vec![0; values.len()], slots: Vec::new() };
        let mut free_after: Vec<usize> = Vec::new(); // last use of each slot's latest occupant
        let mut slot_size: Vec<i64> = Vec::new();
        for v in order {
            let iv = &values[v];
            let size = approx_bytes(&iv.bytes);
            let free = (0..plan.slots.len()).filter(|&s| free_after[s] < iv.def);
            let fitting = free.clone().filter(|&s| slot_size[s] >= size).min_by_key(|&s| slot_size[s]);
            // else the overwritten operand's slot, if it is the latest there
            // (it dies at this step), which holds the value without growing
            let in_place = iv.in_place_of.map(|o| plan.slot_of[o]).filter(|&s| plan.slots[s].last() == iv.in_place_of.as_ref() && free_after[s] == iv.def);
            let slot = match fitting.or(in_place).or_else(|| free.max_by_key(|&s| slot_size[s])) {
                Some(s) if !iv.returned() => s,
                _ => {
                    plan.slots.push(Vec::new());
                    free_after.push(0);
                    slot_size.push(0);
                    plan.slots.len() - 1
                }
            };
            plan.slots[slot].push(v);
            plan.slot_of[v] = slot;
            free_after[slot] = iv.last_use;
            slot_size[slot] = slot_size[slot].max(size);
        }
        plan
    }
}

/// The value of every symbolic dim when the plan compares sizes.
pub const PLAN_DIM: i64 = 512;

fn approx_bytes(d: &Dim) -> i64 {
    let b: Bindings = d.symbols().map(|s| (s.to_string(), PLAN_DIM)).collect();
    d.eval(&b).unwrap_or(i64::MAX)
}

/// Where a kernel argument lives.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Loc {
    /// A function input, by position.
    Input(usize),
    /// A module parameter, by name.
    Param(String),
    /// An intermediate value in the memory plan.
    Value(usize),
}

/// One kernel launch of a lowered function.
#[derive(Debug)]
pub(crate) struct Step<K> {
    /// The backend's compiled kernel.
    pub kernel: K,
    /// Its sources.
    pub args: Vec<Loc>,
    /// The value it writes.
    pub out: usize,
    /// The op it comes from.
    pub op: String,
}

/// A function as a fixed sequence of kernel launches over planned buffers:
/// what every backend's executor runs.
#[derive(Debug)]
pub(crate) struct Lowered<K> {
    pub steps: Vec<Step<K>>,
    /// Each intermediate value's size and lifetime.
    pub values: Vec<Interval>,
    pub plan: MemoryPlan,
    pub outputs: Vec<Loc>,
}

/// How intermediate values get buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Buffers {
    /// Each value its own (to measure what planning saves).
    OnePerValue,
    /// Values whose lifetimes do not overlap share ([`MemoryPlan`]).
    Shared,
    /// Shared, and an elementwise kernel may write over the operand it is
    /// the last to read. A backend allows this when its kernels may read
    /// and write one buffer: the CPU's do (each point is read before it is
    /// written, and only by its own invocation); wgpu forbids binding one
    /// buffer as read-only and read-write storage in one dispatch.
    SharedInPlace,
}

/// Whether `stage` reads source `src` (of element type `dtype`, shape
/// `shape`) only at the point it writes, so it may write over it.
fn reads_only_own_point(stage: &Stage, src: u32, dtype: DType, shape: &[Dim]) -> bool {
    if stage.reduce.is_some() || dtype != stage.dtype || dtype.is_quantized() || shape != stage.shape.as_slice() {
        return false;
    }
    let mut own = true;
    stage.body.visit(&mut |e| match e {
        Expr::Load { src: s, index } if *s == src => own &= index.iter().enumerate().all(|(a, i)| *i == Expr::Axis(a as u32)),
        Expr::LoadByte { src: s, .. } | Expr::LoadHalf { src: s, .. } if *s == src => own = false,
        _ => {}
    });
    own
}

/// What a backend compiles into one kernel.
pub(crate) enum KernelSource {
    /// One stage, as its naive loop nest (which the backend schedules).
    Nest(LoopNest),
    /// A kernel of an attention op's stages (backends that run them as one
    /// kernel, or three splitting the keys).
    Attention(FusedAttention, AttentionPart),
    /// A quantize or f32 stage's naive nest and the reduction over each of
    /// its rows that it reads (source `n_inputs` of the nest), as one
    /// kernel reading the op's inputs.
    RowReduced { stage: LoopNest, reduction: LoopNest, n_inputs: usize },
}

/// Which ops of several stages a backend runs as fewer kernels than stages
/// (each is also the graph optimizer's [`CostModel`] flag of that name,
/// which must agree for its kernel counts to be the plan's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WholeKernels {
    /// An attention as one kernel ([`AttentionPlan`]).
    pub attention_kernels: bool,
    /// ... or as three splitting the keys, for a few queries.
    pub split_attention: bool,
    /// A quantization or f32 stage and the reduction over its rows it
    /// reads as one kernel ([`RowReduced`]).
    pub row_reductions: bool,
}

impl WholeKernels {
    /// What a GPU of `target` runs whole.
    pub fn of_target(target: &GpuTarget) -> WholeKernels {
        WholeKernels { attention_kernels: target.attention_kernels, split_attention: target.split_attention, row_reductions: target.row_reductions }
    }

    /// What the backend that `cost` prices runs whole.
    pub fn of_cost(cost: &CostModel) -> WholeKernels {
        WholeKernels { attention_kernels: cost.attention_kernels, split_attention: cost.split_attention, row_reductions: cost.row_reductions }
    }
}

/// The steps and values of a function being lowered, and the arguments of
/// the op whose kernels are being added.
struct OpSteps<'a, K> {
    steps: &'a mut Vec<Step<K>>,
    values: &'a mut Vec<Interval>,
    overwritable: &'a mut Vec<Vec<usize>>,
    /// The op's operands, then the results of its kernels so far.
    args: Vec<Loc>,
    op: String,
}

impl<K> OpSteps<'_, K> {
    /// Add `kernel`, reading the arguments so far and writing a new value
    /// of `dtype` and `shape` (which later kernels of the op read), able to
    /// overwrite the values `own`.
    fn step(&mut self, kernel: K, dtype: DType, shape: &[Dim], own: Vec<usize>) {
        let step_no = self.steps.len();
        for a in &self.args {
            if let Loc::Value(v) = a {
                self.values[*v].last_use = step_no;
            }
        }
        // quantized values pack whole blocks along a constant last axis (op
        // inference checks it)
        let bytes = match shape.split_last() {
            Some((last, rows)) if dtype.is_quantized() => &product(rows) * &Dim::new(dtype.storage_bytes(last.as_const().unwrap_or(0) as usize) as i64),
            _ => &product(shape) * &Dim::new(dtype.block_bytes() as i64),
        };
        self.overwritable.push(own);
        self.values.push(Interval { bytes, def: step_no, last_use: step_no, in_place_of: None });
        let out = self.values.len() - 1;
        self.steps.push(Step { kernel, args: self.args.clone(), out, op: self.op.clone() });
        self.args.push(Loc::Value(out));
    }
}

/// Walk `func`'s ops in order, compile each stage's naive nest with
/// `compile` (which schedules it for its backend), or the stages the
/// backend runs `whole` together (an [`AttentionPlan`] as one kernel, or
/// three splitting the keys of a few queries; a [`RowReduced`] as
/// one), and plan the buffers of the intermediate values.
pub(crate) fn lower_function<K>(func: &Function, buffers: Buffers, whole: WholeKernels, mut compile: impl FnMut(KernelSource) -> Result<K, RuntimeError>) -> Result<Lowered<K>, RuntimeError> {
    func.verify()?;
    let mut steps: Vec<Step<K>> = Vec::new();
    let mut values: Vec<Interval> = Vec::new();
    // per step, the values its kernel could overwrite (if it is their last reader)
    let mut overwritable: Vec<Vec<usize>> = Vec::new();
    let mut loc_of: Vec<Option<Loc>> = vec![None; func.nodes.len()];
    let mut input_no = 0;
    for (i, node) in func.nodes.iter().enumerate() {
        let loc = match &node.kind {
            NodeKind::Input(_) => {
                input_no += 1;
                Loc::Input(input_no - 1)
            }
            NodeKind::Param(name) => Loc::Param(name.clone()),
            // a reshape of values that are not returned: its operand's buffer
            NodeKind::Op(op) if kiln_dsl::ops::is_view(op.as_ref(), &node.ty) && !func.outputs.iter().any(|o| o.0 as usize == i) => loc_of[node.inputs[0].0 as usize].clone().expect("operands precede users"),
            NodeKind::Op(op) => {
                let in_tys: Vec<_> = node.inputs.iter().map(|x| func.node(*x).ty.clone()).collect();
                let stages = op.compute(&in_tys, &node.ty);
                let Some(last) = stages.last() else {
                    return Err(GraphError::Invalid { node: i, message: format!("op `{}` defines no stage", op.name()) }.into());
                };
                if last.shape != node.ty.shape || last.dtype != node.ty.dtype {
                    let message = format!("op `{}` infers {} but its last stage computes {}{}", op.name(), node.ty, last.dtype, kiln_dsl::shape_str(&last.shape));
                    return Err(GraphError::Invalid { node: i, message }.into());
                }
                let args: Vec<Loc> = node.inputs.iter().map(|x| loc_of[x.0 as usize].clone().expect("operands precede users")).collect();
                let mut src_types: Vec<(DType, Vec<Dim>)> = in_tys.iter().map(|t| (t.dtype, t.shape.clone())).collect();
                let mut op_steps = OpSteps { steps: &mut steps, values: &mut values, overwritable: &mut overwritable, args, op: op.name() };
                let attention = whole.attention_kernels.then(|| AttentionPlan::of(op.as_ref(), &stages, in_tys.len())).flatten();
                let row_reduced = whole.row_reductions.then(|| RowReduced::of(&stages, in_tys.len())).flatten();
                match (attention, row_reduced) {
                    (Some(attention), _) => {
                        // proven in bounds where each stage is (the kernel reads
                        // what they read, at their points)
                        let mut sources = src_types.clone();
                        let mut bounds_proof = Ok(());
                        for stage in &stages {
                            if let Err(e) = LoopNest::from_stage(stage, &sources)?.bounds_proof() {
                                bounds_proof = bounds_proof.and(Err(format!("{}: {e}", stage.name)));
                            }
                            sources.push((stage.dtype, stage.shape.clone()));
                        }
                        let name = if attention.prologue.is_some() { "attention_with_queries" } else { "attention" };
                        let fused = FusedAttention { name: name.into(), plan: attention, sources: src_types, output: last.shape.clone(), bounds_proof, split_keys: whole.split_attention };
                        // one kernel, or three splitting the keys (the
                        // first two write scratch values the next read)
                        for part in fused.parts() {
                            let kernel = compile(KernelSource::Attention(fused.clone(), part))?;
                            match fused.scratch(part) {
                                Some((dtype, shape)) => op_steps.step(kernel, dtype, &shape, Vec::new()),
                                None => op_steps.step(kernel, last.dtype, &last.shape, Vec::new()),
                            }
                        }
                    }
                    (None, Some(plan)) => {
                        let reduction = LoopNest::from_stage(&plan.reduction, &src_types)?;
                        let n_inputs = src_types.len();
                        src_types.push((plan.reduction.dtype, plan.reduction.shape.clone()));
                        let stage = LoopNest::from_stage(&plan.stage, &src_types)?;
                        let kernel = compile(KernelSource::RowReduced { stage, reduction, n_inputs })?;
                        op_steps.step(kernel, last.dtype, &last.shape, Vec::new());
                    }
                    (None, None) => {
                        for stage in &stages {
                            let kernel = compile(KernelSource::Nest(LoopNest::from_stage(stage, &src_types)?))?;
                            let own: Vec<usize> = op_steps
                                .args
                                .iter()
                                .enumerate()
                                .filter_map(|(i, a)| match a {
                                    Loc::Value(v) if reads_only_own_point(stage, i as u32, src_types[i].0, &src_types[i].1) => Some(*v),
                                    _ => None,
                                })
                                .collect();
                            op_steps.step(kernel, stage.dtype, &stage.shape, own);
                            src_types.push((stage.dtype, stage.shape.clone()));
                        }
                    }
                }
                Loc::Value(values.len() - 1)
            }
        };
        loc_of[i] = Some(loc);
    }
    let outputs: Vec<Loc> = func.outputs.iter().map(|o| loc_of[o.0 as usize].clone().expect("outputs are nodes")).collect();
    for o in &outputs {
        if let Loc::Value(v) = o {
            values[*v].last_use = usize::MAX;
        }
    }
    if buffers == Buffers::SharedInPlace {
        for (step, candidates) in overwritable.iter().enumerate() {
            let out = steps[step].out;
            values[out].in_place_of = candidates.iter().copied().find(|&v| values[v].last_use == step);
        }
    }
    let plan = match buffers {
        Buffers::OnePerValue => MemoryPlan { slot_of: (0..values.len()).collect(), slots: (0..values.len()).map(|v| vec![v]).collect() },
        Buffers::Shared | Buffers::SharedInPlace => MemoryPlan::new(&values),
    };
    Ok(Lowered { steps, values, plan, outputs })
}

/// Kernels of a function and the bytes of its intermediate values (those
/// it does not return), with and without the memory plan.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MemoryReport {
    /// Kernels launched per call.
    pub kernels: usize,
    /// Intermediate bytes when values share buffers by the plan.
    pub planned_bytes: u64,
    /// The same when elementwise kernels also write over an operand they
    /// are the last to read (the CPU backend's plan).
    pub in_place_bytes: u64,
    /// Intermediate bytes when every value has its own buffer.
    pub unplanned_bytes: u64,
    /// Bytes of the returned values (each its own buffer either way).
    pub output_bytes: u64,
}

/// The [`MemoryReport`] of `func` with every symbolic dim set to `dims`
/// (kernels are not compiled), on a backend that runs the stages of some
/// ops together (`whole`: the GPU's) or none.
pub fn memory_report(func: &Function, dims: i64, whole: WholeKernels) -> Result<MemoryReport, RuntimeError> {
    let lowered = lower_function(func, Buffers::Shared, whole, |_| Ok(()))?;
    let in_place = lower_function(func, Buffers::SharedInPlace, whole, |_| Ok(()))?;
    let mut b = Bindings::new();
    for n in &func.nodes {
        for d in &n.ty.shape {
            for s in d.symbols() {
                b.insert(s.to_string(), dims);
            }
        }
    }
    let sizes = lowered.value_sizes(&b, &func.name)?;
    let output_bytes = lowered.values.iter().zip(&sizes).filter(|(v, _)| v.returned()).map(|(_, &s)| s).sum();
    // returned values have slots of their own
    let planned = |l: &Lowered<()>| -> u64 { l.plan.slots.iter().zip(l.slot_sizes(&sizes)).filter(|(s, _)| !s.iter().any(|&v| l.values[v].returned())).map(|(_, b)| b).sum() };
    Ok(MemoryReport { kernels: lowered.steps.len(), planned_bytes: planned(&lowered), in_place_bytes: planned(&in_place), unplanned_bytes: sizes.iter().sum::<u64>() - output_bytes, output_bytes })
}

impl<K> Lowered<K> {
    /// Each value's bytes under `b`.
    pub fn value_sizes(&self, b: &Bindings, function: &str) -> Result<Vec<u64>, RuntimeError> {
        self.values
            .iter()
            .map(|v| {
                let n = v.bytes.eval(b).map_err(|sym| GraphError::UnboundDim { op: function.to_string(), sym })?;
                u64::try_from(n).ok().filter(|&n| n < (1u64 << 46)).ok_or_else(|| RuntimeError::TooLarge { what: function.to_string(), bytes: n as i128 })
            })
            .collect()
    }

    /// Bytes of each slot of the plan: the largest value it holds.
    pub fn slot_sizes(&self, sizes: &[u64]) -> Vec<u64> {
        self.plan.slots.iter().map(|s| s.iter().map(|&v| sizes[v]).max().unwrap_or(0)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_dead_buffers_but_never_overlaps_lifetimes() {
        let iv = |def, last_use| Interval { bytes: Dim::new(16), def, last_use, in_place_of: None };
        // a chain a -> b -> c -> d -> e: a and c can share, b and d can
        // share; e is returned and gets a slot of its own
        let plan = MemoryPlan::new(&[iv(0, 1), iv(1, 2), iv(2, 3), iv(3, 4), iv(4, usize::MAX)]);
        assert_eq!(plan.slots.len(), 3);
        assert_eq!(plan.slot_of[0], plan.slot_of[2]);
        assert_eq!(plan.slot_of[1], plan.slot_of[3]);
        assert_ne!(plan.slot_of[0], plan.slot_of[1]);
        assert_eq!(plan.slots[plan.slot_of[4]], [4]);
        // best fit: a small value takes the small free slot, not the big one
        let sized = |bytes, def, last_use| Interval { bytes: Dim::new(bytes), def, last_use, in_place_of: None };
        let plan = MemoryPlan::new(&[sized(1000, 0, 2), sized(10, 1, 2), sized(10, 3, 4), sized(1000, 3, 4)]);
        assert_eq!(plan.slots.len(), 2);
        assert_eq!(plan.slot_of[2], plan.slot_of[1]);
        assert_eq!(plan.slot_of[3], plan.slot_of[0]);
        // in place: a chain a -> b -> c of elementwise steps, each the last
        // reader of its operand, needs one slot, not two
        let over = |def, last_use, of| Interval { bytes: Dim::new(16), def, last_use, in_place_of: Some(of) };
        assert_eq!(MemoryPlan::new(&[iv(0, 1), over(1, 2, 0), over(2, 3, 1)]).slots.len(), 1);
        // ... but not over an operand another step reads later
        let plan = MemoryPlan::new(&[iv(0, 2), over(1, 3, 0), iv(2, 3)]);
        assert_ne!(plan.slot_of[0], plan.slot_of[1]);
        // no two values in a slot are alive at once
        let vals = [iv(0, 5), iv(1, 2), iv(3, 4), iv(4, 6)];
        let plan = MemoryPlan::new(&vals);
        for s in &plan.slots {
            for &a in s {
                for &b in s {
                    if a != b {
                        let (x, y) = (&vals[a], &vals[b]);
                        assert!(x.last_use < y.def || y.last_use < x.def, "values {a} and {b} overlap");
                    }
                }
            }
        }
    }

    #[test]
    fn a_reshape_that_is_not_returned_reads_its_operands_buffer() {
        use kiln_dsl::FunctionBuilder;
        let d = |v: &[i64]| v.iter().map(|&n| Dim::new(n)).collect::<Vec<_>>();
        // f32: x.silu() reshaped, then added to y: two kernels, the add
        // reading silu's value; returned as well, the reshape is a kernel
        let f = FunctionBuilder::new("view");
        let (x, y) = (f.input("x", DType::F32, &d(&[2, 6])), f.input("y", DType::F32, &d(&[3, 4])));
        let viewed = x.silu().reshape(&d(&[3, 4]));
        let func = f.finish(&[&viewed.add(&y)]).unwrap();
        let lowered = lower_function(&func, Buffers::Shared, WholeKernels::default(), |_| Ok(())).unwrap();
        assert_eq!(lowered.steps.len(), 2);
        assert_eq!(lowered.steps[1].args, [Loc::Value(lowered.steps[0].out), Loc::Input(1)]);
        let f = FunctionBuilder::new("returned_view");
        let x = f.input("x", DType::F32, &d(&[2, 6]));
        let func = f.finish(&[&x.silu().reshape(&d(&[3, 4]))]).unwrap();
        assert_eq!(lower_function(&func, Buffers::Shared, WholeKernels::default(), |_| Ok(())).unwrap().steps.len(), 2);
    }
}
