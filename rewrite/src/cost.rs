//! The cost model extraction minimises: kernels launched, bytes moved and
//! arithmetic done, in estimated seconds on a kind of device.

use crate::graph::{Graph, Node};
use egg::{CostFunction, Id, Language, RecExpr};
use kiln_dsl::ops::{AttentionPlan, OpDef, RowReduced, TensorType};
use kiln_dsl::{Bindings, DType, Dim, Expr, Function, NodeKind, Stage};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

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
    /// The backend runs an [`kiln_dsl::ops::AttentionKernel`]'s stages as
    /// one kernel ([`AttentionPlan`]): the GPU's.
    pub attention_kernels: bool,
    /// The backend's quantize kernels evaluate any elementwise expression
    /// of their operands (the GPU's), so a norm's scaling, a reshape or the
    /// MLP's product may fuse into the quantization that reads it; the
    /// CPU's quantize template reads stored f32 rows.
    pub quantize_prologues: bool,
    /// The backend's GEMVs of a few rows of 8-bit (Q8_0) activations add a
    /// matmul's epilogue (its residual add, [`kiln_dsl::ops::matmul_t_operands`])
    /// once per output after the sum (the GPU's integer-dot kernel), so the
    /// epilogue costs its operations per output, not per multiply-add.
    pub int_dot_epilogues: bool,
    /// With `attention_kernels`, an attention of a few queries (decode)
    /// splits each query's keys over workgroups: three kernels
    /// ([`AttentionPlan::kernels`]).
    pub split_attention: bool,
    /// The backend's quantize and f32 kernels compute a reduction over
    /// each of their rows that they read (an RMSNorm's mean of squares)
    /// themselves, each workgroup its row's ([`RowReduced`]): the two
    /// stages are one kernel (the GPU's).
    pub row_reductions: bool,
}

impl CostModel {
    /// The value assumed for a symbolic dim without a hint.
    pub const DEFAULT_DIM: i64 = 256;

    /// A discrete GPU (figures of the H100 runs in `benches/RESULTS.md`:
    /// ~7 µs per kernel, ~1 TB/s for kiln's kernels, f32 arithmetic cheap).
    pub fn gpu() -> CostModel {
        CostModel { launch_s: 7e-6, byte_s: 1.0 / 1e12, op_s: 1.0 / 2e12, hints: Bindings::new(), attention_kernels: true, quantize_prologues: true, int_dot_epilogues: true, split_attention: true, row_reductions: true }
    }

    /// The CPU backend on a few cores (~2 µs per kernel with its thread
    /// hand-off, ~20 GB/s, a few GFLOP/s of scalar-equivalent work).
    pub fn cpu() -> CostModel {
        CostModel { launch_s: 2e-6, byte_s: 1.0 / 20e9, op_s: 1.0 / 8e9, hints: Bindings::new(), attention_kernels: false, quantize_prologues: false, int_dot_epilogues: false, split_attention: false, row_reductions: false }
    }

    fn eval(&self, d: &Dim) -> f64 {
        let value = |s: &str| *self.hints.get(s).unwrap_or(&Self::DEFAULT_DIM) as f64;
        d.terms().map(|(mono, c)| mono.iter().fold(c as f64, |v, s| v * value(s))).sum()
    }

    fn bytes(&self, dtype: DType, shape: &[Dim]) -> f64 {
        let n: f64 = shape.iter().map(|d| self.eval(d)).product();
        n * dtype.storage_bytes(256) as f64 / 256.0
    }

    /// Kernels of `op` and its estimated seconds: per kernel a launch, per
    /// stage the bytes of its output and of each source it reads, and its
    /// body's operations at every point of its iteration space.
    /// A reshape the backends read in place ([`kiln_dsl::ops::is_view`])
    /// costs nothing.
    pub fn op_cost(&self, op: &dyn OpDef, inputs: &[TensorType], output: &TensorType) -> (usize, f64) {
        let stages = op.compute(inputs, output);
        let kernels = self.kernels(op, &stages, inputs.len());
        (kernels, self.stages_cost(op, &stages, inputs))
    }

