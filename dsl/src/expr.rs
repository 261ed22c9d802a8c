//! Tensor expressions: the compute rule that *defines* every op.
//!
//! A [`Stage`] computes one tensor: for every point of its output shape (axes
//! `Axis(0..rank)`), optionally reduced over extra axes (`Axis(rank..)`), it
//! evaluates [`Stage::body`]. Bodies read their *sources* — the op's inputs
//! followed by the outputs of earlier stages of the same op — with
//! [`Expr::Load`]. The reference interpreter evaluates these rules directly;
//! the scheduler lowers the same rules to loop nests, so an op written once
//! runs on every backend.

use crate::dim::Dim;
use crate::dtype::{DType, ScalarKind};
use std::fmt;

/// A scalar expression over index variables, symbolic dims and loaded values.
///
/// Integer expressions compute in i64 (division truncates), float ones in f32
/// on backends and in f64 in the reference interpreter. Comparisons give an
/// integer 0 or 1.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// Float literal.
    Float(f64),
    /// Integer literal.
    Int(i64),
    /// Index variable: output axes first, then reduction axes.
    Axis(u32),
    /// The run-time value of a (possibly symbolic) dimension.
    Dim(Dim),
    /// Element of source `src` at a multi-dimensional index. Loads from
    /// quantized sources dequantize the element.
    Load {
        /// Source number: op inputs first, then earlier stages.
        src: u32,
        /// One integer expression per axis of the source.
        index: Vec<Expr>,
    },
    /// A raw storage byte of source `src` (integer result); used to define
    /// dequantization. `signed` reads it as i8.
    LoadByte {
        /// Source number.
        src: u32,
        /// Byte offset into the source's storage.
        offset: Box<Expr>,
        /// Sign-extend the byte.
        signed: bool,
    },
    /// A raw little-endian f16 of source `src` at a byte offset (float result).
    LoadHalf {
        /// Source number.
        src: u32,
        /// Byte offset into the source's storage (even).
        offset: Box<Expr>,
    },
    /// Unary operation.
    Unary(UnOp, Box<Expr>),
    /// Binary operation.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `if cond != 0 { a } else { b }`.
    Select(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `a * b + c` on floats, rounded once where the backend has fused
    /// multiply-add (exact in the interpreter's f64).
    MulAdd(Box<Expr>, Box<Expr>, Box<Expr>),
    /// Conversion between float and integer (float → int truncates).
    Cast(ScalarKind, Box<Expr>),
}

/// Unary operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum UnOp {
    Neg,
    Abs,
    Exp,
    Log,
    Sqrt,
    Rsqrt,
    Tanh,
    Erf,
    Sin,
    Cos,
}

/// Binary operations. `Shr` and `And` are integer-only; comparisons give 0/1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Max,
    Min,
    Shr,
    And,
    Lt,
    Le,
    Eq,
}

/// How a reduction combines values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    /// Sum, starting from 0.
    Sum,
    /// Maximum, starting from -inf (or `i64::MIN`).
    Max,
    /// Minimum, starting from +inf (or `i64::MAX`).
    Min,
}

impl ReduceOp {
    /// The identity element as f64 (integers use the saturated i64 bounds).
    pub fn identity(self, kind: ScalarKind) -> f64 {
        match (self, kind) {
            (ReduceOp::Sum, _) => 0.0,
            (ReduceOp::Max, ScalarKind::Float) => f64::NEG_INFINITY,
            (ReduceOp::Min, ScalarKind::Float) => f64::INFINITY,
            (ReduceOp::Max, ScalarKind::Int) => i32::MIN as f64,
            (ReduceOp::Min, ScalarKind::Int) => i32::MAX as f64,
        }
    }

    /// The binary operation that combines an accumulator with a value.
    pub fn combiner(self) -> BinOp {
        match self {
            ReduceOp::Sum => BinOp::Add,
            ReduceOp::Max => BinOp::Max,
            ReduceOp::Min => BinOp::Min,
        }
    }
}

