//! A [`Function`] as an e-graph: the egg [`Language`] of kiln's graphs, the
//! type analysis that knows every e-class's tensor type, and the conversions
//! both ways.

use egg::{Analysis, DidMerge, EGraph, Id, Language, RecExpr};
use kiln_dsl::ops::{OpDef, TensorType};
use kiln_dsl::{Function, Node as GraphNode, NodeId, NodeKind};
use kiln_dsl::{Expr, Stage};
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// An op in an e-node, compared by its full description (the `Debug` text,
/// which includes every attribute), so two e-nodes are equal exactly when
/// they apply the same op to the same e-classes.
#[derive(Clone)]
pub struct OpKey {
    key: Arc<str>,
    /// `key`'s hash, computed once (e-graphs hash e-nodes often, and a
    /// fused op's description is long).
    hash: u64,
    /// The op.
    pub op: Arc<dyn OpDef>,
}

impl OpKey {
    /// Key `op`.
    pub fn new(op: Arc<dyn OpDef>) -> OpKey {
        let key: Arc<str> = format!("{op:?}").into();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        OpKey { hash: h.finish(), key, op }
    }
}

impl PartialEq for OpKey {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && (Arc::ptr_eq(&self.key, &other.key) || self.key == other.key)
    }
}
impl Eq for OpKey {}
impl PartialOrd for OpKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OpKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}
impl Hash for OpKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash)
    }
}
impl fmt::Debug for OpKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.op.name())
    }
}

/// An e-node of a kiln graph.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    /// A function input or parameter: an index into [`Types::leaves`].
    Leaf(u32),
    /// An op applied to e-classes.
    Op(OpKey, Vec<Id>),
    /// The function's outputs (the root).
    Outputs(Vec<Id>),
}

impl Node {
    /// The op, if an op node.
    pub fn op(&self) -> Option<&Arc<dyn OpDef>> {
        match self {
            Node::Op(k, _) => Some(&k.op),
            _ => None,
        }
    }
}

/// What distinguishes e-nodes apart from their children.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Discriminant {
    /// A leaf.
    Leaf(u32),
    /// An op of this arity.
    Op(OpKey, usize),
    /// The outputs, of this count.
    Outputs(usize),
}

impl Language for Node {
    type Discriminant = Discriminant;

    fn discriminant(&self) -> Discriminant {
        match self {
            Node::Leaf(i) => Discriminant::Leaf(*i),
            Node::Op(k, args) => Discriminant::Op(k.clone(), args.len()),
            Node::Outputs(ids) => Discriminant::Outputs(ids.len()),
        }
    }

    fn matches(&self, other: &Self) -> bool {
        self.discriminant() == other.discriminant()
    }

    fn children(&self) -> &[Id] {
        match self {
            Node::Leaf(_) => &[],
            Node::Op(_, ids) | Node::Outputs(ids) => ids,
        }
    }

    fn children_mut(&mut self) -> &mut [Id] {
        match self {
            Node::Leaf(_) => &mut [],
            Node::Op(_, ids) | Node::Outputs(ids) => ids,
        }
    }
}

/// The type analysis: each e-class's tensor type (rules only add e-nodes of
/// the type of the class they join). It also remembers what the stages of
/// each op on each operand types look like, which rules and the cost model
/// ask often.
#[derive(Debug, Default)]
pub struct Types {
    /// The function's inputs and parameters: their kind (with name) and type.
    pub leaves: Vec<(NodeKind, TensorType)>,
    /// Whether ops of parameters alone are computed once, when the
    /// parameters are loaded ([`kiln_dsl::fold`]): then they cost nothing
    /// per call, and rules may make them (merged projections).
    pub fold_params: bool,
    /// Whether the backend runs an attention op as one kernel (the cost
    /// model's [`crate::CostModel::attention_kernels`]): then the queries'
    /// RoPE and rounding may fuse into it. Elsewhere they stay their own
    /// kernel, so that the attention's stages read their queries as the
    /// CPU's kernel templates expect (in llama.cpp's summation order).
    pub attention_kernels: bool,
    /// Whether an elementwise producer may fuse into a quantize stage (the
    /// cost model's [`crate::CostModel::quantize_prologues`]).
    pub quantize_prologues: bool,
    stages: RefCell<HashMap<(OpKey, Vec<TensorType>), Arc<StageInfo>>>,
    /// The same by operand e-classes (a class's type never changes; a
    /// stale id is only a miss), which is cheaper to look up than types.
    stages_at: RefCell<HashMap<(OpKey, Vec<Id>), Arc<StageInfo>>>,
}

/// What the stages of an op on given operand types are like.
#[derive(Debug)]
pub struct StageInfo {
    /// The op's stages.
    pub stages: Vec<Stage>,
    /// Whether its last stage can be inlined into a reader: elementwise,
    /// f32 or i32 (an f16 stage rounds what it stores).
    pub inlinable: bool,
    /// Loads in the last stage's body: what a reader recomputes per
    /// element after inlining it.
    pub last_loads: usize,
}

impl Types {
    /// The stages of `op` on `inputs` (computed once).
    pub fn stage_info(&self, op: &OpKey, inputs: &[TensorType]) -> Option<Arc<StageInfo>> {
        let key = (op.clone(), inputs.to_vec());
        if let Some(i) = self.stages.borrow().get(&key) {
            return Some(i.clone());
        }
        let out = op.op.infer(inputs).ok()?;
        let stages = op.op.compute(inputs, &out);
        let last = stages.last()?;
        let inlinable = last.inlinable();
        let mut last_loads = 0;
        last.body.visit(&mut |e| last_loads += matches!(e, Expr::Load { .. } | Expr::LoadByte { .. } | Expr::LoadHalf { .. }) as usize);
        let info = Arc::new(StageInfo { stages, inlinable, last_loads });
        self.stages.borrow_mut().insert(key, info.clone());
        Some(info)
    }
}

