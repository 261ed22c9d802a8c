//! Graphs of tensor ops: functions, modules of functions sharing parameters,
//! and the builder that checks shapes as a model is written.

use crate::dim::{Bindings, Dim};
use crate::dtype::DType;
use crate::error::GraphError;
use crate::ops::{Builtin, Elementwise, OpDef, RopeConfig, TensorType};
use crate::tensor::HostTensor;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

/// Index of a node in a [`Function`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

/// What a node is.
#[derive(Clone, Debug)]
pub enum NodeKind {
    /// A run-time input of the function, by name.
    Input(String),
    /// A module parameter (weight) shared by the module's functions.
    Param(String),
    /// An op applied to the node's inputs.
    Op(Arc<dyn OpDef>),
}

/// A node: its kind, operands and type.
#[derive(Clone, Debug)]
pub struct Node {
    /// What the node is.
    pub kind: NodeKind,
    /// Operands (earlier nodes).
    pub inputs: Vec<NodeId>,
    /// Result type.
    pub ty: TensorType,
}

/// A function: nodes in topological order and the outputs it returns.
#[derive(Clone, Debug)]
pub struct Function {
    /// Name, e.g. `prefill` or `decode`.
    pub name: String,
    /// Nodes, each after its operands.
    pub nodes: Vec<Node>,
    /// Returned nodes.
    pub outputs: Vec<NodeId>,
}

/// A declared module parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamDecl {
    /// Unique name.
    pub name: String,
    /// Type.
    pub ty: TensorType,
}

/// Several functions sharing parameters, such as a model's prefill and decode.
#[derive(Clone, Debug, Default)]
pub struct Module {
    /// Parameters, shared by all functions.
    pub params: Vec<ParamDecl>,
    /// Functions.
    pub functions: Vec<Function>,
}

impl Function {
    /// Input nodes in declaration order, with their names and types.
    pub fn inputs(&self) -> Vec<(NodeId, &str, &TensorType)> {
        self.named_nodes(|k| match k {
            NodeKind::Input(name) => Some(name),
            _ => None,
        })
    }

    /// Parameter nodes, with their names and types.
    pub fn params(&self) -> Vec<(NodeId, &str, &TensorType)> {
        self.named_nodes(|k| match k {
            NodeKind::Param(name) => Some(name),
            _ => None,
        })
    }

    fn named_nodes(&self, name_of: impl Fn(&NodeKind) -> Option<&String>) -> Vec<(NodeId, &str, &TensorType)> {
        self.nodes.iter().enumerate().filter_map(|(i, n)| name_of(&n.kind).map(|name| (NodeId(i as u32), name.as_str(), &n.ty))).collect()
    }

