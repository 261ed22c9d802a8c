//! Fused ops: several ops applied in sequence, run as fewer kernels.
//!
//! A [`Fused`] op is a small graph of member ops. Its stages are its
//! members' stages in order, after which every elementwise stage that only
//! later stages read (f32 or i32, read by [`Expr::Load`] only) is *inlined*:
//! each load of it is replaced by its body at the loaded index, and the stage
//! is dropped. The values computed are the same f32 operations in the same
//! order, so a fused op gives its members' results bit for bit on every
//! backend (a reduction reading an inlined value recomputes it per read;
//! whether that pays is the graph optimizer's cost model's call).
//!
//! One exception, an *epilogue*: when the last stage adds to (or subtracts
//! from) the sum the stage before it reduces, and nothing else reads that
//! sum, the addend joins the sum at its first step ([`absorb_epilogue`]): a
//! matmul and its residual add run as one kernel. The addend is then
//! rounded into the sum first rather than last, which changes the result
//! within f32 rounding.

use super::{OpDef, TensorType};
use crate::dim::Dim;
use crate::dtype::DType;
use crate::expr::{Expr, KernelClass, Stage};
use std::sync::Arc;

/// What a member op reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arg {
    /// Input `i` of the fused op.
    Input(usize),
    /// The result of an earlier member.
    Member(usize),
}

/// One op of a fused group and what it reads.
#[derive(Clone, Debug)]
pub struct Member {
    /// The op.
    pub op: Arc<dyn OpDef>,
    /// Its operands.
    pub args: Vec<Arg>,
}

/// Ops applied in sequence as one op (see the module docs); the last
/// member's result is the fused op's.
#[derive(Clone, Debug)]
pub struct Fused {
    /// Members in order; each reads the fused op's inputs and earlier
    /// members' results.
    pub members: Vec<Member>,
}

impl Fused {
    /// `consumer` (of `consumer_arity` inputs) with its input `at` replaced by
    /// the result of `producer` (of `producer_arity` inputs). The fused op's
    /// inputs are the consumer's, with the producer's spliced in at `at`.
    /// Fused operands are flattened, so groups grow by composition.
    pub fn compose(consumer: &Arc<dyn OpDef>, consumer_arity: usize, at: usize, producer: &Arc<dyn OpDef>, producer_arity: usize) -> Fused {
        let mut members = as_members(producer, producer_arity);
        for m in &mut members {
            for a in &mut m.args {
                if let Arg::Input(i) = a {
                    *i += at;
                }
            }
        }
        let produced = members.len() - 1;
        let offset = members.len();
        for mut m in as_members(consumer, consumer_arity) {
            for a in &mut m.args {
                *a = match *a {
                    Arg::Input(i) if i < at => Arg::Input(i),
                    Arg::Input(i) if i == at => Arg::Member(produced),
                    Arg::Input(i) => Arg::Input(i - 1 + producer_arity),
                    Arg::Member(k) => Arg::Member(k + offset),
                };
            }
            members.push(m);
        }
        Fused { members }
    }

    /// The members' result types for these input types.
    fn member_types(&self, inputs: &[TensorType]) -> Result<Vec<TensorType>, String> {
        let mut types: Vec<TensorType> = Vec::new();
        for (k, m) in self.members.iter().enumerate() {
            let ins = m
                .args
                .iter()
                .map(|a| match *a {
                    Arg::Input(i) => inputs.get(i).cloned().ok_or_else(|| format!("member {k} reads input {i} of {}", inputs.len())),
                    Arg::Member(j) if j < k => Ok(types[j].clone()),
                    Arg::Member(j) => Err(format!("member {k} reads member {j}, which is not earlier")),
                })
                .collect::<Result<Vec<_>, String>>()?;
            types.push(m.op.infer(&ins).map_err(|e| format!("{}: {e}", m.op.name()))?);
        }
        Ok(types)
    }
}

/// `op` as a list of members reading inputs `0..arity`.
fn as_members(op: &Arc<dyn OpDef>, arity: usize) -> Vec<Member> {
    match op.as_fused() {
        Some(f) => f.members.clone(),
        None => vec![Member { op: op.clone(), args: (0..arity).map(Arg::Input).collect() }],
    }
}

