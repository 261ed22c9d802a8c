//! Which loads of a vectorized loop may become vector loads: the proof that
//! the loop's W lanes read W consecutive elements starting at a multiple of
//! W, inside a source whose length is a multiple of W. The GPU code
//! generator then reads them with one (or a few) vector loads per source
//! before the unrolled lanes.

use kiln_dsl::{BinOp, Dim, Expr};

/// Row-major flat element index of `index` into `shape`, as an expression
/// (the same arithmetic the code generators emit).
pub(crate) fn flat_index(index: &[Expr], shape: &[Dim]) -> Expr {
    let mut parts = index.iter().zip(shape);
    let Some((first, _)) = parts.next() else { return Expr::Int(0) };
    parts.fold(first.clone(), |acc, (e, d)| Expr::Binary(BinOp::Add, Box::new(Expr::Binary(BinOp::Mul, Box::new(acc), Box::new(Expr::Dim(d.clone())))), Box::new(e.clone())))
}

/// Whether `e` reads loop variable `lane`.
pub(crate) fn mentions(e: &Expr, lane: u32) -> bool {
    let mut found = false;
    e.visit(&mut |x| found |= *x == Expr::Axis(lane));
    found
}

fn constant(e: &Expr) -> Option<i64> {
    match e {
        Expr::Int(c) => Some(*c),
        Expr::Dim(d) => d.as_const(),
        _ => None,
    }
}

/// The coefficient of loop variable `lane` (running over `0..w`; `w` 0 for
/// a loop of any length) in
/// integer expression `e`, where `e` is affine in it with a constant
/// coefficient. A fused axis split by a multiple of `w` counts: for `a`
/// affine in the lane with coefficient 1 and a multiple of `w` at lane 0,
/// `a / c` does not change across the lanes and `a % c` moves with them
/// (indices are never negative).
pub(crate) fn lane_coefficient(e: &Expr, lane: u32, w: i64) -> Option<i64> {
    if !mentions(e, lane) {
        return Some(0);
    }
    let aligned = |a: &Expr, c: &Expr| w > 1 && constant(c).is_some_and(|c| c > 0 && c % w == 0) && lane_coefficient(a, lane, w) == Some(1) && multiple_when_lane_zero(a, w, lane);
    match e {
        Expr::Axis(_) => Some(1),
        Expr::Binary(BinOp::Add, a, b) => lane_coefficient(a, lane, w)?.checked_add(lane_coefficient(b, lane, w)?),
        Expr::Binary(BinOp::Sub, a, b) => lane_coefficient(a, lane, w)?.checked_sub(lane_coefficient(b, lane, w)?),
        Expr::Binary(BinOp::Mul, a, b) => match (lane_coefficient(a, lane, w)?, lane_coefficient(b, lane, w)?) {
            (0, 0) => Some(0),
            (0, c) => constant(a)?.checked_mul(c),
            (c, 0) => constant(b)?.checked_mul(c),
            _ => None,
        },
        Expr::Binary(BinOp::Div, a, c) if aligned(a, c) => Some(0),
        Expr::Binary(BinOp::Rem, a, c) if aligned(a, c) => Some(1),
        _ => None,
    }
}

/// Whether integer expression `e` is a multiple of `w` whenever loop
/// variable `lane` is 0 (every other loop variable is unknown).
pub(crate) fn multiple_when_lane_zero(e: &Expr, w: i64, lane: u32) -> bool {
    kiln_schedule::multiple_of(&e.rewrite(&mut |x| (*x == Expr::Axis(lane)).then_some(Expr::Int(0))), w)
}

/// Whether a load at `index` of a source of `shape`, inside a vectorized
/// loop `lane` of `w` lanes, reads `w` consecutive elements starting at a
/// multiple of `w` of a source whose length is a multiple of `w` (so a
/// vector load covering them is aligned and inside the source whenever
/// the lanes are).
pub(crate) fn consecutive_aligned(index: &[Expr], shape: &[Dim], w: i64, lane: u32) -> bool {
    let flat = flat_index(index, shape);
    let len = Expr::Dim(kiln_dsl::product(shape));
    lane_coefficient(&flat, lane, w) == Some(1) && multiple_when_lane_zero(&flat, w, lane) && multiple_when_lane_zero(&len, w, lane)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_dsl::ax;

    fn add(a: Expr, b: Expr) -> Expr {
        Expr::Binary(BinOp::Add, Box::new(a), Box::new(b))
    }
    fn mul(a: Expr, b: Expr) -> Expr {
        Expr::Binary(BinOp::Mul, Box::new(a), Box::new(b))
    }

    #[test]
    fn gemv_row_reads_are_consecutive_and_aligned() {
        // w[n, k] with k = (o * 16 + t) * 4 + v, loop 5 the lanes
        let k = add(mul(add(mul(ax(3), Expr::Int(16)), ax(4)), Expr::Int(4)), ax(5));
        let shape = [Dim::sym("n"), Dim::new(576)];
        assert!(consecutive_aligned(&[ax(0), k.clone()], &shape, 4, 5));
        // a row length that is not a multiple of the width
        assert!(!consecutive_aligned(&[ax(0), k.clone()], &[Dim::sym("n"), Dim::new(570)], 4, 5));
        // lanes along the outer axis are a stride apart
        assert!(!consecutive_aligned(&[k.clone(), ax(0)], &[Dim::new(576), Dim::new(8)], 4, 5));
        // a start that is not a multiple of the width
        let shifted = add(k.clone(), Expr::Int(1));
        assert!(!consecutive_aligned(&[ax(0), shifted], &shape, 4, 5));
        // two lanes per element
        assert!(!consecutive_aligned(&[ax(0), mul(k, Expr::Int(2))], &shape, 4, 5));
        // lanes through a division are not affine
        let div = Expr::Binary(BinOp::Div, Box::new(ax(5)), Box::new(Expr::Int(2)));
        assert!(!consecutive_aligned(&[ax(0), div], &shape, 4, 5));
        // a fused axis p = o * 4 + v split again by a multiple of the width
        let p = add(mul(ax(3), Expr::Int(4)), ax(5));
        let split = |by: i64| [Expr::Binary(BinOp::Div, Box::new(p.clone()), Box::new(Expr::Int(by))), Expr::Binary(BinOp::Rem, Box::new(p.clone()), Box::new(Expr::Int(by)))];
        assert!(consecutive_aligned(&split(64), &[Dim::sym("n"), Dim::new(64)], 4, 5));
        assert!(!consecutive_aligned(&split(66), &[Dim::sym("n"), Dim::new(66)], 4, 5));
        // symbolic extents count when every term is a multiple
        let sym = Dim::sym("s");
        assert!(multiple_when_lane_zero(&Expr::Dim(kiln_dsl::product(&[sym.clone(), Dim::new(8)])), 4, 5));
        assert!(!multiple_when_lane_zero(&Expr::Dim(sym), 4, 5));
    }
}