    /// The node behind an id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0 as usize]
    }

    /// Check structural invariants: operands precede their users and every
    /// op's recorded type is what its definition infers.
    pub fn verify(&self) -> Result<(), GraphError> {
        for (i, n) in self.nodes.iter().enumerate() {
            let bad = |message: String| GraphError::Invalid { node: i, message };
            if n.inputs.iter().any(|x| x.0 as usize >= i) {
                return Err(bad("operand does not precede its user".into()));
            }
            if let NodeKind::Op(op) = &n.kind {
                let tys: Vec<TensorType> = n.inputs.iter().map(|x| self.node(*x).ty.clone()).collect();
                match op.infer(&tys) {
                    Ok(t) if t == n.ty => {}
                    Ok(t) => return Err(bad(format!("recorded type {} but {} infers {t}", n.ty, op.name()))),
                    Err(e) => return Err(bad(e)),
                }
            }
        }
        if let Some(o) = self.outputs.iter().find(|o| o.0 as usize >= self.nodes.len()) {
            return Err(GraphError::Invalid { node: o.0 as usize, message: "output does not exist".into() });
        }
        Ok(())
    }

    /// Values of the symbolic dims, taken from the concrete shapes of the
    /// run-time inputs and parameters, merged with `extra` (explicit bindings).
    pub fn bind_dims(&self, inputs: &[HostTensor], params: &HashMap<String, HostTensor>, extra: &Bindings) -> Result<Bindings, GraphError> {
        let inputs: Vec<TensorDesc> = inputs.iter().map(TensorDesc::of).collect();
        self.bind_shapes(&inputs, &|name| params.get(name).map(TensorDesc::of), extra)
    }

    /// [`Function::bind_dims`] from what is known of each value wherever it
    /// lives (host or device): dtype, shape and storage bytes.
    pub fn bind_shapes<'a>(&self, inputs: &[TensorDesc<'a>], params: &dyn Fn(&str) -> Option<TensorDesc<'a>>, extra: &Bindings) -> Result<Bindings, GraphError> {
        self.bind_shapes_with(&self.shape_checks(), inputs, params, extra)
    }

    /// What binding a call's shapes checks, gathered once: an executable
    /// that binds every call keeps it ([`Function::bind_shapes_with`]).
    pub fn shape_checks(&self) -> ShapeChecks {
        let named = |list: Vec<(NodeId, &str, &TensorType)>| list.into_iter().map(|(_, n, t)| (n.to_string(), t.clone())).collect();
        let mut checks = ShapeChecks { inputs: named(self.inputs()), params: named(self.params()), dims: Vec::new(), constraints: Vec::new() };
        let no_symbols = Bindings::new();
        for (i, n) in self.nodes.iter().enumerate() {
            // a constant dim or constraint that holds holds in every call
            // (and one that an earlier node has is checked there: a call's
            // checks are its distinct dims, not every node's)
            for d in &n.ty.shape {
                if !matches!(d.eval(&no_symbols), Ok(v) if v >= 0) && !checks.dims.iter().any(|(_, e)| e == d) {
                    checks.dims.push((i, d.clone()));
                }
            }
            if let NodeKind::Op(def) = &n.kind {
                let tys: Vec<TensorType> = n.inputs.iter().map(|x| self.node(*x).ty.clone()).collect();
                for (lo, hi, what) in def.constraints(&tys) {
                    if !matches!((lo.eval(&no_symbols), hi.eval(&no_symbols)), (Ok(l), Ok(h)) if l <= h) && !checks.constraints.iter().any(|(_, l, h, _)| *l == lo && *h == hi) {
                        checks.constraints.push((i, lo, hi, what));
                    }
                }
            }
        }
        checks
    }

    /// [`Function::bind_shapes`] with this function's [`ShapeChecks`].
    pub fn bind_shapes_with<'a>(&self, checks: &ShapeChecks, inputs: &[TensorDesc<'a>], params: &dyn Fn(&str) -> Option<TensorDesc<'a>>, extra: &Bindings) -> Result<Bindings, GraphError> {
        self.bind_checked(checks, inputs, Some(params), extra)
    }

    /// [`Function::bind_shapes_with`] for parameters that passed it before
    /// and have not changed since: only the inputs are checked. Only where
    /// [`ShapeChecks::constant_params`] (a parameter's symbols would
    /// otherwise have to agree with the inputs' in every call). A model's
    /// weights are the same every call: checking their 300-odd shapes took
    /// 0.2 ms of a SmolLM2 decode call's CPU time on this VM (their
    /// descriptions cold in cache after the last call's recording).
    pub fn bind_inputs_with<'a>(&self, checks: &ShapeChecks, inputs: &[TensorDesc<'a>], extra: &Bindings) -> Result<Bindings, GraphError> {
        assert!(checks.constant_params(), "parameters with symbolic dims are checked every call");
        self.bind_checked(checks, inputs, None, extra)
    }

    fn bind_checked<'a>(&self, checks: &ShapeChecks, inputs: &[TensorDesc<'a>], params: Option<ParamDescs<'_, 'a>>, extra: &Bindings) -> Result<Bindings, GraphError> {
        if inputs.len() != checks.inputs.len() {
            return Err(GraphError::Input { name: self.name.clone(), message: format!("expects {} inputs, got {}", checks.inputs.len(), inputs.len()) });
        }
        let mut b = extra.clone();
        let mut typed: Vec<(&str, &TensorType, TensorDesc)> = checks.inputs.iter().zip(inputs).map(|((n, t), v)| (n.as_str(), t, *v)).collect();
        for (name, ty) in checks.params.iter().filter(|_| params.is_some()) {
            let v = params.and_then(|p| p(name)).ok_or_else(|| GraphError::Input { name: name.clone(), message: "parameter has no value".into() })?;
            typed.push((name, ty, v));
        }
        for (name, ty, v) in &typed {
            if v.dtype != ty.dtype || v.shape.len() != ty.rank() {
                return Err(GraphError::Input { name: name.to_string(), message: format!("declared {ty}, got {}{:?}", v.dtype, v.shape) });
            }
            for (d, &n) in ty.shape.iter().zip(v.shape) {
                if let Some(s) = d.as_sym() {
                    if let Some(&old) = b.get(s) {
                        if old != n as i64 {
                            return Err(GraphError::Input { name: name.to_string(), message: format!("`{s}` is {n} here but {old} elsewhere") });
                        }
                    }
                    b.insert(s.to_string(), n as i64);
                }
            }
        }
        // every dim must now evaluate and match
        for (name, ty, v) in &typed {
            for (d, &n) in ty.shape.iter().zip(v.shape) {
                let want = d.eval(&b).map_err(|sym| GraphError::UnboundDim { op: name.to_string(), sym })?;
                if want != n as i64 {
                    return Err(GraphError::Input { name: name.to_string(), message: format!("declared {ty} (= {want} on an axis), got shape {:?}", v.shape) });
                }
            }
            let numel = v.shape.iter().product();
            if v.bytes != v.dtype.storage_bytes(numel) {
                return Err(GraphError::Input { name: name.to_string(), message: format!("holds {} bytes, {}{:?} needs {}", v.bytes, v.dtype, v.shape, v.dtype.storage_bytes(numel)) });
            }
        }
        // named only on error: a fused op's name is long, and this runs per call
        let op = |i: usize| match &self.nodes[i].kind {
            NodeKind::Op(op) => op.name(),
            NodeKind::Input(s) | NodeKind::Param(s) => s.clone(),
        };
        for (i, d) in &checks.dims {
            match d.eval(&b) {
                Err(sym) => return Err(GraphError::UnboundDim { op: op(*i), sym }),
                Ok(v) if v < 0 => return Err(GraphError::Constraint { op: op(*i), message: format!("dimension {d} is {v}, below zero") }),
                Ok(_) => {}
            }
        }
        for (i, lo, hi, what) in &checks.constraints {
            match (lo.eval(&b), hi.eval(&b)) {
                (Ok(l), Ok(h)) if l <= h => {}
                (Ok(l), Ok(h)) => return Err(GraphError::Constraint { op: op(*i), message: format!("needs {what}, but {lo} = {l} > {hi} = {h}") }),
                (Err(sym), _) | (_, Err(sym)) => return Err(GraphError::UnboundDim { op: op(*i), sym }),
            }
        }
        Ok(b)
    }
}

