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

/// Whether `e` reads loop variable (axis) `lane`.
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

/// Whether `e` is non-negative by its form: loop variables, non-negative
/// constants and dims, and sums, products, quotients and remainders of
/// such.
fn nonneg_by_form(e: &Expr) -> bool {
    match e {
        Expr::Axis(_) => true,
        Expr::Int(c) => *c >= 0,
        Expr::Dim(d) => d.terms().all(|(_, c)| c >= 0),
        Expr::Binary(BinOp::Add | BinOp::Mul | BinOp::Div | BinOp::Rem, a, b) => nonneg_by_form(a) && nonneg_by_form(b),
        _ => false,
    }
}

/// Integer `a / c` (or `a % c`, by `op`) at lane `j` of vectorized loop
/// `lane` of `w` lanes, rewritten so the lanes share its lane-free part:
/// where `a = a0 + k * lane` with `a0` a non-negative multiple of some `m`
/// dividing the constant `c` and `k * (w - 1) < m`, every lane has
/// `a / c = a0 / c` and `a % c = a0 % c + k * j`; and where `a0` is a
/// non-negative multiple of `c` itself (any spread), `a / c = a0 / c + (k *
/// j) / c` and `a % c = (k * j) % c`. A quantized weight's
/// block index and the scale read from it are then computed once per
/// vector of lanes, not once per lane. `None` where this does not apply.
pub(crate) fn fold_at_lane(op: BinOp, a: &Expr, c: &Expr, lane: u32, w: i64, j: i64) -> Option<Expr> {
    let c = constant(c).filter(|&c| c > 0)?;
    if !matches!(op, BinOp::Div | BinOp::Rem) || !mentions(a, lane) {
        return None;
    }
    let k = lane_coefficient(a, lane, w).filter(|&k| k >= 0)?;
    let a0 = kiln_schedule::simplify(&a.rewrite(&mut |x| (*x == Expr::Axis(lane)).then_some(Expr::Int(0))));
    if !nonneg_by_form(&a0) {
        return None;
    }
    if kiln_schedule::multiple_of(&a0, c) {
        // the lane's own k * j splits off whole: a constant per lane
        let kj = k.checked_mul(j)?;
        let div = Expr::Binary(BinOp::Div, Box::new(a0), Box::new(Expr::Int(c)));
        return Some(if op == BinOp::Div { Expr::Binary(BinOp::Add, Box::new(div), Box::new(Expr::Int(kj / c))) } else { Expr::Int(kj % c) });
    }
    let spread = k.checked_mul(w - 1)?;
    let aligned = (1..=c).rev().filter(|m| c % m == 0 && *m > spread).any(|m| kiln_schedule::multiple_of(&a0, m));
    if !aligned {
        return None;
    }
    let whole = Expr::Binary(op, Box::new(a0), Box::new(Expr::Int(c)));
    Some(if op == BinOp::Div { whole } else { Expr::Binary(BinOp::Add, Box::new(whole), Box::new(Expr::Int(k * j))) })
}

/// Expression `e` at lane `j` of vectorized loop `lane` of `w` lanes: the
/// lane variable replaced by `j`, and each division or remainder the lanes
/// share ([`fold_at_lane`]) written without it, so that lanes compute
/// their common parts (a block's index and scale) once, and integer
/// constants folded.
pub(crate) fn at_lane(e: &Expr, lane: u32, w: i64, j: i64) -> Expr {
    // (then constants folded: a lane's byte within a shared word, and its
    // shift, become literals)
    constants_last(&kiln_schedule::simplify(&e.rewrite(&mut |x| match x {
        Expr::Axis(a) if *a == lane => Some(Expr::Int(j)),
        Expr::Binary(op, a, c) => fold_at_lane(*op, a, c, lane, w, j),
        _ => None,
    })))
}