/// The class of kernel a stage is, which picks its default schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KernelClass {
    /// One output point per body evaluation, no reduction.
    Elementwise,
    /// A reduction over trailing axes (norms, softmax parts, argmax).
    Reduction,
    /// A product reduced over a shared axis (matmul, GEMV).
    Matmul,
    /// A stage of fused attention.
    Attention,
    /// Rows of f32 values packed into Q8_0 or Q8_1 blocks along the last axis
    /// ([`crate::quant::quantize_activations`]): the body gives each
    /// element's value; the only stages that write a quantized tensor.
    Quantize,
}

/// A reduction: how values combine and over what extents.
#[derive(Clone, Debug, PartialEq)]
pub struct Reduce {
    /// How values combine.
    pub op: ReduceOp,
    /// Extents of the reduction axes, numbered after the output axes.
    pub extents: Vec<Dim>,
}

/// One computed tensor of an op (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    /// Name used in loop nests and kernel names.
    pub name: String,
    /// Output shape.
    pub shape: Vec<Dim>,
    /// Output element type: F32, F16 or I32.
    pub dtype: DType,
    /// Reduction, if any.
    pub reduce: Option<Reduce>,
    /// The compute rule.
    pub body: Expr,
    /// The kernel class, which picks the default schedule.
    pub class: KernelClass,
}

impl Stage {
    /// An elementwise stage.
    pub fn map(name: &str, shape: Vec<Dim>, dtype: DType, body: Expr) -> Stage {
        Stage { name: name.into(), shape, dtype, reduce: None, body, class: KernelClass::Elementwise }
    }

    /// A reduction stage.
    pub fn reduce(name: &str, shape: Vec<Dim>, dtype: DType, op: ReduceOp, extents: Vec<Dim>, body: Expr) -> Stage {
        Stage {
            name: name.into(),
            shape,
            dtype,
            reduce: Some(Reduce { op, extents }),
            body,
            class: KernelClass::Reduction,
        }
    }

    /// Whether a later stage may compute this one's values where it reads
    /// them instead of loading them (inline it): elementwise, and f32 or
    /// i32 (an f16 stage rounds what it stores). Attention's exp weights do
    /// not: recomputed inside its sum, the CPU backend's attention no longer
    /// matches its instruction-sequence templates, and its logits drift
    /// from llama.cpp's after a few decode steps.
    pub fn inlinable(&self) -> bool {
        self.reduce.is_none() && matches!(self.class, KernelClass::Elementwise) && matches!(self.dtype, DType::F32 | DType::I32)
    }

    /// The same stage with another kernel class.
    pub fn with_class(mut self, class: KernelClass) -> Stage {
        self.class = class;
        self
    }

    /// Check the stage against its sources' types and shapes: index
    /// variables in range, one index per source axis, a typed body whose
    /// kind matches the output dtype, a dense output and a non-empty
    /// reduction. Returns what is wrong.
    pub fn check(&self, sources: &[(DType, Vec<Dim>)]) -> Result<(), String> {
        match (self.class, self.dtype) {
            (KernelClass::Quantize, DType::Q8_0 | DType::Q8_1) if self.reduce.is_none() && self.shape.last().and_then(Dim::as_const).is_some_and(|k| k % 32 == 0) => {}
            (KernelClass::Quantize, _) => return Err(format!("quantize stage `{}` must write q8_0 or q8_1 rows of a constant multiple of 32 without reducing", self.name)),
            (_, d) if d.is_quantized() => return Err(format!("stage `{}` writes a quantized tensor", self.name)),
            _ => {}
        }
        if self.reduce.as_ref().is_some_and(|r| r.extents.is_empty()) {
            return Err(format!("stage `{}` reduces over no axis", self.name));
        }
        let n = self.n_axes() as u32;
        let mut problem = None;
        self.body.visit(&mut |e| match e {
            Expr::Axis(a) if *a >= n => problem = Some(format!("index variable i{a} does not exist (the stage has {n})")),
            Expr::Load { src, index } => match sources.get(*src as usize) {
                Some((_, shape)) if shape.len() != index.len() => {
                    problem = Some(format!("load from source {src} has {} indices for {} axes", index.len(), shape.len()))
                }
                None => problem = Some(format!("source {src} does not exist")),
                _ => {}
            },
            _ => {}
        });
        if let Some(p) = problem {
            return Err(format!("stage `{}`: {p}", self.name));
        }
        let dtypes: Vec<DType> = sources.iter().map(|s| s.0).collect();
        let kind = self.body.kind(&dtypes).map_err(|m| format!("stage `{}`: {m}", self.name))?;
        if kind != self.dtype.scalar_kind() {
            return Err(format!("stage `{}` computes {kind:?} values but writes {}", self.name, self.dtype));
        }
        Ok(())
    }

