//! Rewrite rules, one function per family: [`algebra`], [`layout`],
//! [`fusion`], [`substitution`]. A rule looks at one e-node and says which terms equal it;
//! the optimizer adds them to the e-node's e-class. Users add their own
//! [`Rule`]s (see `examples/custom_rewrite.rs`).

use crate::graph::{folds, param_leaf, stage_info, Graph, Node};
use egg::{Id, Language};
use kiln_dsl::ops::{inline_stages, Arg, AttentionKernel, AttentionPlan, Fused, Member, OpDef, TensorType};
use kiln_dsl::{Builtin, DType, Elementwise, KernelClass};
use serde::Serialize;
use std::sync::Arc;

/// The family a rule belongs to, reported separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Identities and folding of scalar arithmetic.
    Algebra,
    /// Reshapes and transposes folded together or away.
    Layout,
    /// Ops merged into one op that runs as fewer kernels.
    Fusion,
    /// A pattern of ops replaced by one op that computes the same (attention).
    Substitution,
    /// Rules from outside kiln.
    Custom,
}

/// A term to add: an existing e-class, or an op applied to terms.
#[derive(Clone, Debug)]
pub enum Term {
    /// An e-class of the graph.
    Class(Id),
    /// An op over terms.
    Op(Arc<dyn OpDef>, Vec<Term>),
}

impl Term {
    /// `op` applied to e-classes.
    pub fn op(op: impl OpDef + 'static, args: &[Id]) -> Term {
        Term::Op(Arc::new(op), args.iter().map(|&a| Term::Class(a)).collect())
    }

    /// The term's type, if every op in it accepts its operands.
    pub fn ty(&self, g: &Graph) -> Option<TensorType> {
        match self {
            Term::Class(id) => g[*id].data.clone(),
            Term::Op(op, args) => {
                let ins: Option<Vec<TensorType>> = args.iter().map(|a| a.ty(g)).collect();
                op.infer(&ins?).ok()
            }
        }
    }
}

/// What a rule computes: for e-node `node` of e-class `class`, the terms
/// equal to it (none when the rule does not apply). Terms must have the
/// class's type; the optimizer drops those that do not.
pub type RewriteFn = dyn Fn(&Graph, Id, &Node) -> Vec<Term> + Send + Sync;

/// A named rewrite rule.
#[derive(Clone)]
pub struct Rule {
    /// Name, as reported.
    pub name: String,
    /// Family, as reported.
    pub family: Family,
    /// The rewrite.
    pub rewrite: Arc<RewriteFn>,
}

impl Rule {
    /// A rule from a function.
    pub fn new(name: &str, family: Family, rewrite: impl Fn(&Graph, Id, &Node) -> Vec<Term> + Send + Sync + 'static) -> Rule {
        Rule { name: name.into(), family, rewrite: Arc::new(rewrite) }
    }
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Rule({:?} {})", self.family, self.name)
    }
}

/// The built-in op of an e-node and its operands.
pub fn builtin(node: &Node) -> Option<(&Builtin, &[Id])> {
    match node {
        Node::Op(k, args) => k.op.as_builtin().map(|b| (b, args.as_slice())),
        _ => None,
    }
}

/// The built-in ops in e-class `id`, with their operands.
pub fn builtins_in(g: &Graph, id: Id) -> impl Iterator<Item = (&Builtin, &[Id])> {
    g[id].nodes.iter().filter_map(builtin)
}

/// The tensor type of e-class `id`.
pub fn type_of(g: &Graph, id: Id) -> &TensorType {
    g[id].data.as_ref().expect("op operands are tensors")
}

/// Every built-in rule.
pub fn all() -> Vec<Rule> {
    [algebra(), layout(), fusion(), substitution()].concat()
}