/// How a call's parameters are looked up by name (what they are where they
/// live).
type ParamDescs<'f, 'a> = &'f dyn Fn(&str) -> Option<TensorDesc<'a>>;

/// What [`Function::bind_shapes`] checks beyond the inputs' and parameters'
/// own shapes, gathered once per function ([`Function::shape_checks`]): the
/// ops' dims and constraints that depend on symbolic dims (the rest hold in
/// every call). Checking every op afresh took 1.25 ms of CPU a call for
/// SmolLM2's decode function (this VM), about as long as recording its
/// 513 dispatches.
#[derive(Clone, Debug, Default)]
pub struct ShapeChecks {
    inputs: Vec<(String, TensorType)>,
    params: Vec<(String, TensorType)>,
    /// (node, dim): evaluates and is not negative.
    dims: Vec<(usize, Dim)>,
    /// (node, lo, hi, what): `lo <= hi`.
    constraints: Vec<(usize, Dim, Dim, String)>,
}

impl ShapeChecks {
    /// Whether every parameter's declared shape is constant: then values
    /// that passed once pass in every call whatever the inputs
    /// ([`Function::bind_inputs_with`]).
    pub fn constant_params(&self) -> bool {
        let none = Bindings::new();
        self.params.iter().all(|(_, t)| t.shape.iter().all(|d| d.eval(&none).is_ok()))
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "fn {} {{", self.name)?;
        for (i, n) in self.nodes.iter().enumerate() {
            let what = match &n.kind {
                NodeKind::Input(s) => format!("input \"{s}\""),
                NodeKind::Param(s) => format!("param \"{s}\""),
                NodeKind::Op(op) => {
                    let args: Vec<String> = n.inputs.iter().map(|x| x.to_string()).collect();
                    format!("{}({})", op.name(), args.join(", "))
                }
            };
            writeln!(f, "  %{i} = {what} : {}", n.ty)?;
        }
        let outs: Vec<String> = self.outputs.iter().map(|x| x.to_string()).collect();
        writeln!(f, "  return {}\n}}", outs.join(", "))
    }
}