    /// Number of index variables (output axes plus reduction axes).
    pub fn n_axes(&self) -> usize {
        self.shape.len() + self.reduce.as_ref().map_or(0, |r| r.extents.len())
    }

    /// Extent of every index variable, output axes first.
    pub fn axis_extents(&self) -> Vec<Dim> {
        let mut v = self.shape.clone();
        if let Some(r) = &self.reduce {
            v.extend(r.extents.iter().cloned());
        }
        v
    }
}

// ----- builders that keep op definitions readable -----

/// Index variable `i`.
pub fn ax(i: usize) -> Expr {
    Expr::Axis(i as u32)
}
/// Float literal.
pub fn flt(v: f64) -> Expr {
    Expr::Float(v)
}
/// Integer literal.
pub fn int(v: i64) -> Expr {
    Expr::Int(v)
}
/// Run-time value of a dimension.
pub fn dim(d: &Dim) -> Expr {
    match d.as_const() {
        Some(c) => Expr::Int(c),
        None => Expr::Dim(d.clone()),
    }
}
/// Load from source `src` at `index`.
pub fn load(src: usize, index: Vec<Expr>) -> Expr {
    Expr::Load { src: src as u32, index }
}
/// `if c { a } else { b }`.
pub fn select(c: Expr, a: Expr, b: Expr) -> Expr {
    Expr::Select(Box::new(c), Box::new(a), Box::new(b))
}

macro_rules! unary_methods {
    ($($name:ident => $op:ident),*) => {
        impl Expr {
            $(
                #[doc = concat!("`", stringify!($name), "(self)`")]
                pub fn $name(self) -> Expr { Expr::Unary(UnOp::$op, Box::new(self)) }
            )*
        }
    };
}
unary_methods!(neg => Neg, abs => Abs, exp => Exp, log => Log, sqrt => Sqrt, rsqrt => Rsqrt,
               tanh => Tanh, erf => Erf, sin => Sin, cos => Cos);

macro_rules! binary_methods {
    ($($name:ident => $op:ident),*) => {
        impl Expr {
            $(
                #[doc = concat!("`", stringify!($name), "(self, rhs)`")]
                pub fn $name(self, rhs: Expr) -> Expr { Expr::Binary(BinOp::$op, Box::new(self), Box::new(rhs)) }
            )*
        }
    };
}
binary_methods!(add => Add, sub => Sub, mul => Mul, div => Div, rem => Rem, max => Max, min => Min,
                shr => Shr, and => And, lt => Lt, le => Le, eq => Eq);

impl Expr {
    /// Convert to float.
    pub fn to_float(self) -> Expr {
        Expr::Cast(ScalarKind::Float, Box::new(self))
    }
    /// `self * b + c`, rounded once where the backend can.
    pub fn mul_add(self, b: Expr, c: Expr) -> Expr {
        Expr::MulAdd(Box::new(self), Box::new(b), Box::new(c))
    }
    /// Convert to integer (truncating).
    pub fn to_int(self) -> Expr {
        Expr::Cast(ScalarKind::Int, Box::new(self))
    }

