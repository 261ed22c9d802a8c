//! The cost model extraction minimises: kernels launched, bytes moved and
//! arithmetic done, in estimated seconds on a kind of device.

use crate::graph::{Graph, Node};
use egg::{CostFunction, Id, Language};
use kiln_dsl::ops::{OpDef, TensorType};
use kiln_dsl::{Bindings, DType, Dim, Expr, Function, NodeKind, Stage};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// Estimated seconds per kernel, byte and operation on one kind of device.
#[derive(Clone, Debug, Serialize)]
pub struct CostModel {
    /// Seconds per kernel launched (dispatch and the barrier after it).
    pub launch_s: f64,
    /// Seconds per byte read or written.
    pub byte_s: f64,
    /// Seconds per scalar operation of a stage body, per point.
    pub op_s: f64,
    /// Values assumed for symbolic dims; others are taken as
    /// [`CostModel::DEFAULT_DIM`].
    pub hints: Bindings,
}

impl CostModel {
    /// The value assumed for a symbolic dim without a hint.
    pub const DEFAULT_DIM: i64 = 256;

    /// A discrete GPU (figures of the H100 runs in `benches/RESULTS.md`:
    /// ~7 µs per kernel, ~1 TB/s for kiln's kernels, f32 arithmetic cheap).
    pub fn gpu() -> CostModel {
        CostModel { launch_s: 7e-6, byte_s: 1.0 / 1e12, op_s: 1.0 / 2e12, hints: Bindings::new() }
    }

    /// The CPU backend on a few cores (~2 µs per kernel with its thread
    /// hand-off, ~20 GB/s, a few GFLOP/s of scalar-equivalent work).
    pub fn cpu() -> CostModel {
        CostModel { launch_s: 2e-6, byte_s: 1.0 / 20e9, op_s: 1.0 / 8e9, hints: Bindings::new() }
    }

    fn eval(&self, d: &Dim) -> f64 {
        let mut b = self.hints.clone();
        for s in d.symbols() {
            b.entry(s.to_string()).or_insert(Self::DEFAULT_DIM);
        }
        d.eval(&b).unwrap_or(Self::DEFAULT_DIM) as f64
    }

    fn bytes(&self, dtype: DType, shape: &[Dim]) -> f64 {
        let n: f64 = shape.iter().map(|d| self.eval(d)).product();
        n * dtype.storage_bytes(256) as f64 / 256.0
    }

    /// Kernels of `op` and its estimated seconds: per stage a launch, the
    /// bytes of its output and of each source it reads, and its body's
    /// operations at every point of its iteration space.
    pub fn op_cost(&self, op: &dyn OpDef, inputs: &[TensorType], output: &TensorType) -> (usize, f64) {
        let stages = op.compute(inputs, output);
        (stages.len(), self.stages_cost(&stages, inputs))
    }

    /// Estimated seconds of `stages` reading `inputs` (see [`CostModel::op_cost`]).
    pub fn stages_cost(&self, stages: &[Stage], inputs: &[TensorType]) -> f64 {
        let mut sources: Vec<(DType, Vec<Dim>)> = inputs.iter().map(|t| (t.dtype, t.shape.clone())).collect();
        let mut seconds = 0.0;
        for s in stages {
            seconds += self.launch_s + self.stage_seconds(s, &sources);
            sources.push((s.dtype, s.shape.clone()));
        }
        seconds
    }

    fn stage_seconds(&self, s: &Stage, sources: &[(DType, Vec<Dim>)]) -> f64 {
        let mut read = HashSet::new();
        let mut ops = 0usize;
        s.body.visit(&mut |e| match e {
            Expr::Load { src, .. } | Expr::LoadByte { src, .. } | Expr::LoadHalf { src, .. } => {
                read.insert(*src);
                ops += 1;
            }
            Expr::Unary(..) | Expr::Binary(..) | Expr::Select(..) | Expr::MulAdd(..) | Expr::Cast(..) => ops += 1,
            _ => {}
        });
        let points: f64 = s.axis_extents().iter().map(|d| self.eval(d)).product();
        let bytes: f64 = self.bytes(s.dtype, &s.shape) + read.iter().filter_map(|&i| sources.get(i as usize)).map(|(d, shape)| self.bytes(*d, shape)).sum::<f64>();
        bytes * self.byte_s + points * ops as f64 * self.op_s
    }

    /// Kernels and estimated seconds of a whole function.
    pub fn function_cost(&self, func: &Function) -> (usize, f64) {
        let mut total = (0, 0.0);
        for n in &func.nodes {
            if let NodeKind::Op(op) = &n.kind {
                let ins: Vec<TensorType> = n.inputs.iter().map(|i| func.node(*i).ty.clone()).collect();
                let (k, s) = self.op_cost(op.as_ref(), &ins, &n.ty);
                total = (total.0 + k, total.1 + s);
            }
        }
        total
    }
}

/// Extraction's cost: an e-node's own seconds plus its operands', each
/// operand's shared among the e-classes that read it (a tree cost would
/// count a value read by many ops once per reader, and grow exponentially
/// along a residual stream), but at least its costliest operand's.
pub(crate) struct SharedCost<'a> {
    model: &'a CostModel,
    graph: &'a Graph,
    readers: HashMap<Id, usize>,
    own: HashMap<Node, f64>,
}

impl<'a> SharedCost<'a> {
    pub(crate) fn new(model: &'a CostModel, graph: &'a Graph) -> SharedCost<'a> {
        let mut readers: HashMap<Id, HashSet<Id>> = HashMap::new();
        for class in graph.classes() {
            for node in &class.nodes {
                for &c in node.children() {
                    readers.entry(graph.find(c)).or_default().insert(class.id);
                }
            }
        }
        SharedCost { model, graph, readers: readers.into_iter().map(|(k, v)| (k, v.len())).collect(), own: HashMap::new() }
    }

    fn own(&mut self, node: &Node) -> f64 {
        if let Some(&c) = self.own.get(node) {
            return c;
        }
        let c = match node {
            Node::Op(k, args) => {
                let ins: Vec<TensorType> = args.iter().map(|a| self.graph[*a].data.clone().expect("operands are tensors")).collect();
                let info = self.graph.analysis.stage_info(k, &ins).expect("e-nodes are well typed");
                self.model.stages_cost(&info.stages, &ins)
            }
            Node::Leaf(_) | Node::Outputs(_) => 0.0,
        };
        self.own.insert(node.clone(), c);
        c
    }
}

impl CostFunction<Node> for SharedCost<'_> {
    type Cost = f64;

    fn cost<C>(&mut self, enode: &Node, mut costs: C) -> f64
    where
        C: FnMut(Id) -> f64,
    {
        let own = self.own(enode);
        let readers = &self.readers;
        let graph = self.graph;
        let (mut shared, mut most) = (0.0f64, 0.0f64);
        for &c in enode.children() {
            let cost = costs(c);
            shared += cost / *readers.get(&graph.find(c)).unwrap_or(&1).max(&1) as f64;
            most = most.max(cost);
        }
        // never below an operand's cost: an e-node cheaper than its own
        // operand would let extraction pick a cycle (`x = reshape(x)`)
        own + shared.max(most)
    }
}
