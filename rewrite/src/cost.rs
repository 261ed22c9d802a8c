//! The cost model extraction minimises: kernels launched, bytes moved and
//! arithmetic done, in estimated seconds on a kind of device.

use crate::graph::{Graph, Node};
use egg::{CostFunction, Id, Language, RecExpr};
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
        let value = |s: &str| *self.hints.get(s).unwrap_or(&Self::DEFAULT_DIM) as f64;
        d.terms().map(|(mono, c)| mono.iter().fold(c as f64, |v, s| v * value(s))).sum()
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

/// The program extracted from `g` at `root`: the greedy choice of
/// [`SharedCost`] per e-class, then improved by local search on the true
/// cost of the program as a DAG (every chosen e-node counted once): each
/// reachable e-class tries its other e-nodes, keeping a change that lowers
/// that cost, for a few rounds. Greedy extraction alone sees a value every
/// reader needs (a residual stream) as shared only approximately: it kept
/// a matmul twice, once with its residual add absorbed and once without
/// for a norm that recomputed the add.
pub(crate) fn extract(model: &CostModel, g: &Graph, root: Id) -> RecExpr<Node> {
    let root = g.find(root);
    // per e-class (by index): its e-nodes' own costs and children, the choice
    let mut cost = SharedCost::new(model, g);
    let n = g.classes().map(|c| usize::from(c.id)).max().map_or(0, |m| m + 1);
    let mut own: Vec<Vec<f64>> = vec![Vec::new(); n];
    let mut kids: Vec<Vec<Vec<usize>>> = vec![Vec::new(); n];
    for c in g.classes() {
        let i = usize::from(c.id);
        own[i] = c.nodes.iter().map(|node| cost.own(node)).collect();
        kids[i] = c.nodes.iter().map(|node| node.children().iter().map(|&k| usize::from(g.find(k))).collect()).collect();
    }
    // (the own costs are kept in `cost`, which the greedy pass reuses)
    let extractor = egg::Extractor::new(g, cost);
    let mut choice: Vec<usize> = vec![0; n];
    for c in g.classes() {
        let i = usize::from(c.id);
        let best = extractor.find_best_node(c.id);
        choice[i] = c.nodes.iter().position(|node| node == best).expect("the best e-node is the class's");
    }
    let r = usize::from(root);
    let mut best = dag_cost(&own, &kids, &choice, r).expect("greedy extraction is acyclic");
    for _ in 0..3 {
        let mut improved = false;
        for class in reachable(&kids, &choice, r) {
            for alt in 0..own[class].len() {
                let old = std::mem::replace(&mut choice[class], alt);
                if old == alt {
                    continue;
                }
                match dag_cost(&own, &kids, &choice, r) {
                    Some(c) if c < best * (1.0 - 1e-9) => {
                        best = c;
                        improved = true;
                    }
                    _ => choice[class] = old,
                }
            }
        }
        if !improved {
            break;
        }
    }
    let mut out = RecExpr::default();
    let mut built: HashMap<usize, Id> = HashMap::new();
    build(g, &choice, r, &mut out, &mut built);
    out
}

fn build(g: &Graph, choice: &[usize], class: usize, out: &mut RecExpr<Node>, built: &mut HashMap<usize, Id>) -> Id {
    if let Some(&id) = built.get(&class) {
        return id;
    }
    let node = g[Id::from(class)].nodes[choice[class]].clone().map_children(|c| build(g, choice, usize::from(g.find(c)), out, built));
    let id = out.add(node);
    built.insert(class, id);
    id
}

/// The e-classes the chosen e-nodes reach from `root`.
fn reachable(kids: &[Vec<Vec<usize>>], choice: &[usize], root: usize) -> Vec<usize> {
    let mut seen = vec![false; kids.len()];
    let mut stack = vec![root];
    let mut order = Vec::new();
    while let Some(c) = stack.pop() {
        if !std::mem::replace(&mut seen[c], true) {
            order.push(c);
            stack.extend(&kids[c][choice[c]]);
        }
    }
    order
}

/// The summed own cost of the chosen e-nodes reachable from `root`, each
/// once; None if the choice has a cycle.
fn dag_cost(own: &[Vec<f64>], kids: &[Vec<Vec<usize>>], choice: &[usize], root: usize) -> Option<f64> {
    // 0: unvisited, 1: on the path, 2: done
    let mut state = vec![0u8; kids.len()];
    let mut total = 0.0;
    let mut stack = vec![(root, false)];
    while let Some((c, leaving)) = stack.pop() {
        if leaving {
            state[c] = 2;
            continue;
        }
        match state[c] {
            2 => continue,
            1 => return None,
            _ => {}
        }
        state[c] = 1;
        total += own[c][choice[c]];
        stack.push((c, true));
        for &k in &kids[c][choice[c]] {
            match state[k] {
                1 => return None,
                2 => {}
                _ => stack.push((k, false)),
            }
        }
    }
    Some(total)
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
                let info = crate::graph::stage_info(self.graph, k, args).expect("e-nodes are well typed");
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