/// Algebraic simplification: identities of scalar arithmetic, and chains of
/// scalar factors or offsets folded into one (reassociation: `(x * a) * b`
/// becomes `x * (a * b)`, which rounds once fewer).
pub fn algebra() -> Vec<Rule> {
    use Elementwise::{Add, Div, Mul, Sub};
    vec![
        Rule::new("scalar-identity", Family::Algebra, |_, _, node| match builtin(node) {
            Some((Builtin::MapScalar(Mul | Div, c), [x])) if *c == 1.0 => vec![Term::Class(*x)],
            Some((Builtin::MapScalar(Add | Sub, c), [x])) if *c == 0.0 => vec![Term::Class(*x)],
            _ => Vec::new(),
        }),
        Rule::new("scalar-chain", Family::Algebra, |g, _, node| {
            let Some((Builtin::MapScalar(outer, b), [inner])) = builtin(node) else { return Vec::new() };
            let mut out = Vec::new();
            for (op, args) in builtins_in(g, *inner) {
                let (Builtin::MapScalar(e, a), [x]) = (op, args) else { continue };
                let folded = match (e, outer) {
                    (Mul, Mul) => Some(Builtin::MapScalar(Mul, a * b)),
                    (Mul, Div) => Some(Builtin::MapScalar(Mul, a / b)),
                    (Add, Add) => Some(Builtin::MapScalar(Add, a + b)),
                    (Add, Sub) => Some(Builtin::MapScalar(Add, a - b)),
                    (Sub, Add) => Some(Builtin::MapScalar(Add, b - a)),
                    _ => None,
                };
                if let Some(f) = folded.filter(|f| matches!(f, Builtin::MapScalar(_, v) if v.is_finite())) {
                    out.push(Term::op(f, &[*x]));
                }
            }
            out
        }),
    ]
}

/// Layout rules: a reshape of a reshape is one reshape, a reshape to the
/// same shape is nothing, transposes compose, and the identity permutation
/// is nothing.
pub fn layout() -> Vec<Rule> {
    vec![
        Rule::new("reshape-reshape", Family::Layout, |g, _, node| {
            let Some((Builtin::Reshape(shape), [inner])) = builtin(node) else { return Vec::new() };
            builtins_in(g, *inner).filter_map(|(op, args)| matches!(op, Builtin::Reshape(_)).then(|| Term::op(Builtin::Reshape(shape.clone()), args))).collect()
        }),
        Rule::new("reshape-identity", Family::Layout, |g, _, node| match builtin(node) {
            Some((Builtin::Reshape(shape), [x])) if type_of(g, *x).shape == *shape => vec![Term::Class(*x)],
            _ => Vec::new(),
        }),
        Rule::new("transpose-transpose", Family::Layout, |g, _, node| {
            let Some((Builtin::Transpose(outer), [inner])) = builtin(node) else { return Vec::new() };
            builtins_in(g, *inner)
                .filter_map(|(op, args)| match op {
                    // output axis i of the outer is its input axis outer[i], which is x's axis inner[outer[i]]
                    Builtin::Transpose(inner) => Some(Term::op(Builtin::Transpose(outer.iter().map(|&o| inner[o]).collect()), args)),
                    _ => None,
                })
                .collect()
        }),
        Rule::new("transpose-identity", Family::Layout, |_, _, node| match builtin(node) {
            Some((Builtin::Transpose(perm), [x])) if perm.iter().enumerate().all(|(i, &p)| i == p) => vec![Term::Class(*x)],
            _ => Vec::new(),
        }),
    ]
}

/// Most members a fused op may have (bounds recomputation and e-graph growth).
pub const MAX_FUSED_MEMBERS: usize = 6;

