//! The reference interpreter: runs any function straight from its ops'
//! tensor-expression definitions, in f64. It is the oracle every backend is
//! checked against, so it favours obviousness over speed: no scheduling, no
//! fusion, selects evaluate both arms and every load is bounds-checked (an
//! op whose rule reads out of bounds is reported, not silently clamped).

use crate::dim::{Bindings, Dim};
use crate::dtype::{DType, ScalarKind};
use crate::error::GraphError;
use crate::expr::{BinOp, Expr, KernelClass, ReduceOp, Stage, UnOp};
use crate::graph::{Function, NodeKind};
use crate::quant;
use crate::tensor::HostTensor;
use half::f16;
use std::collections::HashMap;

/// A dense f64 result of the reference interpreter.
#[derive(Clone, Debug, PartialEq)]
pub struct RefTensor {
    /// Concrete shape.
    pub shape: Vec<usize>,
    /// Elements, row-major.
    pub data: Vec<f64>,
}

/// One stage source during interpretation.
struct Source<'a> {
    shape: Vec<usize>,
    /// Dense values (absent for quantized storage).
    values: Option<&'a [f64]>,
    /// Raw storage (present for function inputs and parameters).
    raw: Option<&'a HostTensor>,
    dtype: DType,
}

#[derive(Clone, Copy, Debug)]
enum Scalar {
    F(f64),
    I(i64),
}

impl Scalar {
    fn f(self) -> f64 {
        match self {
            Scalar::F(v) => v,
            Scalar::I(v) => v as f64,
        }
    }
    fn i(self) -> i64 {
        match self {
            Scalar::I(v) => v,
            Scalar::F(v) => v as i64,
        }
    }
}

struct Ctx<'a, 'b> {
    sources: &'b [Source<'a>],
    op: &'b str,
}

impl Ctx<'_, '_> {
    fn oob(&self, what: String) -> GraphError {
        GraphError::Invalid { node: 0, message: format!("op `{}` reads out of bounds: {what}", self.op) }
    }

    fn eval(&self, e: &Expr, axes: &[i64]) -> Result<Scalar, GraphError> {
        Ok(match e {
            Expr::Float(v) => Scalar::F(*v),
            Expr::Int(v) => Scalar::I(*v),
            Expr::Axis(a) => Scalar::I(axes[*a as usize]),
            Expr::Dim(d) => unreachable!("dims are resolved before evaluation: {d}"),
            Expr::Load { src, index } => {
                let s = &self.sources[*src as usize];
                let mut flat = 0usize;
                for (e, &n) in index.iter().zip(&s.shape) {
                    let i = self.eval(e, axes)?.i();
                    if i < 0 || i as usize >= n {
                        return Err(self.oob(format!("index {i} of an axis of length {n} in source {src}")));
                    }
                    flat = flat * n + i as usize;
                }
                match (s.values, s.raw) {
                    (Some(v), _) => {
                        let x = v[flat];
                        if s.dtype.scalar_kind() == ScalarKind::Int { Scalar::I(x as i64) } else { Scalar::F(x) }
                    }
                    (None, Some(raw)) => Scalar::F(quant::dequantize_one(raw.dtype, &raw.data, flat) as f64),
                    (None, None) => unreachable!("source without data"),
                }
            }
            Expr::LoadByte { src, offset, signed } => {
                let raw = self.raw(*src)?;
                let o = self.eval(offset, axes)?.i();
                let b = *raw.data.get(o as usize).filter(|_| o >= 0).ok_or_else(|| self.oob(format!("byte {o} of source {src}")))?;
                Scalar::I(if *signed { b as i8 as i64 } else { b as i64 })
            }
            Expr::LoadHalf { src, offset } => {
                let raw = self.raw(*src)?;
                let o = self.eval(offset, axes)?.i();
                if o < 0 || o as usize + 2 > raw.data.len() {
                    return Err(self.oob(format!("f16 at byte {o} of source {src}")));
                }
                Scalar::F(f16::from_le_bytes([raw.data[o as usize], raw.data[o as usize + 1]]).to_f64())
            }
            Expr::Unary(op, a) => {
                let v = self.eval(a, axes)?;
                match (op, v) {
                    (UnOp::Neg, Scalar::I(i)) => Scalar::I(-i),
                    (UnOp::Abs, Scalar::I(i)) => Scalar::I(i.abs()),
                    _ => {
                        let x = v.f();
                        Scalar::F(match op {
                            UnOp::Neg => -x,
                            UnOp::Abs => x.abs(),
                            UnOp::Exp => x.exp(),
                            UnOp::Log => x.ln(),
                            UnOp::Sqrt => x.sqrt(),
                            UnOp::Rsqrt => 1.0 / x.sqrt(),
                            UnOp::Tanh => x.tanh(),
                            UnOp::Erf => erf(x),
                            UnOp::Sin => x.sin(),
                            UnOp::Cos => x.cos(),
                        })
                    }
                }
            }
            Expr::Binary(op, a, b) => binary(*op, self.eval(a, axes)?, self.eval(b, axes)?),
            Expr::Select(c, a, b) => {
                let (c, a, b) = (self.eval(c, axes)?, self.eval(a, axes)?, self.eval(b, axes)?);
                if c.i() != 0 { a } else { b }
            }
            Expr::MulAdd(a, b, c) => Scalar::F(self.eval(a, axes)?.f() * self.eval(b, axes)?.f() + self.eval(c, axes)?.f()),
            Expr::Cast(ScalarKind::Float, a) => Scalar::F(self.eval(a, axes)?.f()),
            Expr::Cast(ScalarKind::Int, a) => Scalar::I(self.eval(a, axes)?.f().trunc() as i64),
        })
    }