    /// Visit every sub-expression, parents first.
    pub fn visit(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Load { index, .. } => index.iter().for_each(|e| e.visit(f)),
            Expr::LoadByte { offset, .. } | Expr::LoadHalf { offset, .. } => offset.visit(f),
            Expr::Unary(_, a) | Expr::Cast(_, a) => a.visit(f),
            Expr::Binary(_, a, b) => {
                a.visit(f);
                b.visit(f);
            }
            Expr::Select(c, a, b) | Expr::MulAdd(c, a, b) => {
                c.visit(f);
                a.visit(f);
                b.visit(f);
            }
            Expr::Float(_) | Expr::Int(_) | Expr::Axis(_) | Expr::Dim(_) => {}
        }
    }

    /// Rebuild the expression bottom-up, letting `f` replace any node.
    pub fn rewrite(&self, f: &mut dyn FnMut(&Expr) -> Option<Expr>) -> Expr {
        if let Some(e) = f(self) {
            return e;
        }
        let mut r = |e: &Expr| Box::new(e.rewrite(f));
        match self {
            Expr::Load { src, index } => {
                Expr::Load { src: *src, index: index.iter().map(|e| e.rewrite(f)).collect() }
            }
            Expr::LoadByte { src, offset, signed } => Expr::LoadByte { src: *src, offset: r(offset), signed: *signed },
            Expr::LoadHalf { src, offset } => Expr::LoadHalf { src: *src, offset: r(offset) },
            Expr::Unary(op, a) => Expr::Unary(*op, r(a)),
            Expr::Cast(k, a) => Expr::Cast(*k, r(a)),
            Expr::Binary(op, a, b) => Expr::Binary(*op, r(a), r(b)),
            Expr::Select(c, a, b) => Expr::Select(r(c), r(a), r(b)),
            Expr::MulAdd(a, b, c) => Expr::MulAdd(r(a), r(b), r(c)),
            Expr::Float(_) | Expr::Int(_) | Expr::Axis(_) | Expr::Dim(_) => self.clone(),
        }
    }

    /// The scalar kind of the expression given the kinds of its sources, or a
    /// message saying where the types disagree.
    pub fn kind(&self, sources: &[DType]) -> Result<ScalarKind, String> {
        use ScalarKind::{Float, Int};
        let src = |s: &u32| sources.get(*s as usize).copied().ok_or_else(|| format!("source {s} does not exist"));
        Ok(match self {
            Expr::Float(_) => Float,
            Expr::Int(_) | Expr::Axis(_) | Expr::Dim(_) => Int,
            Expr::Load { src: s, index } => {
                for e in index {
                    if e.kind(sources)? != Int {
                        return Err(format!("index of source {s} is not an integer: {e}"));
                    }
                }
                src(s)?.scalar_kind()
            }
            Expr::LoadByte { src: s, offset, .. } | Expr::LoadHalf { src: s, offset } => {
                src(s)?;
                if offset.kind(sources)? != Int {
                    return Err(format!("byte offset is not an integer: {offset}"));
                }
                if matches!(self, Expr::LoadByte { .. }) { Int } else { Float }
            }
            Expr::Unary(op, a) => {
                let k = a.kind(sources)?;
                if !matches!(op, UnOp::Neg | UnOp::Abs) && k != Float {
                    return Err(format!("{op:?} needs a float operand: {a}"));
                }
                k
            }
            Expr::Binary(op, a, b) => {
                let (ka, kb) = (a.kind(sources)?, b.kind(sources)?);
                if ka != kb {
                    return Err(format!("operands of {op:?} differ in kind: {a} and {b}"));
                }
                match op {
                    BinOp::Shr | BinOp::And | BinOp::Rem if ka != Int => {
                        return Err(format!("{op:?} needs integer operands"))
                    }
                    BinOp::Lt | BinOp::Le | BinOp::Eq => Int,
                    _ => ka,
                }
            }
            Expr::Select(c, a, b) => {
                if c.kind(sources)? != Int {
                    return Err(format!("select condition is not an integer: {c}"));
                }
                let (ka, kb) = (a.kind(sources)?, b.kind(sources)?);
                if ka != kb {
                    return Err(format!("select arms differ in kind: {a} and {b}"));
                }
                ka
            }
            Expr::Cast(k, a) => {
                a.kind(sources)?;
                *k
            }
            Expr::MulAdd(a, b, c) => {
                for x in [a, b, c] {
                    if x.kind(sources)? != Float {
                        return Err(format!("mul_add needs float operands: {x}"));
                    }
                }
                Float
            }
        })
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, "i")
    }
}