/// The stages of e-node op `op` applied to e-classes `args` of `g`
/// (computed once; see [`Types::stage_info`]).
pub fn stage_info(g: &Graph, op: &OpKey, args: &[Id]) -> Option<Arc<StageInfo>> {
    let key = (op.clone(), args.to_vec());
    if let Some(i) = g.analysis.stages_at.borrow().get(&key) {
        return Some(i.clone());
    }
    let types: Option<Vec<TensorType>> = args.iter().map(|&a| g[a].data.clone()).collect();
    let info = g.analysis.stage_info(op, &types?)?;
    g.analysis.stages_at.borrow_mut().insert(key, info.clone());
    Some(info)
}

/// The index of a parameter leaf in e-class `id`, if it holds one.
pub fn param_leaf(g: &Graph, id: Id) -> Option<u32> {
    g[id].nodes.iter().find_map(|n| match n {
        Node::Leaf(i) if matches!(g.analysis.leaves[*i as usize].0, NodeKind::Param(_)) => Some(*i),
        _ => None,
    })
}

/// Whether e-node `op(args)` is computed once at load ([`Types::fold_params`]
/// is set, the op folds, and every operand is a parameter).
pub fn folds(g: &Graph, op: &OpKey, args: &[Id]) -> bool {
    g.analysis.fold_params && !args.is_empty() && args.iter().all(|&a| param_leaf(g, a).is_some()) && {
        let types: Option<Vec<TensorType>> = args.iter().map(|&a| g[a].data.clone()).collect();
        types.is_some_and(|t| kiln_dsl::fold::foldable(op.op.as_ref(), &t))
    }
}

/// The e-graph of a function.
pub type Graph = EGraph<Node, Types>;

impl Analysis<Node> for Types {
    /// `None` only for the outputs root.
    type Data = Option<TensorType>;

    fn make(egraph: &mut Graph, enode: &Node, _id: Id) -> Self::Data {
        match enode {
            Node::Leaf(i) => Some(egraph.analysis.leaves[*i as usize].1.clone()),
            Node::Op(k, args) => {
                let ins: Vec<TensorType> = args.iter().map(|a| egraph[*a].data.clone().expect("an op's operands are tensors")).collect();
                Some(k.op.infer(&ins).unwrap_or_else(|e| panic!("a rewrite made an ill-typed {}: {e}", k.op.name())))
            }
            Node::Outputs(_) => None,
        }
    }

    fn merge(&mut self, a: &mut Self::Data, b: Self::Data) -> DidMerge {
        assert_eq!(*a, b, "a rewrite joined values of different types");
        DidMerge(false, false)
    }
}

/// `func` as an e-graph, and the root e-class (its outputs).
pub fn from_function(func: &Function) -> (Graph, Id) {
    let mut types = Types::default();
    let mut leaf_of = vec![None; func.nodes.len()];
    for (i, n) in func.nodes.iter().enumerate() {
        if !matches!(n.kind, NodeKind::Op(_)) {
            leaf_of[i] = Some(types.leaves.len() as u32);
            types.leaves.push((n.kind.clone(), n.ty.clone()));
        }
    }
    let mut g = Graph::new(types);
    let mut ids = Vec::with_capacity(func.nodes.len());
    for (i, n) in func.nodes.iter().enumerate() {
        let node = match &n.kind {
            NodeKind::Op(op) => Node::Op(OpKey::new(op.clone()), n.inputs.iter().map(|x| ids[x.0 as usize]).collect()),
            _ => Node::Leaf(leaf_of[i].expect("leaves are numbered above")),
        };
        ids.push(g.add(node));
    }
    let root = g.add(Node::Outputs(func.outputs.iter().map(|o| ids[o.0 as usize]).collect()));
    g.rebuild();
    (g, root)
}

/// The function an extracted expression describes: `leaves` are the
/// original function's inputs and parameters, kept in their order (and kept
/// even when unused, so callers pass the same inputs).
pub fn to_function(name: &str, leaves: &[(NodeKind, TensorType)], expr: &RecExpr<Node>) -> Function {
    let mut nodes: Vec<GraphNode> = leaves.iter().map(|(kind, ty)| GraphNode { kind: kind.clone(), inputs: Vec::new(), ty: ty.clone() }).collect();
    let mut at: Vec<Option<NodeId>> = Vec::with_capacity(expr.len());
    let mut outputs = Vec::new();
    for node in expr.as_ref() {
        match node {
            Node::Leaf(i) => at.push(Some(NodeId(*i))),
            Node::Op(k, args) => {
                let inputs: Vec<NodeId> = args.iter().map(|a| at[usize::from(*a)].expect("operands precede")).collect();
                let ins: Vec<TensorType> = inputs.iter().map(|x| nodes[x.0 as usize].ty.clone()).collect();
                let ty = k.op.infer(&ins).expect("extracted ops are well typed");
                nodes.push(GraphNode { kind: NodeKind::Op(k.op.clone()), inputs, ty });
                at.push(Some(NodeId(nodes.len() as u32 - 1)));
            }
            Node::Outputs(ids) => {
                outputs = ids.iter().map(|a| at[usize::from(*a)].expect("outputs exist")).collect();
                at.push(None);
            }
        }
    }
    Function { name: name.to_string(), nodes, outputs }
}
