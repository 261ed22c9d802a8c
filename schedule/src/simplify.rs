//! Integer simplification of index expressions, and the monotonicity test
//! used by tail handling.

use kiln_dsl::{BinOp, Expr, UnOp};

/// Fold constants and drop identities (`x + 0`, `x * 1`, `x / 1`, `x % c`
/// for `x` a multiple of `c`, ...) in
/// integer arithmetic; float arithmetic is left as written.
pub fn simplify(e: &Expr) -> Expr {
    match e {
        Expr::Dim(d) => match d.as_const() {
            Some(c) => Expr::Int(c),
            None => e.clone(),
        },
        Expr::Binary(op, a, b) => {
            let (a, b) = (simplify(a), simplify(b));
            match (op, &a, &b) {
                (_, Expr::Int(x), Expr::Int(y)) => {
                    if let Some(v) = fold(*op, *x, *y) {
                        return Expr::Int(v);
                    }
                }
                (BinOp::Add, Expr::Int(0), _) | (BinOp::Mul, Expr::Int(1), _) => return b,
                (BinOp::Add | BinOp::Sub, _, Expr::Int(0)) | (BinOp::Mul | BinOp::Div, _, Expr::Int(1)) => return a,
                (BinOp::Mul, Expr::Int(0), _) | (BinOp::Mul, _, Expr::Int(0)) | (BinOp::Rem, _, Expr::Int(1)) => return Expr::Int(0),
                (BinOp::Rem, _, Expr::Int(c)) if *c != 0 && multiple_of(&a, *c) => return Expr::Int(0),
                _ => {}
            }
            Expr::Binary(*op, Box::new(a), Box::new(b))
        }
        Expr::Load { src, index } => Expr::Load { src: *src, index: index.iter().map(simplify).collect() },
        Expr::LoadByte { src, offset, signed } => Expr::LoadByte { src: *src, offset: Box::new(simplify(offset)), signed: *signed },
        Expr::LoadHalf { src, offset } => Expr::LoadHalf { src: *src, offset: Box::new(simplify(offset)) },
        Expr::Unary(op, a) => Expr::Unary(*op, Box::new(simplify(a))),
        Expr::Cast(k, a) => Expr::Cast(*k, Box::new(simplify(a))),
        Expr::Select(c, a, b) => Expr::Select(Box::new(simplify(c)), Box::new(simplify(a)), Box::new(simplify(b))),
        Expr::MulAdd(a, b, c) => Expr::MulAdd(Box::new(simplify(a)), Box::new(simplify(b)), Box::new(simplify(c))),
        Expr::Float(_) | Expr::Int(_) | Expr::Axis(_) => e.clone(),
    }
}

fn fold(op: BinOp, x: i64, y: i64) -> Option<i64> {
    Some(match op {
        BinOp::Add => x.checked_add(y)?,
        BinOp::Sub => x.checked_sub(y)?,
        BinOp::Mul => x.checked_mul(y)?,
        BinOp::Div => x.checked_div(y)?,
        BinOp::Rem => x.checked_rem(y)?,
        BinOp::Max => x.max(y),
        BinOp::Min => x.min(y),
        BinOp::Shr => x >> (y & 63),
        BinOp::And => x & y,
        BinOp::Lt => (x < y) as i64,
        BinOp::Le => (x <= y) as i64,
        BinOp::Eq => (x == y) as i64,
    })
}

/// Whether integer expression `e` (loop variables unknown) is a multiple of
/// `factor` for every value of its dims.
pub fn multiple_of(e: &Expr, factor: i64) -> bool {
    let constant = |c: &Expr| match c {
        Expr::Int(v) => Some(*v),
        Expr::Dim(d) => d.as_const(),
        _ => None,
    };
    match e {
        Expr::Int(v) => v % factor == 0,
        Expr::Dim(d) => d.terms().all(|(_, c)| c % factor == 0),
        Expr::Binary(BinOp::Mul, a, b) => multiple_of(a, factor) || multiple_of(b, factor),
        Expr::Binary(BinOp::Add | BinOp::Sub, a, b) => multiple_of(a, factor) && multiple_of(b, factor),
        Expr::Binary(BinOp::Rem, a, c) => multiple_of(a, factor) && constant(c).is_some_and(|c| c % factor == 0),
        _ => false,
    }
}

/// Whether `e` is non-decreasing in loop variable `var` (all variables and
/// dims being non-negative): the variable occurs only under `+`, `*`, `/` by
/// non-negative terms, `min` and `max`.
pub fn monotone_in(e: &Expr, var: u32) -> bool {
    let mentions = |x: &Expr| {
        let mut found = false;
        x.visit(&mut |y| found |= *y == Expr::Axis(var));
        found
    };
    match e {
        Expr::Axis(_) | Expr::Int(_) | Expr::Dim(_) | Expr::Float(_) => true,
        Expr::Binary(BinOp::Add | BinOp::Max | BinOp::Min, a, b) => monotone_in(a, var) && monotone_in(b, var),
        Expr::Binary(BinOp::Mul, a, b) => {
            let nonneg = |x: &Expr| matches!(x, Expr::Int(c) if *c >= 0) || matches!(x, Expr::Dim(_) | Expr::Axis(_));
            (!mentions(a) || nonneg(b)) && (!mentions(b) || nonneg(a)) && monotone_in(a, var) && monotone_in(b, var)
        }
        Expr::Binary(BinOp::Div, a, b) => monotone_in(a, var) && !mentions(b) && matches!(**b, Expr::Int(c) if c > 0) || !mentions(e),
        Expr::Unary(UnOp::Neg, _) => !mentions(e),
        _ => !mentions(e),
    }
}

/// Every loop variable `e` mentions.
pub fn loop_vars(e: &Expr) -> Vec<u32> {
    let mut v = Vec::new();
    e.visit(&mut |x| {
        if let Expr::Axis(a) = x {
            if !v.contains(a) {
                v.push(*a);
            }
        }
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_dsl::{ax, int};

    #[test]
    fn folds_identities_and_constants() {
        assert_eq!(simplify(&ax(0).mul(int(1)).add(int(0))), ax(0));
        assert_eq!(simplify(&int(3).mul(int(4)).add(ax(1).mul(int(0)))), int(12));
    }

    #[test]
    fn monotonicity() {
        assert!(monotone_in(&ax(0).mul(int(4)).add(ax(1)), 1));
        assert!(!monotone_in(&ax(0).rem(int(4)), 0));
        assert!(monotone_in(&ax(0).rem(int(4)).add(ax(1)), 1));
        assert!(!monotone_in(&int(10).sub(ax(1)), 1));
    }
}

/// Evaluate an integer expression of constants and dims (no loop variables)
/// under `bindings`; `Err(name)` names an unbound symbol or loop variable.
pub fn eval_int(e: &Expr, bindings: &kiln_dsl::Bindings) -> Result<i64, String> {
    Ok(match e {
        Expr::Int(v) => *v,
        Expr::Dim(d) => d.eval(bindings)?,
        Expr::Binary(op, a, b) => {
            let (x, y) = (eval_int(a, bindings)?, eval_int(b, bindings)?);
            fold(*op, x, y).ok_or_else(|| format!("{e} overflows or divides by zero"))?
        }
        other => return Err(format!("{other} is not a constant integer expression")),
    })
}