impl Module {
    /// An empty module.
    pub fn new() -> Module {
        Module::default()
    }

    /// Declare a parameter shared by the module's functions.
    pub fn declare_param(&mut self, name: &str, dtype: DType, shape: &[Dim]) -> Result<(), GraphError> {
        if self.params.iter().any(|p| p.name == name) {
            return Err(GraphError::Name(format!("parameter `{name}` is declared twice")));
        }
        self.params.push(ParamDecl { name: name.into(), ty: TensorType::new(dtype, shape.to_vec()) });
        Ok(())
    }

    /// Start building a function that may use this module's parameters.
    pub fn function_builder(&self, name: &str) -> FunctionBuilder {
        FunctionBuilder::with_params(name, self.params.clone())
    }

    /// Add a finished function; its parameters must be the declared ones.
    pub fn add_function(&mut self, f: Function) -> Result<(), GraphError> {
        if self.functions.iter().any(|g| g.name == f.name) {
            return Err(GraphError::Name(format!("function `{}` is defined twice", f.name)));
        }
        for (_, name, ty) in f.params() {
            match self.params.iter().find(|p| p.name == name) {
                Some(p) if p.ty == *ty => {}
                Some(p) => return Err(GraphError::Name(format!("parameter `{name}` used as {ty} but declared {}", p.ty))),
                None => return Err(GraphError::Name(format!("parameter `{name}` is not declared"))),
            }
        }
        f.verify()?;
        self.functions.push(f);
        Ok(())
    }

    /// A function by name.
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.name == name)
    }
}

#[derive(Debug)]
struct BuilderState {
    func: Function,
    params: Vec<ParamDecl>,
    error: Option<GraphError>,
}

/// Builds a [`Function`] with chained tensor methods.
///
/// Shape errors do not interrupt the chain: the first one is kept and
/// returned by [`FunctionBuilder::finish`], naming the op and its inputs.
///
/// ```
/// use kiln_dsl::{DType, FunctionBuilder};
/// let f = FunctionBuilder::new("mlp");
/// let x = f.input("x", DType::F32, &["seq".into(), 64.into()]);
/// let w = f.input("w", DType::F32, &[64.into(), 32.into()]);
/// let b = f.input("b", DType::F32, &[32.into()]);
/// let h = x.matmul(&w).add(&b).silu();
/// let func = f.finish(&[&h]).unwrap();
/// assert_eq!(func.node(func.outputs[0]).ty.to_string(), "f32[seq, 32]");
///
/// let f = FunctionBuilder::new("bad");
/// let x = f.input("x", DType::F32, &[4.into(), 64.into()]);
/// let w = f.input("w", DType::F32, &[63.into(), 32.into()]);
/// let err = f.finish(&[&x.matmul(&w).silu()]).unwrap_err();
/// assert!(err.to_string().contains("matmul"));
/// ```
#[derive(Debug, Clone)]
pub struct FunctionBuilder {
    state: Rc<RefCell<BuilderState>>,
}

