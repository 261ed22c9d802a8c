//! The static memory plan: intermediate values share buffers whose
//! lifetimes do not overlap.
//!
//! Lifetimes are known when the function is compiled (kernels run in a fixed
//! order), so slots are assigned once; only their sizes depend on the
//! symbolic dims and are evaluated per run.

use crate::error::RuntimeError;
use kiln_dsl::{product, Bindings, DType, Dim, Function, GraphError, NodeKind};
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
    /// smallest that holds it, else the largest (which grows least). Sizes
    /// are compared with every symbolic dim at [`PLAN_DIM`]. A slot is never
    /// both read and written by one step; a returned value (`last_use ==
    /// usize::MAX`) gets a slot of its own, since it outlives the call.
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
            let slot = match fitting.or_else(|| free.max_by_key(|&s| slot_size[s])) {
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

/// Walk `func`'s ops in order, compile each stage's naive nest with
/// `compile` (which schedules it for its backend), and plan the buffers of
/// the intermediate values.
pub(crate) fn lower_function<K>(func: &Function, disable_memory_plan: bool, mut compile: impl FnMut(LoopNest) -> Result<K, RuntimeError>) -> Result<Lowered<K>, RuntimeError> {
    func.verify()?;
    let mut steps: Vec<Step<K>> = Vec::new();
    let mut values: Vec<Interval> = Vec::new();
    let mut loc_of: Vec<Option<Loc>> = vec![None; func.nodes.len()];
    let mut input_no = 0;
    for (i, node) in func.nodes.iter().enumerate() {
        let loc = match &node.kind {
            NodeKind::Input(_) => {
                input_no += 1;
                Loc::Input(input_no - 1)
            }
            NodeKind::Param(name) => Loc::Param(name.clone()),
            NodeKind::Op(op) => {
                let in_tys: Vec<_> = node.inputs.iter().map(|x| func.node(*x).ty.clone()).collect();
                let stages = op.compute(&in_tys, &node.ty);
                match stages.last() {
                    None => return Err(GraphError::Invalid { node: i, message: format!("op `{}` defines no stage", op.name()) }.into()),
                    Some(last) if last.shape != node.ty.shape || last.dtype != node.ty.dtype => {
                        let message = format!("op `{}` infers {} but its last stage computes {}{}", op.name(), node.ty, last.dtype, kiln_dsl::shape_str(&last.shape));
                        return Err(GraphError::Invalid { node: i, message }.into());
                    }
                    _ => {}
                }
                let mut args: Vec<Loc> = node.inputs.iter().map(|x| loc_of[x.0 as usize].clone().expect("operands precede users")).collect();
                let mut src_types: Vec<(DType, Vec<Dim>)> = in_tys.iter().map(|t| (t.dtype, t.shape.clone())).collect();
                for stage in &stages {
                    let kernel = compile(LoopNest::from_stage(stage, &src_types)?)?;
                    let step_no = steps.len();
                    for a in &args {
                        if let Loc::Value(v) = a {
                            values[*v].last_use = step_no;
                        }
                    }
                    // quantized values pack whole blocks along a constant last
                    // axis (op inference checks it)
                    let bytes = match stage.shape.split_last() {
                        Some((last, rows)) if stage.dtype.is_quantized() => &product(rows) * &Dim::new(stage.dtype.storage_bytes(last.as_const().unwrap_or(0) as usize) as i64),
                        _ => &product(&stage.shape) * &Dim::new(stage.dtype.block_bytes() as i64),
                    };
                    values.push(Interval { bytes, def: step_no, last_use: step_no });
                    let out = values.len() - 1;
                    steps.push(Step { kernel, args: args.clone(), out, op: op.name() });
                    args.push(Loc::Value(out));
                    src_types.push((stage.dtype, stage.shape.clone()));
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
    let plan = if disable_memory_plan {
        MemoryPlan { slot_of: (0..values.len()).collect(), slots: (0..values.len()).map(|v| vec![v]).collect() }
    } else {
        MemoryPlan::new(&values)
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
    /// Intermediate bytes when every value has its own buffer.
    pub unplanned_bytes: u64,
    /// Bytes of the returned values (each its own buffer either way).
    pub output_bytes: u64,
}

/// The [`MemoryReport`] of `func` with every symbolic dim set to `dims`
/// (kernels are not compiled).
pub fn memory_report(func: &Function, dims: i64) -> Result<MemoryReport, RuntimeError> {
    let lowered = lower_function(func, false, |_| Ok(()))?;
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
    let planned_bytes = lowered.plan.slots.iter().zip(lowered.slot_sizes(&sizes)).filter(|(s, _)| !s.iter().any(|&v| lowered.values[v].returned())).map(|(_, b)| b).sum();
    Ok(MemoryReport { kernels: lowered.steps.len(), planned_bytes, unplanned_bytes: sizes.iter().sum::<u64>() - output_bytes, output_bytes })
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
        let iv = |def, last_use| Interval { bytes: Dim::new(16), def, last_use };
        // a chain a -> b -> c -> d -> e: a and c can share, b and d can
        // share; e is returned and gets a slot of its own
        let plan = MemoryPlan::new(&[iv(0, 1), iv(1, 2), iv(2, 3), iv(3, 4), iv(4, usize::MAX)]);
        assert_eq!(plan.slots.len(), 3);
        assert_eq!(plan.slot_of[0], plan.slot_of[2]);
        assert_eq!(plan.slot_of[1], plan.slot_of[3]);
        assert_ne!(plan.slot_of[0], plan.slot_of[1]);
        assert_eq!(plan.slots[plan.slot_of[4]], [4]);
        // best fit: a small value takes the small free slot, not the big one
        let sized = |bytes, def, last_use| Interval { bytes: Dim::new(bytes), def, last_use };
        let plan = MemoryPlan::new(&[sized(1000, 0, 2), sized(10, 1, 2), sized(10, 3, 4), sized(1000, 3, 4)]);
        assert_eq!(plan.slots.len(), 2);
        assert_eq!(plan.slot_of[2], plan.slot_of[1]);
        assert_eq!(plan.slot_of[3], plan.slot_of[0]);
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
}