/// An [`Expr`] shown with another prefix for index variables (see
/// [`Expr::with_axis_prefix`]).
pub struct ExprWithPrefix<'a>(&'a Expr, &'a str);

impl fmt::Display for ExprWithPrefix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write(f, self.1)
    }
}

impl Expr {
    /// Display with index variables named `{prefix}{n}` (loop nests show
    /// loop variables as `l3`).
    pub fn with_axis_prefix<'a>(&'a self, prefix: &'a str) -> ExprWithPrefix<'a> {
        ExprWithPrefix(self, prefix)
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, p: &str) -> fmt::Result {
        fn w<'a>(e: &'a Expr, p: &'a str) -> ExprWithPrefix<'a> {
            ExprWithPrefix(e, p)
        }
        match self {
            Expr::Float(v) => write!(f, "{v:?}"),
            Expr::Int(v) => write!(f, "{v}"),
            Expr::Axis(i) => write!(f, "{p}{i}"),
            Expr::Dim(d) => write!(f, "({d})"),
            Expr::Load { src, index } => {
                write!(f, "s{src}[")?;
                for (i, e) in index.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", w(e, p))?;
                }
                f.write_str("]")
            }
            Expr::LoadByte { src, offset, signed } => {
                write!(f, "{}(s{src}+{})", if *signed { "i8" } else { "u8" }, w(offset, p))
            }
            Expr::LoadHalf { src, offset } => write!(f, "f16(s{src}+{})", w(offset, p)),
            Expr::Unary(op, a) => write!(f, "{}({})", format!("{op:?}").to_lowercase(), w(a, p)),
            Expr::Binary(op, a, b) => {
                let sym = match op {
                    BinOp::Add => "+",
                    BinOp::Sub => "-",
                    BinOp::Mul => "*",
                    BinOp::Div => "/",
                    BinOp::Rem => "%",
                    BinOp::Shr => ">>",
                    BinOp::And => "&",
                    BinOp::Lt => "<",
                    BinOp::Le => "<=",
                    BinOp::Eq => "==",
                    BinOp::Max => return write!(f, "max({}, {})", w(a, p), w(b, p)),
                    BinOp::Min => return write!(f, "min({}, {})", w(a, p), w(b, p)),
                };
                write!(f, "({} {sym} {})", w(a, p), w(b, p))
            }
            Expr::Select(c, a, b) => write!(f, "select({}, {}, {})", w(c, p), w(a, p), w(b, p)),
            Expr::MulAdd(a, b, c) => write!(f, "fma({}, {}, {})", w(a, p), w(b, p), w(c, p)),
            Expr::Cast(k, a) => write!(f, "{}({})", if *k == ScalarKind::Float { "float" } else { "int" }, w(a, p)),
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}{} = ", self.name, self.dtype, crate::dim::shape_str(&self.shape))?;
        if let Some(r) = &self.reduce {
            write!(f, "{:?}{} ", r.op, crate::dim::shape_str(&r.extents))?;
        }
        write!(f, "{}", self.body)
    }
}