    fn raw(&self, src: u32) -> Result<&HostTensor, GraphError> {
        self.sources[src as usize]
            .raw
            .ok_or_else(|| GraphError::Invalid { node: 0, message: format!("op `{}` reads raw bytes of computed source {src}", self.op) })
    }
}

fn binary(op: BinOp, a: Scalar, b: Scalar) -> Scalar {
    use BinOp::*;
    match (a, b) {
        (Scalar::I(x), Scalar::I(y)) => Scalar::I(match op {
            Add => x.wrapping_add(y),
            Sub => x.wrapping_sub(y),
            Mul => x.wrapping_mul(y),
            Div => x.checked_div(y).unwrap_or(0),
            Rem => x.checked_rem(y).unwrap_or(0),
            Max => x.max(y),
            Min => x.min(y),
            Shr => x >> (y & 63),
            And => x & y,
            Lt => (x < y) as i64,
            Le => (x <= y) as i64,
            Eq => (x == y) as i64,
        }),
        _ => {
            let (x, y) = (a.f(), b.f());
            match op {
                Add => Scalar::F(x + y),
                Sub => Scalar::F(x - y),
                Mul => Scalar::F(x * y),
                Div => Scalar::F(x / y),
                Max => Scalar::F(x.max(y)),
                Min => Scalar::F(x.min(y)),
                Lt => Scalar::I((x < y) as i64),
                Le => Scalar::I((x <= y) as i64),
                Eq => Scalar::I((x == y) as i64),
                Rem | Shr | And => unreachable!("integer-only op on floats"),
            }
        }
    }
}

