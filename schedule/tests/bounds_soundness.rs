//! The bounds prover against brute force: random index expressions (the
//! forms op definitions use: affine arithmetic, division and remainder,
//! clamps, selects on an axis) over two axes with constant and symbolic
//! extents. Whatever `prove_in_bounds` proves must hold at every point for
//! every binding of the symbols from 1 to 5, with no division by zero.

use kiln_dsl::{ax, dim, int, load, select, BinOp, Bindings, DType, Dim, Expr};
use kiln_schedule::prove_in_bounds;
use proptest::prelude::*;
use proptest::strategy::ValueTree;

fn extent() -> impl Strategy<Value = Dim> {
    prop_oneof![
        (1i64..6).prop_map(Dim::new),
        Just(Dim::sym("n")),
        Just(Dim::sym("m")),
        (0i64..3).prop_map(|c| &Dim::sym("n") + &Dim::new(c)),
        Just(&Dim::sym("n") * &Dim::sym("m")),
    ]
}

fn index() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![(0usize..2).prop_map(ax), (-2i64..4).prop_map(int), extent().prop_map(|d| dim(&d))];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.add(b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.sub(b)),
            (inner.clone(), -2i64..4).prop_map(|(a, c)| a.mul(int(c))),
            (inner.clone(), prop_oneof![(1i64..5).prop_map(int), extent().prop_map(|d| dim(&d)), (0usize..2).prop_map(ax)]).prop_map(|(a, d)| a.div(d)),
            (inner.clone(), prop_oneof![(1i64..5).prop_map(int), extent().prop_map(|d| dim(&d))]).prop_map(|(a, d)| a.rem(d)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.max(b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.min(b)),
            (0usize..2, inner.clone(), inner.clone(), inner.clone()).prop_map(|(i, bound, a, b)| select(ax(i).lt(bound), a, b)),
            (0usize..2, 2i64..4, 0i64..2, inner.clone(), inner.clone()).prop_map(|(i, m, r, a, b)| select(ax(i).rem(int(m)).eq(int(r)), a, b)),
            // a concatenation's index into one part or the other
            (0usize..2, extent()).prop_map(|(i, d)| select(ax(i).lt(dim(&d)), ax(i), ax(i).sub(dim(&d)))),
            (0usize..2, extent()).prop_map(|(i, d)| select(ax(i).lt(dim(&d)), ax(i).sub(dim(&d)), ax(i))),
            (0usize..2, extent(), -1i64..2, any::<bool>()).prop_map(|(i, d, c, le)| {
                let cond = if le { ax(i).le(dim(&d)) } else { ax(i).lt(dim(&d)) };
                select(cond, dim(&d).sub(ax(i)).add(int(c)), ax(i).sub(dim(&d)).add(int(c)))
            }),
        ]
    })
}

/// `e` at a point, as i32 shaders compute it; None on division by zero.
fn eval(e: &Expr, point: &[i64], b: &Bindings) -> Option<i64> {
    Some(match e {
        Expr::Int(v) => *v,
        Expr::Dim(d) => d.eval(b).ok()?,
        Expr::Axis(a) => point[*a as usize],
        Expr::Select(c, x, y) => {
            // both arms run, as in a shader
            let (c, x, y) = (eval(c, point, b)?, eval(x, point, b)?, eval(y, point, b)?);
            if c != 0 {
                x
            } else {
                y
            }
        }
        Expr::Binary(op, x, y) => {
            let (x, y) = (eval(x, point, b)?, eval(y, point, b)?);
            match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Div => x.checked_div(y)?,
                BinOp::Rem => x.checked_rem(y)?,
                BinOp::Max => x.max(y),
                BinOp::Min => x.min(y),
                BinOp::Lt => (x < y) as i64,
                BinOp::Le => (x <= y) as i64,
                BinOp::Eq => (x == y) as i64,
                BinOp::Shr | BinOp::And => unreachable!("not generated"),
            }
        }
        other => unreachable!("not generated: {other:?}"),
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]
    #[test]
    fn what_is_proven_holds_at_every_point(i in index(), e0 in extent(), e1 in extent(), len in extent()) {
        let body = load(0, vec![i.clone()]);
        if prove_in_bounds(&body, &[e0.clone(), e1.clone()], &[(DType::F32, vec![len.clone()])]).is_ok() {
            for n in 1..=5 {
                for m in 1..=5 {
                    let b = Bindings::from([("n".to_string(), n), ("m".to_string(), m)]);
                    let (x0, x1, l) = (e0.eval(&b).unwrap(), e1.eval(&b).unwrap(), len.eval(&b).unwrap());
                    for p0 in 0..x0 {
                        for p1 in 0..x1 {
                            let v = eval(&i, &[p0, p1], &b);
                            prop_assert!(v.is_some_and(|v| (0..l).contains(&v)), "{i:?} at ({p0}, {p1}), n={n} m={m}: {v:?} outside 0..{l}");
                        }
                    }
                }
            }
        }
    }
}

/// Not vacuous: a good share of such expressions is proven, and indices
/// that really fall outside are not.
#[test]
fn the_prover_proves_a_share_and_refuses_the_out_of_bounds() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut proven, mut tried) = (0, 0);
    for _ in 0..2000 {
        let i = index().new_tree(&mut runner).unwrap().current();
        tried += 1;
        proven += prove_in_bounds(&load(0, vec![i]), &[Dim::sym("n"), Dim::new(3)], &[(DType::F32, vec![Dim::sym("n")])]).is_ok() as usize;
    }
    eprintln!("{proven} of {tried} proven");
    assert!(proven * 20 > tried, "only {proven} of {tried} proven");
    // one past the end, or one before the start, at some point
    let ext = [Dim::sym("n"), Dim::new(3)];
    let src = [(DType::F32, vec![Dim::sym("n")])];
    assert!(prove_in_bounds(&load(0, vec![ax(0).add(int(1))]), &ext, &src).is_err());
    assert!(prove_in_bounds(&load(0, vec![ax(0).sub(ax(1))]), &ext, &src).is_err());
    assert!(prove_in_bounds(&load(0, vec![ax(0).add(ax(1)).min(dim(&Dim::sym("n")))]), &ext, &src).is_err());
    assert!(prove_in_bounds(&load(0, vec![ax(0).add(ax(1)).min(dim(&Dim::sym("n")).sub(int(1)))]), &ext, &src).is_ok());
}