/// Fusion: an op whose operand is computed by another op becomes one
/// [`Fused`] op, when that removes a kernel (the producer's last stage is
/// elementwise and inlines into the consumer's stages, or the producer sums
/// and the consumer only adds to the sum: a matmul's residual add as its
/// epilogue, `kiln_dsl::ops::absorb_epilogue`). Elementwise maps,
/// reshapes, RoPE, a norm's scaling step and a SwiGLU gate fold into the
/// matmul, norm or attention that reads them. The cost model decides where
/// the recomputation this causes pays.
///
/// A quantize stage is never fused into (backends pack blocks from whole f32
/// rows). A producer that is a function output is computed anyway, so it is not
/// fused; one read by several ops is fused only when it is a single op of a
/// single stage of at most three loads (each reader recomputes it), into a
/// reader whose result is stored (a reduction or matmul, not another map
/// that would carry the recomputation onwards).
///
/// Where parameters fold at load (`Types::fold_params`), projections of one
/// input by weights of one type and width (Q, K and V; gate and up) also
/// merge into one matmul over the weights concatenated by rows, sliced;
/// a slice, a view, may then fuse into every reader.
///
/// An op of several stages whose last is elementwise (RMSNorm: the mean of
/// squares, then the scaling) is also split into one op per stage
/// ([`StageOf`]), so its last step can fuse into each of its readers (the
/// Q, K and V projections) while the reduction runs once. This also keeps the e-graph
/// small: every subset of a consumer's producers is a distinct fused op.
pub fn fusion() -> Vec<Rule> {
    vec![
        Rule::new("inline-producer", Family::Fusion, |g, _, node| {
            let Node::Op(consumer, args) = node else { return Vec::new() };
            let consumer_members = consumer.op.as_fused().map_or(1, |f| f.members.len());
            // a quantize stage reads whole f32 rows where the backend's
            // template packs blocks from them (the CPU's); a GPU's evaluates
            // any expression
            let consumer_info = match stage_info(g, consumer, args) {
                Some(info) if g.analysis.quantize_prologues || !info.stages.iter().any(|s| s.class == KernelClass::Quantize) => info,
                _ => return Vec::new(),
            };
            let mut out = Vec::new();
            for (at, &arg) in args.iter().enumerate() {
                let readers = reader_classes(g, arg);
                if readers.iter().any(|&r| g[r].nodes.iter().any(|n| matches!(n, Node::Outputs(_)))) {
                    continue;
                }
                for producer in &g[arg].nodes {
                    let Node::Op(p, p_args) = producer else { continue };
                    if folds(g, p, p_args) {
                        continue; // computed once at load, not per reader
                    }
                    if consumer_members + p.op.as_fused().map_or(1, |f| f.members.len()) > MAX_FUSED_MEMBERS {
                        continue;
                    }
                    let Some(info) = stage_info(g, p, p_args) else { continue };
                    // a single op of one stage of a few loads (a reshape, a
                    // map, a norm's scaling step), not itself fused: every
                    // reader recomputes it, and a fused one would grow into
                    // chains (the residual stream's adds)
                    let cheap = info.stages.len() == 1 && info.last_loads <= 3 && p.op.as_fused().is_none();
                    // ... and only into a reduction or matmul, whose result is
                    // stored: an elementwise reader would be inlined onwards
                    let boundary = !consumer_info.inlinable;
                    let mut operands: Vec<Id> = args[..at].to_vec();
                    operands.extend_from_slice(p_args);
                    operands.extend_from_slice(&args[at + 1..]);
                    let fused = Fused::compose(&consumer.op, args.len(), at, &p.op, p_args.len());
                    // a sum read only by an add that it absorbs (an epilogue)
                    let epilogue = || {
                        // (cheap checks first: composing computes stages)
                        let sums = info.stages.last().is_some_and(|s| s.reduce.as_ref().is_some_and(|r| r.op == kiln_dsl::ReduceOp::Sum));
                        let adds = matches!(consumer.op.as_builtin(), Some(Builtin::Map(Elementwise::Add | Elementwise::Sub)));
                        if !sums || !adds {
                            return None;
                        }
                        let ins = types(g, &operands);
                        let out = fused.infer(&ins).ok()?;
                        (fused.compute(&ins, &out).len() < info.stages.len() + consumer_info.stages.len()).then_some(())
                    };
                    // a slice of one value (a merged projection's part) is a
                    // view: one load at a shifted index, free to recompute in
                    // every reader, elementwise or not
                    let view = matches!(p.op.as_builtin(), Some(Builtin::Slice { .. }));
                    // the queries of an attention run as one kernel, computed
                    // once per query there (its prologue) rather than stored
                    let prologue = || {
                        if !g.analysis.attention_kernels || at != 0 || readers.len() > 1 || consumer.op.as_attention_kernel().is_none() || info.stages.iter().any(|s| s.reduce.is_some()) {
                            return None;
                        }
                        let ins = types(g, &operands);
                        let out = fused.infer(&ins).ok()?;
                        AttentionPlan::of(&fused, &fused.compute(&ins, &out), ins.len()).map(|_| ())
                    };
                    if prologue().is_none() {
                        if info.inlinable {
                            if readers.len() > 1 && !(cheap && (boundary || view)) {
                                continue;
                            }
                        } else if epilogue().is_none() {
                            // (other readers of the sum are alternatives the
                            // cost model weighs: the sum computed twice costs more)
                            continue;
                        }
                    }
                    if p_args.iter().any(|&a| g.find(a) == g.find(arg) || g[a].nodes.iter().any(|n| n.children().iter().any(|&c| g.find(c) == g.find(arg)))) {
                        // a cycle (`x = transpose(transpose(x))`, so `x` and
                        // `transpose(x)` each compute the other): fusing
                        // around it only grows chains of inverse ops
                        continue;
                    }
                    out.push(Term::op(fused, &operands));
                }
            }
            out
        }),
        Rule::new("split-stages", Family::Fusion, |g, _, node| {
            let Node::Op(op, args) = node else { return Vec::new() };
            if op.op.as_fused().is_some() || op.op.as_any_stage().is_some() {
                return Vec::new();
            }
            let ins = types(g, args);
            let Some(info) = g.analysis.stage_info(op, &ins) else { return Vec::new() };
            if info.stages.len() < 2 || !info.inlinable {
                return Vec::new();
            }
            let mut operands: Vec<Term> = args.iter().map(|&a| Term::Class(a)).collect();
            let mut last = None;
            let stages = Arc::new(info.stages.clone());
            for k in 0..info.stages.len() {
                let stage = Term::Op(Arc::new(StageOf { op: op.op.clone(), inputs: ins.clone(), stage: k, stages: stages.clone() }), operands.clone());
                operands.push(stage.clone());
                last = Some(stage);
            }
            last.into_iter().collect()
        }),
        // an op's own elementwise stages inlined into its later ones (a
        // softmax's exps into its sum and its normalization)
        Rule::new("inline-own-stages", Family::Fusion, |g, _, node| {
            let Node::Op(op, args) = node else { return Vec::new() };
            if op.op.as_fused().is_some() {
                return Vec::new(); // a fused op's stages are inlined already
            }
            let Some(info) = stage_info(g, op, args) else { return Vec::new() };
            let inlined = inline_stages(info.stages.clone(), args.len() as u32);
            if inlined.len() < info.stages.len() {
                vec![Term::op(Fused { members: vec![Member { op: op.op.clone(), args: (0..args.len()).map(Arg::Input).collect() }] }, args)]
            } else {
                Vec::new()
            }
        }),
        // projections of one input by weights of one type and width (Q, K
        // and V; gate and up) as one matmul over the weights concatenated
        // by rows, sliced: the input is read once and one kernel launches.
        // Sound: row n of the concatenation is row n - offset of one
        // weight, so each output column is the same dot product. Only
        // where parameters fold at load (the concatenation is free).
        Rule::new("merge-projections", Family::Fusion, |g, _, node| {
            if !g.analysis.fold_params {
                return Vec::new();
            }
            let Some((Builtin::Matmul { transpose_b: true }, [x, w])) = builtin(node) else { return Vec::new() };
            let (Some(own), wt) = (param_leaf(g, *w), type_of(g, *w)) else { return Vec::new() };
            if wt.rank() != 2 {
                return Vec::new();
            }
            // (leaf, e-class, rows) of each weight projecting x alike
            let mut group: Vec<(u32, Id, kiln_dsl::Dim)> = Vec::new();
            for reader in reader_classes(g, *x) {
                for (op, args) in builtins_in(g, reader) {
                    let (Builtin::Matmul { transpose_b: true }, [x2, w2]) = (op, args) else { continue };
                    let (Some(leaf), t) = (param_leaf(g, *w2), type_of(g, *w2)) else { continue };
                    if g.find(*x2) == g.find(*x) && t.dtype == wt.dtype && t.rank() == 2 && t.shape[1] == wt.shape[1] && !group.iter().any(|(l, ..)| *l == leaf) {
                        group.push((leaf, *w2, t.shape[0].clone()));
                    }
                }
            }
            if group.len() < 2 {
                return Vec::new();
            }
            group.sort_by_key(|(leaf, ..)| *leaf);
            let weights = Term::Op(Arc::new(Builtin::Concat(0)), group.iter().map(|(_, id, _)| Term::Class(*id)).collect());
            let merged = Term::Op(Arc::new(Builtin::Matmul { transpose_b: true }), vec![Term::Class(*x), weights]);
            let axis = type_of(g, *x).rank() - 1;
            let mut start = kiln_dsl::Dim::new(0);
            for (leaf, _, rows) in &group {
                let end = &start + rows;
                if *leaf == own {
                    return vec![Term::Op(Arc::new(Builtin::Slice { axis, start, end }), vec![merged])];
                }
                start = end;
            }
            Vec::new()
        }),
    ]
}