/// erf to f64 precision (Abramowitz–Stegun 7.1.26 is too coarse for an
/// oracle; this uses the series for small |x| and the continued fraction
/// otherwise).
pub fn erf(x: f64) -> f64 {
    if x.abs() < 2.5 {
        // Maclaurin series: 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
        let mut sum = 0.0f64;
        let mut term = x;
        let mut n = 0.0;
        while term.abs() > 1e-17 * sum.abs().max(1e-300) || n < 3.0 {
            sum += term / (2.0 * n + 1.0);
            n += 1.0;
            term *= -x * x / n;
            if n > 200.0 {
                break;
            }
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    } else {
        // erfc continued fraction (Lentz), accurate for |x| >= 2.5
        let z = x.abs();
        let mut f = z;
        let mut c = z;
        let mut d = 0.0;
        for k in 1..200 {
            let a = k as f64 / 2.0;
            d = z + a * d;
            d = 1.0 / d;
            c = z + a / c;
            let delta = c * d;
            f *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        let erfc = (-z * z).exp() / (f * std::f64::consts::PI.sqrt());
        (1.0 - erfc).copysign(x)
    }
}

fn resolve_dims(e: &Expr, b: &Bindings, op: &str) -> Result<Expr, GraphError> {
    let mut err = None;
    let out = e.rewrite(&mut |x| match x {
        Expr::Dim(d) => Some(Expr::Int(d.eval(b).unwrap_or_else(|s| {
            err = Some(GraphError::UnboundDim { op: op.into(), sym: s });
            0
        }))),
        _ => None,
    });
    err.map_or(Ok(out), Err)
}

fn concrete(shape: &[Dim], b: &Bindings, op: &str) -> Result<Vec<usize>, GraphError> {
    shape.iter().map(|d| d.eval(b).map(|v| v.max(0) as usize).map_err(|sym| GraphError::UnboundDim { op: op.into(), sym })).collect()
}

/// Evaluate one stage over its whole iteration space.
fn run_stage(stage: &Stage, sources: &[Source], b: &Bindings, op: &str) -> Result<RefTensor, GraphError> {
    let shape = concrete(&stage.shape, b, op)?;
    let body = resolve_dims(&stage.body, b, op)?;
    let types: Vec<(DType, Vec<Dim>)> = sources.iter().map(|s| (s.dtype, s.shape.iter().map(|&n| Dim::from(n)).collect())).collect();
    stage.check(&types).map_err(|message| GraphError::Invalid { node: 0, message: format!("op `{op}`: {message}") })?;
    let kind = stage.dtype.scalar_kind();
    let red = match &stage.reduce {
        Some(r) => Some((r.op, concrete(&r.extents, b, op)?)),
        None => None,
    };
    let n: usize = shape.iter().product();
    let ctx = Ctx { sources, op };
    let mut data = Vec::with_capacity(n);
    let mut axes = vec![0i64; stage.n_axes()];
    for flat in 0..n {
        let mut rem = flat;
        for (a, &d) in shape.iter().enumerate().rev() {
            axes[a] = (rem % d) as i64;
            rem /= d;
        }
        let v = match &red {
            None => ctx.eval(&body, &axes)?.f(),
            Some((rop, extents)) => {
                let total: usize = extents.iter().product();
                let mut acc = rop.identity(kind);
                for r in 0..total {
                    let mut rem = r;
                    for (k, &d) in extents.iter().enumerate().rev() {
                        axes[shape.len() + k] = (rem % d) as i64;
                        rem /= d;
                    }
                    let x = ctx.eval(&body, &axes)?.f();
                    acc = match rop {
                        ReduceOp::Sum => acc + x,
                        ReduceOp::Max => acc.max(x),
                        ReduceOp::Min => acc.min(x),
                    };
                }
                acc
            }
        };
        // the stored value: f16 stages round (to nearest even, as backends do)
        data.push(match stage.dtype {
            DType::I32 => v.trunc(),
            DType::F16 => f16::from_f64(v).to_f64(),
            _ => v,
        });
    }
    Ok(RefTensor { shape, data })
}

/// Run `func` on the reference interpreter.
///
/// `inputs` follow the function's input order; `params` hold module
/// parameters by name; `bindings` may give symbolic dims that no input shape
/// determines.
pub fn interpret(func: &Function, inputs: &[HostTensor], params: &HashMap<String, HostTensor>, bindings: &Bindings) -> Result<Vec<RefTensor>, GraphError> {
    let b = func.bind_dims(inputs, params, bindings)?;
    enum Val<'a> {
        Raw(&'a HostTensor, Vec<f64>),
        Computed(RefTensor),
        Quantized(HostTensor),
    }
    let mut vals: Vec<Val> = Vec::with_capacity(func.nodes.len());
    let mut next_input = 0;
    for node in &func.nodes {
        let v = match &node.kind {
            NodeKind::Input(_) | NodeKind::Param(_) => {
                let t = match &node.kind {
                    NodeKind::Param(name) => &params[name],
                    _ => {
                        next_input += 1;
                        &inputs[next_input - 1]
                    }
                };
                let dense = if t.dtype.is_quantized() { Vec::new() } else { t.to_f64() };
                Val::Raw(t, dense)
            }
            NodeKind::Op(op) => {
                let name = op.name();
                let in_tys: Vec<_> = node.inputs.iter().map(|i| func.node(*i).ty.clone()).collect();
                let stages = op.compute(&in_tys, &node.ty);
                match stages.last() {
                    None => return Err(GraphError::Invalid { node: vals.len(), message: format!("op `{name}` defines no stage") }),
                    Some(last) if last.shape != node.ty.shape || last.dtype != node.ty.dtype => {
                        let message = format!("op `{name}` infers {} but its last stage computes {}{}", node.ty, last.dtype, crate::dim::shape_str(&last.shape));
                        return Err(GraphError::Invalid { node: vals.len(), message });
                    }
                    _ => {}
                }
                let mut done: Vec<RefTensor> = Vec::new();
                for stage in &stages {
                    let mut sources = Vec::new();
                    for (i, id) in node.inputs.iter().enumerate() {
                        sources.push(match &vals[id.0 as usize] {
                            Val::Raw(t, dense) => Source {
                                shape: t.shape.clone(),
                                values: if t.dtype.is_quantized() { None } else { Some(dense) },
                                raw: Some(t),
                                dtype: t.dtype,
                            },
                            Val::Computed(r) => Source { shape: r.shape.clone(), values: Some(&r.data), raw: None, dtype: in_tys[i].dtype },
                            Val::Quantized(t) => Source { shape: t.shape.clone(), values: None, raw: Some(t), dtype: t.dtype },
                        });
                    }
                    for (k, r) in done.iter().enumerate() {
                        sources.push(Source { shape: r.shape.clone(), values: Some(&r.data), raw: None, dtype: stages[k].dtype });
                    }
                    let r = run_stage(stage, &sources, &b, &name)?;
                    done.push(r);
                }
                let last = done.pop().expect("an op has at least one stage");
                match stages.last() {
                    Some(s) if s.class == KernelClass::Quantize => {
                        // the spec of activation quantization is in f32
                        let values: Vec<f32> = last.data.iter().map(|&v| v as f32).collect();
                        let bytes = quant::quantize_activations(s.dtype, &values);
                        let t = HostTensor::from_bytes(s.dtype, &last.shape, bytes::Bytes::from(bytes)).map_err(|message| GraphError::Invalid { node: vals.len(), message })?;
                        Val::Quantized(t)
                    }
                    _ => Val::Computed(last),
                }
            }
        };
        vals.push(v);
    }
    Ok(func
        .outputs
        .iter()
        .map(|o| match &vals[o.0 as usize] {
            Val::Raw(t, dense) => RefTensor { shape: t.shape.clone(), data: if t.dtype.is_quantized() { t.to_f64() } else { dense.clone() } },
            Val::Computed(r) => r.clone(),
            Val::Quantized(t) => RefTensor { shape: t.shape.clone(), data: t.to_f64() },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::erf;

    #[test]
    fn erf_matches_known_values() {
        for (x, want) in [(0.0, 0.0), (0.5, 0.5204998778130465), (1.0, 0.8427007929497149), (2.0, 0.9953222650189527), (3.0, 0.9999779095030014), (-1.0, -0.8427007929497149)] {
            assert!((erf(x) - want).abs() < 1e-14, "erf({x}) = {} want {want}", erf(x));
        }
    }
}