/// A value in a function under construction.
#[derive(Debug, Clone)]
pub struct Tensor {
    state: Rc<RefCell<BuilderState>>,
    /// `None` after an error upstream.
    id: Option<NodeId>,
}

impl FunctionBuilder {
    /// A builder for a function without module parameters.
    pub fn new(name: &str) -> FunctionBuilder {
        FunctionBuilder::with_params(name, Vec::new())
    }

    fn with_params(name: &str, params: Vec<ParamDecl>) -> FunctionBuilder {
        let func = Function { name: name.into(), nodes: Vec::new(), outputs: Vec::new() };
        FunctionBuilder { state: Rc::new(RefCell::new(BuilderState { func, params, error: None })) }
    }

    fn push(&self, kind: NodeKind, ty: TensorType) -> Tensor {
        let mut s = self.state.borrow_mut();
        let id = NodeId(s.func.nodes.len() as u32);
        s.func.nodes.push(Node { kind, inputs: vec![], ty });
        Tensor { state: self.state.clone(), id: Some(id) }
    }

    /// A run-time input.
    pub fn input(&self, name: &str, dtype: DType, shape: &[Dim]) -> Tensor {
        let dup = self.state.borrow().func.inputs().iter().any(|(_, n, _)| *n == name);
        if dup {
            self.fail(GraphError::Name(format!("input `{name}` is declared twice")));
            return Tensor { state: self.state.clone(), id: None };
        }
        self.push(NodeKind::Input(name.into()), TensorType::new(dtype, shape.to_vec()))
    }

    /// A module parameter, by its declared name.
    pub fn param(&self, name: &str) -> Tensor {
        let found = self.state.borrow().params.iter().find(|p| p.name == name).cloned();
        match found {
            Some(p) => self.push(NodeKind::Param(name.into()), p.ty),
            None => {
                self.fail(GraphError::Name(format!("parameter `{name}` is not declared in the module")));
                Tensor { state: self.state.clone(), id: None }
            }
        }
    }

    fn fail(&self, e: GraphError) {
        let mut s = self.state.borrow_mut();
        if s.error.is_none() {
            s.error = Some(e);
        }
    }

    /// Apply any op (built-in or user-defined) to tensors of this builder.
    pub fn apply(&self, op: Arc<dyn OpDef>, inputs: &[&Tensor]) -> Tensor {
        let poisoned = Tensor { state: self.state.clone(), id: None };
        let mut ids = Vec::new();
        for t in inputs {
            if !Rc::ptr_eq(&t.state, &self.state) {
                self.fail(GraphError::Name(format!("op `{}`: an input belongs to another function", op.name())));
                return poisoned;
            }
            match t.id {
                Some(id) => ids.push(id),
                None => return poisoned,
            }
        }
        let tys: Vec<TensorType> = ids.iter().map(|i| self.state.borrow().func.node(*i).ty.clone()).collect();
        match op.infer(&tys) {
            Ok(ty) => {
                let t = self.push(NodeKind::Op(op), ty);
                self.state.borrow_mut().func.nodes.last_mut().unwrap().inputs = ids;
                t
            }
            Err(message) => {
                let inputs = tys.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ");
                self.fail(GraphError::Shape { op: op.name(), message, inputs });
                poisoned
            }
        }
    }

    /// Finish the function returning `outputs`, or the first error met.
    pub fn finish(self, outputs: &[&Tensor]) -> Result<Function, GraphError> {
        let mut s = self.state.borrow_mut();
        if let Some(e) = s.error.take() {
            return Err(e);
        }
        let mut outs = Vec::new();
        for t in outputs {
            outs.push(t.id.ok_or_else(|| GraphError::Name("output comes from a failed op".into()))?);
        }
        s.func.outputs = outs;
        let f = s.func.clone();
        f.verify()?;
        Ok(f)
    }
}