/// Operator substitution: `softmax(scale · q kᵀ) v`, written with batched
/// matmuls over heads (`q: [H, S, D]`, `k, v: [H, T, D]`, all f32; the
/// scale a multiplication, a division or none), is one
/// [`Builtin::Attention`] (unmasked), whose kernels need not store the
/// scores nor the probabilities. It reads `[S, H, D]` operands, so the
/// term transposes around it; the layout rules fold those into the
/// transposes that usually made the heads axis first.
///
/// And an attention op is one [`AttentionKernel`]: the same stages, which
/// a backend able to (the GPU's) runs as one kernel; the fusion rules then
/// fold the queries' RoPE and rounding into it as its prologue
/// ([`AttentionPlan`]).
pub fn substitution() -> Vec<Rule> {
    let heads_first = || Builtin::Transpose(vec![1, 0, 2]);
    vec![
        Rule::new("attention-pattern", Family::Substitution, move |g, _, node| {
            let Some((Builtin::Matmul { transpose_b: false }, [probs, v])) = builtin(node) else { return Vec::new() };
            let f32_3d = |id: Id| type_of(g, id).dtype == DType::F32 && type_of(g, id).rank() == 3;
            if !f32_3d(*v) {
                return Vec::new();
            }
            let mut out = Vec::new();
            for (op, args) in builtins_in(g, *probs) {
                let (Builtin::Softmax, [scaled]) = (op, args) else { continue };
                // (scale, scores) for each way the scores may be scaled
                let mut scalings: Vec<(f64, Id)> = Vec::new();
                for (op, args) in builtins_in(g, *scaled) {
                    match (op, args) {
                        (Builtin::MapScalar(Elementwise::Mul, c), [x]) => scalings.push((*c, *x)),
                        (Builtin::MapScalar(Elementwise::Div, c), [x]) => scalings.push((1.0 / c, *x)),
                        (Builtin::Matmul { transpose_b: true }, _) => scalings.push((1.0, *scaled)),
                        _ => {}
                    }
                }
                for (scale, scores) in scalings {
                    if !(scale > 0.0 && scale.is_finite()) {
                        continue;
                    }
                    for (op, args) in builtins_in(g, scores) {
                        let (Builtin::Matmul { transpose_b: true }, [q, k]) = (op, args) else { continue };
                        if !f32_3d(*q) || !f32_3d(*k) {
                            continue;
                        }
                        let operand = |id: Id| Term::Op(Arc::new(heads_first()), vec![Term::Class(id)]);
                        let attention = Term::Op(Arc::new(Builtin::Attention { scale, causal: false }), vec![operand(*q), operand(*k), operand(*v)]);
                        out.push(Term::Op(Arc::new(heads_first()), vec![attention]));
                    }
                }
            }
            out
        }),
        // an attention op as one kernel (where the backend can; its stages
        // otherwise): the scores and probabilities are never stored
        Rule::new("attention-kernel", Family::Substitution, |_, _, node| match builtin(node) {
            Some((op, args)) => AttentionKernel::of(op).map(|k| Term::op(k, args)).into_iter().collect(),
            None => Vec::new(),
        }),
    ]
}