/// `e` with the integer literals of each sum gathered into one term added
/// last (`a + (b + 3)` is `(a + b) + 3`), so lanes whose index differs by a
/// constant share the rest of the sum. Only sums with a literal are
/// reordered: those compute in integers (an operation's operands have one
/// kind), where the order does not change the value.
fn constants_last(e: &Expr) -> Expr {
    fn terms(e: &Expr, out: &mut Vec<Expr>, constant: &mut i64, literals: &mut usize) {
        match e {
            Expr::Binary(BinOp::Add, a, b) => {
                terms(a, out, constant, literals);
                terms(b, out, constant, literals);
            }
            Expr::Int(c) => {
                *constant = constant.wrapping_add(*c);
                *literals += 1;
            }
            other => out.push(constants_last(other)),
        }
    }
    match e {
        Expr::Binary(BinOp::Add, ..) => {
            let (mut rest, mut constant, mut literals) = (Vec::new(), 0, 0);
            terms(e, &mut rest, &mut constant, &mut literals);
            let add = |a: Expr, b: Expr| Expr::Binary(BinOp::Add, Box::new(a), Box::new(b));
            if literals == 0 {
                // floats, or integers without a literal: as written
                let Expr::Binary(_, a, b) = e else { unreachable!() };
                return add(constants_last(a), constants_last(b));
            }
            let sum = rest.into_iter().reduce(add);
            match (sum, constant) {
                (Some(s), 0) => s,
                (Some(s), c) => add(s, Expr::Int(c)),
                (None, c) => Expr::Int(c),
            }
        }
        // (not a sum itself: the rewrite reaches its sums)
        _ => e.rewrite(&mut |x| matches!(x, Expr::Binary(BinOp::Add, ..)).then(|| constants_last(x))),
    }
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
    fn block_indices_fold_to_one_per_vector_of_lanes() {
        // k = (o * 8 + t) * 8 + v over 8 lanes v: the Q4_0 block k / 32 and
        // the nibble's half (k % 32) / 16 are the same in every lane
        let k = add(mul(add(mul(ax(3), Expr::Int(8)), ax(4)), Expr::Int(8)), ax(5));
        let base = kiln_schedule::simplify(&mul(add(mul(ax(3), Expr::Int(8)), ax(4)), Expr::Int(8)));
        let div = |a: Expr, c: i64| Expr::Binary(BinOp::Div, Box::new(a), Box::new(Expr::Int(c)));
        let rem = |a: Expr, c: i64| Expr::Binary(BinOp::Rem, Box::new(a), Box::new(Expr::Int(c)));
        for j in 0..8 {
            assert_eq!(fold_at_lane(BinOp::Div, &k, &Expr::Int(32), 5, 8, j), Some(div(base.clone(), 32)));
            assert_eq!(fold_at_lane(BinOp::Rem, &k, &Expr::Int(32), 5, 8, j), Some(add(rem(base.clone(), 32), Expr::Int(j))));
            // nested: (k % 32) / 16
            assert_eq!(fold_at_lane(BinOp::Div, &rem(k.clone(), 32), &Expr::Int(16), 5, 8, j), Some(div(rem(base.clone(), 32), 16)));
        }
        // a base that is a multiple of the divisor leaves the lane's own offset
        let aligned = mul(add(mul(ax(3), Expr::Int(8)), ax(4)), Expr::Int(32));
        assert_eq!(fold_at_lane(BinOp::Rem, &add(aligned.clone(), ax(5)), &Expr::Int(32), 5, 8, 3), Some(Expr::Int(3)));
        assert_eq!(fold_at_lane(BinOp::Div, &add(aligned.clone(), ax(5)), &Expr::Int(32), 5, 8, 3), Some(add(div(kiln_schedule::simplify(&aligned), 32), Expr::Int(0))));
        // lanes spreading over several multiples: each lane's share is a constant
        assert_eq!(fold_at_lane(BinOp::Div, &add(aligned.clone(), ax(5)), &Expr::Int(8), 5, 32, 19), Some(add(div(kiln_schedule::simplify(&aligned), 8), Expr::Int(2))));
        assert_eq!(fold_at_lane(BinOp::Rem, &add(aligned.clone(), ax(5)), &Expr::Int(8), 5, 32, 19), Some(Expr::Int(3)));
        // lanes that straddle a block (width 8 from an odd start) do not fold
        let odd = add(add(mul(ax(3), Expr::Int(8)), Expr::Int(1)), ax(5));
        assert_eq!(fold_at_lane(BinOp::Div, &odd, &Expr::Int(32), 5, 8, 0), None);
        // nor lanes spread wider than the alignment (coefficient 2 over 8 lanes from multiples of 8)
        let wide = add(mul(ax(3), Expr::Int(8)), mul(ax(5), Expr::Int(2)));
        assert_eq!(fold_at_lane(BinOp::Div, &wide, &Expr::Int(32), 5, 8, 0), None);
        // nor a possibly negative base (truncating division)
        let neg = add(Expr::Binary(BinOp::Sub, Box::new(mul(ax(3), Expr::Int(8))), Box::new(Expr::Int(32))), ax(5));
        assert_eq!(fold_at_lane(BinOp::Div, &neg, &Expr::Int(32), 5, 8, 0), None);
    }

    #[test]
    fn lanes_share_sums_but_for_their_constant() {
        // byte offset b * 18 + (2 + (h + lane)) at lane 3: (b * 18 + h) + 5
        let off = add(mul(ax(1), Expr::Int(18)), add(Expr::Int(2), add(ax(2), ax(5))));
        assert_eq!(at_lane(&off, 5, 8, 3), add(add(mul(ax(1), Expr::Int(18)), ax(2)), Expr::Int(5)));
        // inside other operations too; sums without a literal stay as written
        let shifted = Expr::Binary(BinOp::Shr, Box::new(off.clone()), Box::new(Expr::Int(2)));
        assert_eq!(at_lane(&shifted, 5, 8, 0), Expr::Binary(BinOp::Shr, Box::new(add(add(mul(ax(1), Expr::Int(18)), ax(2)), Expr::Int(2))), Box::new(Expr::Int(2))));
        assert_eq!(at_lane(&add(ax(1), add(ax(2), ax(3))), 5, 8, 0), add(ax(1), add(ax(2), ax(3))));
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