macro_rules! unary_tensor_methods {
    ($($name:ident => $e:ident),*) => {
        impl Tensor {
            $(
                #[doc = concat!("Elementwise `", stringify!($name), "`.")]
                pub fn $name(&self) -> Tensor { self.op(Builtin::Map(Elementwise::$e), &[]) }
            )*
        }
    };
}
unary_tensor_methods!(neg => Neg, abs => Abs, exp => Exp, log => Log, sqrt => Sqrt, rsqrt => Rsqrt, tanh => Tanh,
                      erf => Erf, sin => Sin, cos => Cos, silu => Silu, gelu => Gelu);

macro_rules! binary_tensor_methods {
    ($($name:ident, $scalar:ident => $e:ident),*) => {
        impl Tensor {
            $(
                #[doc = concat!("Elementwise `", stringify!($name), "` with numpy broadcasting.")]
                pub fn $name(&self, rhs: &Tensor) -> Tensor { self.op(Builtin::Map(Elementwise::$e), &[rhs]) }
                #[doc = concat!("Elementwise `", stringify!($name), "` with a constant.")]
                pub fn $scalar(&self, c: f64) -> Tensor { self.op(Builtin::MapScalar(Elementwise::$e, c), &[]) }
            )*
        }
    };
}
binary_tensor_methods!(add, add_scalar => Add, sub, sub_scalar => Sub, mul, mul_scalar => Mul, div, div_scalar => Div,
                       maximum, maximum_scalar => Max, minimum, minimum_scalar => Min);

impl Tensor {
    fn builder(&self) -> FunctionBuilder {
        FunctionBuilder { state: self.state.clone() }
    }

    fn op(&self, op: Builtin, rest: &[&Tensor]) -> Tensor {
        let mut ins = vec![self];
        ins.extend_from_slice(rest);
        self.builder().apply(Arc::new(op), &ins)
    }

    /// The node id, unless an error happened upstream.
    pub fn id(&self) -> Option<NodeId> {
        self.id
    }

    /// The type, unless an error happened upstream.
    pub fn ty(&self) -> Option<TensorType> {
        self.id.map(|i| self.state.borrow().func.node(i).ty.clone())
    }