fn types(g: &Graph, ids: &[Id]) -> Vec<TensorType> {
    ids.iter().map(|&i| type_of(g, i).clone()).collect()
}

/// The distinct e-classes with an e-node reading `id`.
pub fn reader_classes(g: &Graph, id: Id) -> Vec<Id> {
    let mut r: Vec<Id> = g[id].parents().map(|p| g.find(p)).collect();
    r.sort();
    r.dedup();
    r
}

/// Stage `stage` of `op` (applied to `inputs`) as an op of its own: its
/// operands are `op`'s followed by the results of the stages before it,
/// which is what the stage reads. The same arithmetic as `op`, split so
/// that stages can fuse separately.
#[derive(Clone, Debug)]
pub struct StageOf {
    /// The op split.
    pub op: Arc<dyn OpDef>,
    /// Its operand types.
    pub inputs: Vec<TensorType>,
    /// Which stage.
    pub stage: usize,
    /// `op`'s stages for `inputs`, computed once: `infer` runs on every call
    /// of a compiled function (shape binding), and recomputing an
    /// attention's stages there cost a SmolLM2 prefill on the H100 more CPU
    /// time than its kernels took.
    pub stages: Arc<Vec<kiln_dsl::Stage>>,
}

impl OpDef for StageOf {
    fn name(&self) -> String {
        let stage = self.stages.get(self.stage).map(|s| s.name.clone()).unwrap_or_default();
        format!("{}[{stage}]", self.op.name())
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, String> {
        let stages = &self.stages;
        let n = self.inputs.len();
        if inputs.len() != n + self.stage || inputs[..n] != self.inputs[..] {
            return Err(format!("stage {} of {} reads {} operands of the op's types and the earlier stages", self.stage, self.op.name(), n + self.stage));
        }
        for (t, s) in inputs[n..].iter().zip(stages.iter()) {
            if t.dtype != s.dtype || t.shape != s.shape {
                return Err(format!("operand {t} is not stage `{}`'s {}", s.name, TensorType::new(s.dtype, s.shape.clone())));
            }
        }
        let s = stages.get(self.stage).ok_or_else(|| format!("{} has no stage {}", self.op.name(), self.stage))?;
        Ok(TensorType::new(s.dtype, s.shape.clone()))
    }

    fn compute(&self, _inputs: &[TensorType], _output: &TensorType) -> Vec<kiln_dsl::Stage> {
        self.stages.get(self.stage).cloned().into_iter().collect()
    }

    fn constraints(&self, _inputs: &[TensorType]) -> Vec<(kiln_dsl::Dim, kiln_dsl::Dim, String)> {
        if self.stage == 0 {
            self.op.constraints(&self.inputs)
        } else {
            Vec::new()
        }
    }

    fn as_any_stage(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
