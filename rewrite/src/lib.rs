//! kiln's graph optimizer.
//!
//! Owns the rewriting of a [`Function`] before it is scheduled: the graph as
//! an e-graph ([`egg`]; [`graph`]), rewrite rules in families ([`rules`]:
//! algebra, layout, fusion, substitution; users add their own [`Rule`] or a
//! whole [`Pass`]), saturation under limits, and extraction of the program
//! that the [`CostModel`] (kernels, bytes, arithmetic) finds cheapest,
//! counting each shared value once, with a [`Report`] of what happened.
//!
//! In: a verified [`Function`]. Out: an equivalent [`Function`] (same inputs
//! in the same order, same outputs), usually of fewer ops, many of them
//! [`kiln_dsl::ops::Fused`] groups that run as fewer kernels.
//!
//! ```
//! use kiln_dsl::{DType, FunctionBuilder};
//! use kiln_rewrite::{CostModel, Optimizer};
//! let f = FunctionBuilder::new("mlp");
//! let x = f.input("x", DType::F32, &[1.into(), 64.into()]);
//! let g = f.input("gate", DType::F32, &[32.into(), 64.into()]);
//! let u = f.input("up", DType::F32, &[32.into(), 64.into()]);
//! let d = f.input("down", DType::F32, &[64.into(), 32.into()]);
//! let h = x.matmul_t(&g).silu().mul(&x.matmul_t(&u)).matmul_t(&d);
//! let func = f.finish(&[&h]).unwrap();
//! let (optimized, report) = Optimizer::new(CostModel::gpu()).optimize(&func).unwrap();
//! assert!(report.kernels_after < report.kernels_before);
//! assert_eq!(optimized.inputs().len(), 4);
//! ```
#![warn(missing_docs)]

mod cost;
pub mod graph;
pub mod rules;

pub use cost::CostModel;
pub use rules::{Family, Rule, Term};

use egg::{Id, Language};
use graph::{from_function, to_function, Graph, Node, OpKey};
use kiln_dsl::{Function, NodeKind};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why rewriting failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RewriteError {
    /// A pass failed.
    #[error("pass `{pass}`: {message}")]
    Pass {
        /// The pass.
        pass: String,
        /// What went wrong.
        message: String,
    },
    /// The rewritten function is not well formed (a bug in a rule or pass).
    #[error("the rewritten `{function}` is invalid: {message}")]
    Invalid {
        /// The function.
        function: String,
        /// What is wrong.
        message: String,
    },
}

/// A whole-function transformation run before the e-graph (for what is not
/// a local rewrite).
pub trait Pass: Send + Sync {
    /// Name, as reported.
    fn name(&self) -> String;
    /// The transformed function, which must compute the same outputs from
    /// the same inputs.
    fn run(&self, func: Function) -> Result<Function, String>;
}

/// When saturation stops early.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Limits {
    /// E-nodes in the e-graph.
    pub max_nodes: usize,
    /// Rounds of applying every rule.
    pub max_iterations: usize,
    /// Wall-clock time.
    pub max_time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_nodes: 200_000, max_iterations: 8, max_time: Duration::from_secs(5) }
    }
}

/// Why saturation stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// No rule adds anything: every equivalent program the rules know is in
    /// the e-graph.
    Saturated,
    /// [`Limits::max_nodes`] was reached.
    NodeLimit,
    /// [`Limits::max_iterations`] was reached.
    IterationLimit,
    /// [`Limits::max_time`] was reached.
    TimeLimit,
}

/// How often a rule added something.
#[derive(Clone, Debug, Serialize)]
pub struct RuleCount {
    /// The rule.
    pub rule: String,
    /// Its family.
    pub family: Family,
    /// E-classes it joined with a new term.
    pub applied: usize,
}

/// Ops that run together in the result, and how often the group occurs.
#[derive(Clone, Debug, Serialize)]
pub struct FusedGroup {
    /// The members' op names, in order.
    pub ops: Vec<String>,
    /// Kernels the group runs as.
    pub kernels: usize,
    /// Occurrences.
    pub count: usize,
}

/// What optimizing one function did.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The function.
    pub function: String,
    /// Ops before and after.
    pub ops_before: usize,
    /// Ops after.
    pub ops_after: usize,
    /// Kernels (stages) before.
    pub kernels_before: usize,
    /// Kernels after.
    pub kernels_after: usize,
    /// The cost model's estimate before, in seconds.
    pub estimated_s_before: f64,
    /// The estimate after.
    pub estimated_s_after: f64,
    /// E-graph size at the end.
    pub egraph_nodes: usize,
    /// E-classes at the end.
    pub egraph_classes: usize,
    /// Rounds of rule application.
    pub iterations: usize,
    /// Why saturation stopped.
    pub stop: Stop,
    /// Seconds spent (passes, saturation, extraction).
    pub seconds: f64,
    /// Of which saturation.
    pub saturation_s: f64,
    /// Of which extraction.
    pub extraction_s: f64,
    /// Each rule's applications.
    pub rules: Vec<RuleCount>,
    /// The fused groups in the result.
    pub fused: Vec<FusedGroup>,
}