    /// Kernels `op`'s `stages` (reading `n_inputs` inputs) run as: one per
    /// stage, or one (three splitting the keys) for an attention the
    /// backend runs whole, or one for a stage computing its rows'
    /// reduction, or none for a reshape read in place.
    pub fn kernels(&self, op: &dyn OpDef, stages: &[Stage], n_inputs: usize) -> usize {
        if is_view(op, stages) {
            return 0;
        }
        match AttentionPlan::of(op, stages, n_inputs).filter(|_| self.attention_kernels) {
            Some(plan) => plan.kernels(self.split_attention),
            None if self.row_reductions && RowReduced::of(stages, n_inputs).is_some() => 1,
            None => stages.len(),
        }
    }

    /// Estimated seconds of `op`'s `stages` reading `inputs` (see
    /// [`CostModel::op_cost`]; the values an attention kernel keeps to
    /// itself are counted as if stored).
    pub fn stages_cost(&self, op: &dyn OpDef, stages: &[Stage], inputs: &[TensorType]) -> f64 {
        if is_view(op, stages) {
            return 0.0;
        }
        if self.attention_kernels {
            if let Some(plan) = AttentionPlan::of(op, stages, inputs.len()) {
                return self.attention_seconds(&plan, inputs);
            }
        }
        // (one kernel per stage but a row-reduced quantization's: an
        // attention kernel returned above)
        let mut sources: Vec<(DType, Vec<Dim>)> = inputs.iter().map(|t| (t.dtype, t.shape.clone())).collect();
        let mut seconds = self.kernels(op, stages, inputs.len()) as f64 * self.launch_s;
        for s in stages {
            seconds += self.stage_seconds(s, &sources);
            sources.push((s.dtype, s.shape.clone()));
        }
        seconds
    }

    /// An attention run as one kernel: a launch, its inputs read (the
    /// queries' prologue computed once per query element, not per key)
    /// and its output written, and a multiply-add per key and dim twice
    /// (scores) and once (values).
    fn attention_seconds(&self, plan: &AttentionPlan, inputs: &[TensorType]) -> f64 {
        let a = &plan.attention;
        let bytes: f64 = inputs.iter().map(|t| self.bytes(t.dtype, &t.shape)).sum::<f64>() + self.bytes(DType::F32, &a.out_shape);
        let points = [&a.heads, &a.queries, &a.keys, &a.head_dim].iter().map(|d| self.eval(d)).product::<f64>();
        plan.kernels(self.split_attention) as f64 * self.launch_s + bytes * self.byte_s + 3.0 * points * self.op_s
    }

    fn stage_seconds(&self, s: &Stage, sources: &[(DType, Vec<Dim>)]) -> f64 {
        let mut read = HashSet::new();
        let mut count = |e: &Expr| {
            let mut ops = 0usize;
            e.visit(&mut |e| match e {
                Expr::Load { src, .. } | Expr::LoadByte { src, .. } | Expr::LoadHalf { src, .. } => {
                    read.insert(*src);
                    ops += 1;
                }
                Expr::Unary(..) | Expr::Binary(..) | Expr::Select(..) | Expr::MulAdd(..) | Expr::Cast(..) => ops += 1,
                _ => {}
            });
            ops as f64
        };
        let points: f64 = s.axis_extents().iter().map(|d| self.eval(d)).product();
        let outputs: f64 = s.shape.iter().map(|d| self.eval(d)).product();
        // an epilogue the integer-dot GEMV adds once per output: a sum of
        // x · w over few rows of Q8_0 activations x
        let sums = s.reduce.as_ref().is_some_and(|r| r.op == kiln_dsl::ReduceOp::Sum);
        let once = match kiln_dsl::ops::matmul_t_operands(&s.body) {
            Some((x, _, Some((_, rest)))) if sums && self.int_dot_epilogues && few_q8_0_rows(sources.get(x as usize)) => Some(rest),
            _ => None,
        };
        // (such a body is `product op select(first step, rest, 0)`)
        let arithmetic = match (once, &s.body) {
            (Some(rest), Expr::Binary(_, summand, _)) => points * count(summand) + outputs * (count(rest) + 1.0),
            _ => points * count(&s.body),
        };
        let bytes: f64 = self.bytes(s.dtype, &s.shape) + read.iter().filter_map(|&i| sources.get(i as usize)).map(|(d, shape)| self.bytes(*d, shape)).sum::<f64>();
        bytes * self.byte_s + arithmetic * self.op_s
    }