    /// Matrix product `self @ rhs` (batched over leading axes).
    pub fn matmul(&self, rhs: &Tensor) -> Tensor {
        self.op(Builtin::Matmul { transpose_b: false }, &[rhs])
    }
    /// `self @ rhsᵀ` with `rhs: [N, K]` — weights as GGUF stores them.
    pub fn matmul_t(&self, rhs: &Tensor) -> Tensor {
        self.op(Builtin::Matmul { transpose_b: true }, &[rhs])
    }
    /// Softmax over the last axis.
    pub fn softmax(&self) -> Tensor {
        self.op(Builtin::Softmax, &[])
    }
    /// RMS normalization over the last axis, scaled by `w`.
    pub fn rms_norm(&self, w: &Tensor, eps: f64) -> Tensor {
        self.op(Builtin::RmsNorm { eps }, &[w])
    }
    /// Layer normalization over the last axis.
    pub fn layer_norm(&self, w: &Tensor, b: &Tensor, eps: f64) -> Tensor {
        self.op(Builtin::LayerNorm { eps }, &[w, b])
    }
    /// Rotary embedding of `self: [S, H, D]` at `positions: i32[S]`.
    pub fn rope(&self, positions: &Tensor, config: RopeConfig) -> Tensor {
        self.op(Builtin::Rope(config), &[positions])
    }
    /// Rotary embedding by a table of cosines and sines `cs: [S, P, 2]`
    /// ([`Builtin::RopeTable`]).
    pub fn rope_table(&self, cs: &Tensor, neox: bool) -> Tensor {
        self.op(Builtin::RopeTable { neox }, &[cs])
    }
    /// Rows of `self` (a `[V, E]` table) picked by `ids`.
    pub fn gather(&self, ids: &Tensor) -> Tensor {
        self.op(Builtin::Gather, &[ids])
    }
    /// Same elements in a new shape.
    pub fn reshape(&self, shape: &[Dim]) -> Tensor {
        self.op(Builtin::Reshape(shape.to_vec()), &[])
    }
    /// Permute axes: output axis `i` is input axis `perm[i]`.
    pub fn transpose(&self, perm: &[usize]) -> Tensor {
        self.op(Builtin::Transpose(perm.to_vec()), &[])
    }
    /// Join `self` and `others` along `axis`.
    pub fn concat(&self, others: &[&Tensor], axis: usize) -> Tensor {
        self.op(Builtin::Concat(axis), others)
    }
    /// `self[.., start..end, ..]` along `axis`.
    pub fn slice(&self, axis: usize, start: impl Into<Dim>, end: impl Into<Dim>) -> Tensor {
        self.op(Builtin::Slice { axis, start: start.into(), end: end.into() }, &[])
    }
    /// Causal attention of `self` (queries `[S, Hq, D]`) over `k, v: [T, Hkv, D]`
    /// (query `i` sees keys up to position `T - S + i`).
    pub fn attention(&self, k: &Tensor, v: &Tensor, scale: f64) -> Tensor {
        self.op(Builtin::Attention { scale, causal: true }, &[k, v])
    }
    /// Attention of `self` (queries `[S, Hq, D]`) over every key of `k, v:
    /// [T, Hkv, D]` (an encoder's).
    pub fn attention_unmasked(&self, k: &Tensor, v: &Tensor, scale: f64) -> Tensor {
        self.op(Builtin::Attention { scale, causal: false }, &[k, v])
    }
    /// Attention of one new token per sequence (queries `self: [B, Hq,
    /// D]`, its keys and values `k, v: [B, Hkv, D]`) over that sequence's
    /// earlier keys and values, kept in pages of `page` rows in the pools
    /// `k_pool, v_pool: [N, Hkv, D]`: `pages: i32[B, M]` lists each
    /// sequence's pages, `lens: i32[B]` how many keys it has there
    /// ([`Builtin::PagedAttention`]).
    #[allow(clippy::too_many_arguments)]
    pub fn paged_attention(&self, k: &Tensor, v: &Tensor, k_pool: &Tensor, v_pool: &Tensor, pages: &Tensor, lens: &Tensor, scale: f64, page: usize) -> Tensor {
        self.op(Builtin::PagedAttention { scale, page }, &[k, v, k_pool, v_pool, pages, lens])
    }
    /// Index of the maximum over the last axis.
    pub fn argmax(&self) -> Tensor {
        self.op(Builtin::Argmax, &[])
    }
    /// Quantized or f16 to f32.
    pub fn dequantize(&self) -> Tensor {
        self.op(Builtin::Dequantize, &[])
    }
    /// Pack rows into 8-bit blocks (only [`DType::Q8_0`]) for an integer-dot
    /// `matmul_t` with quantized weights.
    pub fn quantize(&self, to: DType) -> Tensor {
        self.op(Builtin::Quantize(to), &[])
    }
    /// Convert to another dense dtype.
    pub fn cast(&self, to: DType) -> Tensor {
        self.op(Builtin::Cast(to), &[])
    }
}

/// What binding dims needs to know of a run-time value.
#[derive(Clone, Copy, Debug)]
pub struct TensorDesc<'a> {
    /// Element type.
    pub dtype: DType,
    /// Concrete shape.
    pub shape: &'a [usize],
    /// Storage bytes it holds.
    pub bytes: usize,
}

impl<'a> TensorDesc<'a> {
    /// The description of a host tensor.
    pub fn of(t: &'a HostTensor) -> TensorDesc<'a> {
        TensorDesc { dtype: t.dtype, shape: &t.shape, bytes: t.data.len() }
    }
}