impl Report {
    /// A line for people: kernels before and after, and whether a limit
    /// cut saturation short.
    pub fn summary(&self) -> String {
        let stop = match self.stop {
            Stop::Saturated => "saturated".to_string(),
            s => format!("stopped at the {s:?} (raise Limits to search further)"),
        };
        format!(
            "{}: {} -> {} kernels ({} -> {} ops), {} e-nodes in {} rounds, {stop}, {:.2} s ({:.2} s saturating, {:.2} s extracting)",
            self.function, self.kernels_before, self.kernels_after, self.ops_before, self.ops_after, self.egraph_nodes, self.iterations, self.seconds, self.saturation_s, self.extraction_s
        )
    }
}

/// Rules, passes, a cost model and limits.
#[derive(Clone)]
pub struct Optimizer {
    /// Rules applied until saturation (or a limit).
    pub rules: Vec<Rule>,
    /// Passes run first, in order.
    pub passes: Vec<Arc<dyn Pass>>,
    /// What extraction minimises.
    pub cost: CostModel,
    /// When saturation stops.
    pub limits: Limits,
    /// Whether ops of parameters alone are computed once when the
    /// parameters are loaded ([`kiln_dsl::fold::fold_params`], which the
    /// runtime's modules do): they then cost nothing per call, and
    /// projections that share an input may be merged into one matmul over
    /// concatenated weights. Off by default: a lone function's parameters
    /// are run-time inputs.
    pub fold_params: bool,
}

impl Optimizer {
    /// Every built-in rule, no pass, default limits.
    pub fn new(cost: CostModel) -> Optimizer {
        Optimizer { rules: rules::all(), passes: Vec::new(), cost, limits: Limits::default(), fold_params: false }
    }

    /// The same optimizer for functions whose parameter-only ops are folded
    /// at load ([`Optimizer::fold_params`]).
    pub fn folding_params(mut self) -> Optimizer {
        self.fold_params = true;
        self
    }

    /// Add a rule.
    pub fn with_rule(mut self, rule: Rule) -> Optimizer {
        self.rules.push(rule);
        self
    }

    /// Add a pass (run before the e-graph).
    pub fn with_pass(mut self, pass: impl Pass + 'static) -> Optimizer {
        self.passes.push(Arc::new(pass));
        self
    }

    /// The cheapest equivalent of `func` found, and what was done.
    pub fn optimize(&self, func: &Function) -> Result<(Function, Report), RewriteError> {
        let started = Instant::now();
        let ops = |f: &Function| f.nodes.iter().filter(|n| matches!(n.kind, NodeKind::Op(_))).count();
        let (kernels_before, estimated_s_before) = self.cost.function_cost(func);
        let ops_before = ops(func);
        let mut func = func.clone();
        for p in &self.passes {
            func = p.run(func).map_err(|message| RewriteError::Pass { pass: p.name(), message })?;
            func.verify().map_err(|e| RewriteError::Invalid { function: func.name.clone(), message: format!("after pass `{}`: {e}", p.name()) })?;
        }
        let (mut g, root) = from_function(&func);
        g.analysis.fold_params = self.fold_params;
        g.analysis.attention_kernels = self.cost.attention_kernels;
        g.analysis.quantize_prologues = self.cost.quantize_prologues;
        let saturation = Instant::now();
        let (iterations, stop, applied) = self.saturate(&mut g, started);
        let saturation_s = saturation.elapsed().as_secs_f64();
        let extraction = Instant::now();
        let expr = cost::extract(&self.cost, &g, root);
        let extraction_s = extraction.elapsed().as_secs_f64();
        let out = to_function(&func.name, &g.analysis.leaves, &expr);
        out.verify().map_err(|e| RewriteError::Invalid { function: out.name.clone(), message: e.to_string() })?;
        // as it runs: ops of parameters alone folded into parameters
        let (kernels_after, estimated_s_after) = match self.fold_params {
            true => self.cost.function_cost(&kiln_dsl::fold::fold_param_ops(&out).map_err(|e| RewriteError::Invalid { function: out.name.clone(), message: e.to_string() })?),
            false => self.cost.function_cost(&out),
        };
        let report = Report {
            function: func.name.clone(),
            ops_before,
            ops_after: ops(&out),
            kernels_before,
            kernels_after,
            estimated_s_before,
            estimated_s_after,
            egraph_nodes: g.total_number_of_nodes(),
            egraph_classes: g.number_of_classes(),
            iterations,
            stop,
            seconds: started.elapsed().as_secs_f64(),
            saturation_s,
            extraction_s,
            rules: self.rules.iter().zip(applied).map(|(r, applied)| RuleCount { rule: r.name.clone(), family: r.family, applied }).collect(),
            fused: fused_groups(&out, &self.cost),
        };
        Ok((out, report))
    }