    /// Kernels and estimated seconds of a whole function.
    pub fn function_cost(&self, func: &Function) -> (usize, f64) {
        let mut total = (0, 0.0);
        for n in &func.nodes {
            if let NodeKind::Op(op) = &n.kind {
                // (ops of parameters alone are kernels until folded; see
                // Optimizer::fold_params)
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
/// cost of the program as a DAG (every chosen e-node counted once), for two
/// rounds: each reachable e-class tries its other e-nodes, and each value
/// no chosen e-node reads yet is tried with all its possible readers
/// switched to it at once; a change that lowers the cost is kept. Greedy
/// extraction alone sees a value every
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
    let mut search = Search::new(own, kids, choice, usize::from(root));
    for _ in 0..2 {
        let single = search.single_moves();
        let group = search.adoptions();
        if !(single || group) {
            break;
        }
    }
    let (r, choice) = (search.root, search.choice);
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


/// The local search of [`extract`] over a choice of one e-node per e-class
/// (by index): per e-class its e-nodes' own costs and operand e-classes.
struct Search {
    own: Vec<Vec<f64>>,
    kids: Vec<Vec<Vec<usize>>>,
    choice: Vec<usize>,
    root: usize,
    /// The chosen program's cost.
    best: f64,
    /// Per e-class, edges from chosen e-nodes of reachable e-classes into
    /// it (the root counts one): reachable exactly when positive.
    refs: Vec<u32>,
    /// Per reachable e-class its place in a post-order of the chosen
    /// program (operands before readers); `usize::MAX` if unreachable.
    topo: Vec<usize>,
    /// Per e-class, the last [`Search::delta`] that made it reachable.
    reached: Vec<u64>,
    stamp: u64,
    dag: DagCost,
}

impl Search {
    fn new(own: Vec<Vec<f64>>, kids: Vec<Vec<Vec<usize>>>, choice: Vec<usize>, root: usize) -> Search {
        let n = kids.len();
        let mut s = Search { own, kids, choice, root, best: 0.0, refs: vec![0; n], topo: vec![usize::MAX; n], reached: vec![0; n], stamp: 0, dag: DagCost::new(n) };
        s.recount();
        s
    }

    /// Recompute the cost, the reference counts and the post-order of the
    /// current choice.
    fn recount(&mut self) {
        self.best = self.dag.eval(&self.own, &self.kids, &self.choice, self.root, f64::INFINITY).expect("extraction keeps the program acyclic");
        self.refs.iter_mut().for_each(|r| *r = 0);
        self.topo.iter_mut().for_each(|t| *t = usize::MAX);
        self.refs[self.root] = 1;
        let mut next = 0;
        let mut stack = vec![(self.root, false)];
        while let Some((c, leaving)) = stack.pop() {
            if leaving {
                self.topo[c] = next;
                next += 1;
                continue;
            }
            stack.push((c, true));
            for &k in &self.kids[c][self.choice[c]] {
                self.refs[k] += 1;
                if self.refs[k] == 1 {
                    stack.push((k, false));
                }
            }
        }
    }

    /// The cost change of choosing e-node `alt` of reachable e-class `c`,
    /// from the reference counts: what becomes reachable under `alt` is
    /// added, what becomes unreachable under the old e-node is removed; the
    /// counts are kept so (`commit`) or restored. None, counts restored,
    /// when `alt` might close a cycle: it reaches an e-class that was
    /// reachable before and is not known to come before `c` in the
    /// post-order (only those can reach `c`).
    fn delta(&mut self, c: usize, alt: usize, commit: bool) -> Option<f64> {
        if self.topo[c] == usize::MAX {
            return None; // reachable since the last post-order: unknown
        }
        let old = self.choice[c];
        self.stamp += 1;
        let mut undo: Vec<(usize, u32)> = Vec::new();
        let (mut added, mut removed, mut cycle) = (0.0, 0.0, false);
        let mut stack: Vec<usize> = self.kids[c][alt].clone();
        while let Some(k) = stack.pop() {
            let reachable_before = self.refs[k] > 0 && self.reached[k] != self.stamp;
            if k == c || (reachable_before && (self.topo[k] == usize::MAX || self.topo[k] > self.topo[c])) {
                cycle = true;
                break;
            }
            undo.push((k, self.refs[k]));
            self.refs[k] += 1;
            if self.refs[k] == 1 {
                self.reached[k] = self.stamp;
                added += self.own[k][self.choice[k]];
                stack.extend(&self.kids[k][self.choice[k]]);
            }
        }
        if !cycle {
            let mut stack: Vec<usize> = self.kids[c][old].clone();
            while let Some(k) = stack.pop() {
                undo.push((k, self.refs[k]));
                self.refs[k] -= 1;
                if self.refs[k] == 0 {
                    removed += self.own[k][self.choice[k]];
                    stack.extend(&self.kids[k][self.choice[k]]);
                }
            }
        }
        if cycle || !commit {
            for (k, r) in undo.into_iter().rev() {
                self.refs[k] = r;
            }
        }
        (!cycle).then(|| self.own[c][alt] - self.own[c][old] + added - removed)
    }

    /// Each reachable e-class tries its other e-nodes; a change that lowers
    /// the cost is kept. Whether one was.
    fn single_moves(&mut self) -> bool {
        let mut improved = false;
        let live: Vec<usize> = (0..self.kids.len()).filter(|&c| self.refs[c] > 0).collect();
        for c in live {
            for alt in 0..self.own[c].len() {
                if alt == self.choice[c] || self.refs[c] == 0 {
                    continue;
                }
                match self.delta(c, alt, false) {
                    Some(d) if d < -1e-9 * self.best => {
                        self.delta(c, alt, true);
                        self.choice[c] = alt;
                        self.best += d;
                        improved = true;
                    }
                    Some(_) => {}
                    None => {
                        // might close a cycle: the whole program decides
                        let old = std::mem::replace(&mut self.choice[c], alt);
                        match self.dag.eval(&self.own, &self.kids, &self.choice, self.root, self.best) {
                            Some(cost) if cost < self.best * (1.0 - 1e-9) => {
                                self.recount();
                                improved = true;
                            }
                            _ => self.choice[c] = old,
                        }
                    }
                }
            }
        }
        self.recount();
        improved
    }

    /// Adopting a value no chosen e-node reads yet pays only when several
    /// readers switch to it at once (a merged projection replaces three):
    /// for each such e-class, every reachable e-class that can read it
    /// takes its cheapest e-node that does. Whether that lowered the cost.
    fn adoptions(&mut self) -> bool {
        // unreachable e-class -> (reachable reader, its cheapest e-node reading it)
        let mut readers: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
        for c in (0..self.kids.len()).filter(|&c| self.refs[c] > 0) {
            for (j, ks) in self.kids[c].iter().enumerate() {
                for &k in ks.iter().filter(|&&k| self.refs[k] == 0) {
                    let v = readers.entry(k).or_default();
                    match v.last_mut() {
                        Some((last, cheapest)) if *last == c => {
                            if self.own[c][j] < self.own[c][*cheapest] {
                                *cheapest = j;
                            }
                        }
                        _ => v.push((c, j)),
                    }
                }
            }
        }
        let mut improved = false;
        for switches in readers.into_values().filter(|v| v.len() >= 2) {
            let old: Vec<usize> = switches.iter().map(|&(c, j)| std::mem::replace(&mut self.choice[c], j)).collect();
            match self.dag.eval(&self.own, &self.kids, &self.choice, self.root, self.best) {
                Some(cost) if cost < self.best * (1.0 - 1e-9) => {
                    self.recount();
                    improved = true;
                }
                _ => switches.iter().zip(old).for_each(|(&(c, _), o)| self.choice[c] = o),
            }
        }
        improved
    }
}

/// The summed own cost of the chosen e-nodes reachable from a root, each
/// once, with its scratch space kept between calls.
struct DagCost {
    /// Per e-class: `stamp` while on the path, `stamp + 1` when done,
    /// less when not yet visited in this call.
    mark: Vec<u64>,
    stamp: u64,
    stack: Vec<(usize, bool)>,
}

impl DagCost {
    fn new(classes: usize) -> DagCost {
        DagCost { mark: vec![0; classes], stamp: 0, stack: Vec::new() }
    }

    /// The cost of `choice` from `root`; None if the choice has a cycle or
    /// costs more than `bound` (the search stops there: costs only add).
    fn eval(&mut self, own: &[Vec<f64>], kids: &[Vec<Vec<usize>>], choice: &[usize], root: usize, bound: f64) -> Option<f64> {
        self.stamp += 2;
        let (on_path, done) = (self.stamp, self.stamp + 1);
        let mut total = 0.0;
        self.stack.clear();
        self.stack.push((root, false));
        while let Some((c, leaving)) = self.stack.pop() {
            if leaving {
                self.mark[c] = done;
                continue;
            }
            if self.mark[c] == done {
                continue;
            }
            if self.mark[c] == on_path {
                return None;
            }
            self.mark[c] = on_path;
            total += own[c][choice[c]];
            if total > bound {
                return None;
            }
            self.stack.push((c, true));
            for &k in &kids[c][choice[c]] {
                if self.mark[k] == on_path {
                    return None;
                }
                if self.mark[k] != done {
                    self.stack.push((k, false));
                }
            }
        }
        Some(total)
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
            // computed once, when the parameters are loaded
            Node::Op(k, args) if crate::graph::folds(self.graph, k, args) => 0.0,
            Node::Op(k, args) => {
                let ins: Vec<TensorType> = args.iter().map(|a| self.graph[*a].data.clone().expect("operands are tensors")).collect();
                let info = crate::graph::stage_info(self.graph, k, args).expect("e-nodes are well typed");
                self.model.stages_cost(k.op.as_ref(), &info.stages, &ins)
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

/// Whether `op`, whose last stage is its result, is a reshape the
/// backends read in place ([`kiln_dsl::ops::is_view`]): no kernel, no cost.
fn is_view(op: &dyn OpDef, stages: &[Stage]) -> bool {
    stages.last().is_some_and(|s| kiln_dsl::ops::is_view(op, &TensorType::new(s.dtype, s.shape.clone())))
}

/// Whether `x` is rows of Q8_0 activations, at most
/// [`kiln_dsl::ops::INT_DOT_ROWS`] of them (a GEMV the GPU's integer-dot
/// kernel takes, with its epilogue after the sum).
fn few_q8_0_rows(x: Option<&(DType, Vec<Dim>)>) -> bool {
    matches!(x, Some((DType::Q8_0, shape)) if shape.len() == 2 && shape[0].as_const().is_some_and(|m| (1..=kiln_dsl::ops::INT_DOT_ROWS).contains(&m)))
}