impl OpDef for Fused {
    fn name(&self) -> String {
        let names: Vec<String> = self.members.iter().map(|m| m.op.name()).collect();
        format!("fused({})", names.join(", "))
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, String> {
        self.member_types(inputs)?.pop().ok_or_else(|| "a fused op has no members".into())
    }

    fn compute(&self, inputs: &[TensorType], output: &TensorType) -> Vec<Stage> {
        let types = self.member_types(inputs).expect("the fused op's types were inferred when it was applied");
        let n = inputs.len() as u32;
        let mut stages: Vec<Stage> = Vec::new();
        let mut result_of: Vec<u32> = Vec::new(); // each member's result, as a source number
        for (k, m) in self.members.iter().enumerate() {
            let ins: Vec<TensorType> = m.args.iter().map(|a| arg_type(*a, inputs, &types)).collect();
            let out = if k + 1 == self.members.len() { output.clone() } else { types[k].clone() };
            let arg_src: Vec<u32> = m.args.iter().map(|a| arg_source(*a, &result_of)).collect();
            let base = n + stages.len() as u32;
            let arity = arg_src.len() as u32;
            for s in m.op.compute(&ins, &out) {
                let body = renumber(&s.body, &|src| if src < arity { arg_src[src as usize] } else { base + src - arity });
                stages.push(Stage { body, ..s });
            }
            result_of.push(n + stages.len() as u32 - 1);
        }
        absorb_epilogue(inline_stages(stages, n), n)
    }

    fn constraints(&self, inputs: &[TensorType]) -> Vec<(Dim, Dim, String)> {
        let Ok(types) = self.member_types(inputs) else { return Vec::new() };
        self.members
            .iter()
            .flat_map(|m| {
                let ins: Vec<TensorType> = m.args.iter().map(|a| arg_type(*a, inputs, &types)).collect();
                m.op.constraints(&ins)
            })
            .collect()
    }

    fn as_fused(&self) -> Option<&Fused> {
        Some(self)
    }
}

fn arg_type(a: Arg, inputs: &[TensorType], types: &[TensorType]) -> TensorType {
    match a {
        Arg::Input(i) => inputs[i].clone(),
        Arg::Member(j) => types[j].clone(),
    }
}

fn arg_source(a: Arg, result_of: &[u32]) -> u32 {
    match a {
        Arg::Input(i) => i as u32,
        Arg::Member(j) => result_of[j],
    }
}

/// `e` with every source number `s` replaced by `map(s)`.
fn renumber(e: &Expr, map: &dyn Fn(u32) -> u32) -> Expr {
    e.rewrite(&mut |x| match x {
        Expr::Load { src, index } => Some(Expr::Load { src: map(*src), index: index.iter().map(|i| renumber(i, map)).collect() }),
        Expr::LoadByte { src, offset, signed } => Some(Expr::LoadByte { src: map(*src), offset: Box::new(renumber(offset, map)), signed: *signed }),
        Expr::LoadHalf { src, offset } => Some(Expr::LoadHalf { src: map(*src), offset: Box::new(renumber(offset, map)) }),
        _ => None,
    })
}

/// Whether `stage` (source `src`) may be inlined into the later `stages`:
/// elementwise, f32 or i32 (an f16 stage rounds what it stores), and read
/// only by element loads.
fn inlinable(stage: &Stage, src: u32, later: &[Stage]) -> bool {
    if !stage.inlinable() {
        return false;
    }
    let mut raw = false;
    for s in later {
        s.body.visit(&mut |e| {
            if let Expr::LoadByte { src: s, .. } | Expr::LoadHalf { src: s, .. } = e {
                raw |= *s == src;
            }
        });
    }
    !raw
}

/// Inline every elementwise stage but the last into the stages reading it
/// (sources `0..n_inputs` are the op's inputs; stage `k` is source
/// `n_inputs + k`).
pub fn inline_stages(mut stages: Vec<Stage>, n_inputs: u32) -> Vec<Stage> {
    let mut k = 0;
    while k + 1 < stages.len() {
        let src = n_inputs + k as u32;
        if !inlinable(&stages[k], src, &stages[k + 1..]) {
            k += 1;
            continue;
        }
        let inlined = stages.remove(k);
        for s in &mut stages[k..] {
            s.body = substitute(&s.body, src, &inlined.body);
        }
    }
    stages
}

/// The last two stages as one, where the last is `sum ± rest` of the f32
/// sum the one before reduces (read at its own point, by nothing else, and
/// not through raw bytes: the CPU's instruction-sequence templates match
/// those), `rest` reading neither: the sum's body gains `rest` at the
/// first step of its reduction (`n_inputs` as for [`inline_stages`]).
pub fn absorb_epilogue(mut stages: Vec<Stage>, n_inputs: u32) -> Vec<Stage> {
    let k = stages.len();
    if k < 2 {
        return stages;
    }
    let (sum, last) = (&stages[k - 2], &stages[k - 1]);
    let src = n_inputs + k as u32 - 2;
    let Some(reduce) = sum.reduce.as_ref().filter(|r| r.op == crate::expr::ReduceOp::Sum) else { return stages };
    let rank = sum.shape.len();
    let raw = |e: &Expr| {
        let mut raw = false;
        e.visit(&mut |x| raw |= matches!(x, Expr::LoadByte { .. } | Expr::LoadHalf { .. }));
        raw
    };
    if last.reduce.is_some() || last.class != KernelClass::Elementwise || sum.dtype != DType::F32 || last.dtype != DType::F32 || sum.shape != last.shape || raw(&sum.body) {
        return stages;
    }
    let own_point = |e: &Expr| matches!(e, Expr::Load { src: s, index } if *s == src && index.iter().enumerate().all(|(a, i)| *i == Expr::Axis(a as u32)));
    let reads_sum = |e: &Expr| {
        let mut reads = false;
        e.visit(&mut |x| reads |= matches!(x, Expr::Load { src: s, .. } | Expr::LoadByte { src: s, .. } | Expr::LoadHalf { src: s, .. } if *s == src));
        reads
    };
    use crate::expr::BinOp;
    let (op, rest) = match &last.body {
        Expr::Binary(op @ (BinOp::Add | BinOp::Sub), a, b) if own_point(a) && !reads_sum(b) => (*op, (**b).clone()),
        Expr::Binary(BinOp::Add, a, b) if own_point(b) && !reads_sum(a) => (BinOp::Add, (**a).clone()),
        _ => return stages,
    };
    // rest is added where every reduction axis is at 0
    let Some(first_step) = first_step(rank, reduce.extents.len()) else { return stages };
    let addend = Expr::Select(Box::new(first_step), Box::new(rest), Box::new(Expr::Float(0.0)));
    let last = stages.pop().expect("two stages");
    let sum = stages.last_mut().expect("two stages");
    sum.body = Expr::Binary(op, Box::new(sum.body.clone()), Box::new(addend));
    sum.name = format!("{}+{}", sum.name, last.name);
    stages
}

/// Most rows of 8-bit activations a GPU's integer-dot GEMV takes (each row
/// adds accumulators): decode of up to 4 sequences.
pub const INT_DOT_ROWS: i64 = 4;

/// Where every one of `reductions` reduction axes after `rank` output axes
/// is at 0 (`None` without reduction axes).
fn first_step(rank: usize, reductions: usize) -> Option<Expr> {
    use crate::expr::BinOp;
    (0..reductions).map(|r| Expr::Binary(BinOp::Eq, Box::new(Expr::Axis((rank + r) as u32)), Box::new(Expr::Int(0)))).reduce(|a, b| Expr::Binary(BinOp::Mul, Box::new(a), Box::new(b)))
}

/// The body of a sum stage with an epilogue that [`absorb_epilogue`] made,
/// over `reductions` axes after `rank` output axes, as `(summand, op,
/// rest)`: the stage computes `Σ summand`, then `op rest` (`Add` or `Sub`;
/// rest read at the output's point).
fn split_epilogue(body: &Expr, rank: usize, reductions: usize) -> Option<(&Expr, crate::expr::BinOp, &Expr)> {
    use crate::expr::BinOp;
    let Expr::Binary(op @ (BinOp::Add | BinOp::Sub), summand, addend) = body else { return None };
    let Expr::Select(cond, rest, zero) = &**addend else { return None };
    (**zero == Expr::Float(0.0) && Some(&**cond) == first_step(rank, reductions).as_ref()).then_some((&**summand, *op, &**rest))
}

/// The operands of a `matmul_t` sum body, `x[m, k] · w[n, k]` over output
/// axes (m, n) and reduction axis k, alone or with an epilogue reading
/// neither operand: `(x, w, epilogue)` as source numbers and `(op, rest)`.
/// A backend may sum the product alone and apply the epilogue once per
/// output (within f32 rounding of the stage's order, which adds `rest` at
/// the first step): the GPU's integer-dot GEMV does.
pub fn matmul_t_operands(body: &Expr) -> Option<(u32, u32, Option<(crate::expr::BinOp, &Expr)>)> {
    use crate::expr::{ax, BinOp};
    let (product, epilogue) = match split_epilogue(body, 2, 1) {
        Some((summand, op, rest)) => (summand, Some((op, rest))),
        None => (body, None),
    };
    let Expr::Binary(BinOp::Mul, a, b) = product else { return None };
    let (Expr::Load { src: x, index: xi }, Expr::Load { src: w, index: wi }) = (&**a, &**b) else { return None };
    let reads_operand = |e: &Expr| {
        let mut reads = false;
        e.visit(&mut |e| reads |= matches!(e, Expr::Load { src, .. } | Expr::LoadByte { src, .. } | Expr::LoadHalf { src, .. } if src == x || src == w));
        reads
    };
    (x != w && *xi == [ax(0), ax(2)] && *wi == [ax(1), ax(2)] && !epilogue.is_some_and(|(_, rest)| reads_operand(rest))).then_some((*x, *w, epilogue))
}

/// `e` with each `Load { src, index }` replaced by `body` at that index, and
/// every source after `src` renumbered one down (the stage is dropped).
fn substitute(e: &Expr, src: u32, body: &Expr) -> Expr {
    e.rewrite(&mut |x| match x {
        Expr::Load { src: s, index } if *s == src => {
            let index: Vec<Expr> = index.iter().map(|i| substitute(i, src, body)).collect();
            Some(body.rewrite(&mut |y| match y {
                Expr::Axis(a) => Some(index[*a as usize].clone()),
                _ => None,
            }))
        }
        Expr::Load { src: s, index } if *s > src => Some(Expr::Load { src: s - 1, index: index.iter().map(|i| substitute(i, src, body)).collect() }),
        Expr::LoadByte { src: s, offset, signed } if *s > src => Some(Expr::LoadByte { src: s - 1, offset: Box::new(substitute(offset, src, body)), signed: *signed }),
        Expr::LoadHalf { src: s, offset } if *s > src => Some(Expr::LoadHalf { src: s - 1, offset: Box::new(substitute(offset, src, body)) }),
        _ => None,
    })
}