    /// [`Optimizer::optimize`] of each function, several at once (one
    /// thread per core): a model's prefill and decode functions rewrite in
    /// parallel. Results are in `funcs`' order.
    pub fn optimize_all(&self, funcs: &[Function]) -> Vec<Result<(Function, Report), RewriteError>> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(funcs.len()).max(1);
        let next = std::sync::atomic::AtomicUsize::new(0);
        let mut results: Vec<Option<Result<(Function, Report), RewriteError>>> = (0..funcs.len()).map(|_| None).collect();
        let done = std::sync::Mutex::new(&mut results);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(f) = funcs.get(i) else { break };
                    let r = self.optimize(f);
                    done.lock().expect("no rewriting thread panics while holding the results")[i] = Some(r);
                });
            }
        });
        results.into_iter().map(|r| r.expect("every function was rewritten")).collect()
    }

    /// Apply every rule to every e-node, round after round, until nothing
    /// changes or a limit is reached. A rule sees an e-node again only when
    /// one of its operands' e-classes has grown (rules look into them).
    fn saturate(&self, g: &mut Graph, started: Instant) -> (usize, Stop, Vec<usize>) {
        let mut applied = vec![0; self.rules.len()];
        // each e-node with its operands' e-node count when the rules last saw it
        let mut seen: HashMap<Node, usize> = HashMap::new();
        for iteration in 0..self.limits.max_iterations {
            let mut found: Vec<(Id, Term, usize)> = Vec::new();
            for class in g.classes() {
                for node in &class.nodes {
                    let operand_nodes: usize = node.children().iter().map(|&c| g[c].nodes.len()).sum();
                    if seen.get(node) == Some(&operand_nodes) {
                        continue;
                    }
                    seen.insert(node.clone(), operand_nodes);
                    for (r, rule) in self.rules.iter().enumerate() {
                        found.extend((rule.rewrite)(g, class.id, node).into_iter().map(|t| (class.id, t, r)));
                    }
                }
            }
            let mut changed = false;
            for (class, term, r) in found {
                if term.ty(g) != g[class].data {
                    continue; // a rule's term of another type: not equal, dropped
                }
                if let Term::Op(_, args) = &term {
                    if args.iter().any(|a| matches!(a, Term::Class(c) if g.find(*c) == g.find(class))) {
                        // an op of its own result (`x = transpose(transpose(x))`
                        // fused): never extracted, and fusion would grow
                        // such cycles into ever longer chains
                        continue;
                    }
                }
                let id = add_term(g, &term);
                if g.union(class, id) {
                    applied[r] += 1;
                    changed = true;
                }
            }
            g.rebuild();
            if !changed {
                return (iteration + 1, Stop::Saturated, applied);
            }
            if g.total_number_of_nodes() >= self.limits.max_nodes {
                return (iteration + 1, Stop::NodeLimit, applied);
            }
            if started.elapsed() >= self.limits.max_time {
                return (iteration + 1, Stop::TimeLimit, applied);
            }
        }
        (self.limits.max_iterations, Stop::IterationLimit, applied)
    }
}

fn add_term(g: &mut Graph, t: &Term) -> Id {
    match t {
        Term::Class(id) => *id,
        Term::Op(op, args) => {
            let ids = args.iter().map(|a| add_term(g, a)).collect();
            g.add(Node::Op(OpKey::new(op.clone()), ids))
        }
    }
}

fn fused_groups(func: &Function, cost: &CostModel) -> Vec<FusedGroup> {
    let mut groups: BTreeMap<Vec<String>, FusedGroup> = BTreeMap::new();
    for n in &func.nodes {
        let NodeKind::Op(op) = &n.kind else { continue };
        let Some(f) = op.as_fused() else { continue };
        let names: Vec<String> = f.members.iter().map(|m| m.op.name()).collect();
        let ins: Vec<_> = n.inputs.iter().map(|i| func.node(*i).ty.clone()).collect();
        let kernels = cost.kernels(op.as_ref(), &op.compute(&ins, &n.ty), ins.len());
        groups.entry(names.clone()).or_insert(FusedGroup { ops: names, kernels, count: 0 }).count += 1;
    }
    let mut v: Vec<FusedGroup> = groups.into_values().collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.ops.cmp(&b.ops)));
    v
}
