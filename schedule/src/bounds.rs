//! Compile-time proof that a kernel reads in bounds and never divides by
//! zero, so code generators may drop their run-time checks (wgpu's
//! "trusted" shader modules).
//!
//! The proof is interval arithmetic over the stage's index expressions:
//! each stage axis lies in `0..extent` (the schedule's guards keep every
//! evaluated point inside the stage's iteration space), and each bound is a
//! polynomial of symbolic dims ([`Dim`]), compared by checking that the
//! difference has no negative coefficient once every symbol is written
//! `1 + u` with `u >= 0`. The proof therefore holds for **every binding of
//! the symbols to values of at least 1**; executors that run proven kernels
//! unchecked must refuse a symbol bound to 0 (a concatenation with an empty
//! part really does read element -1 of it, and checked code hides that).
//!
//! Selects evaluate both arms, so a load inside an arm must be in bounds
//! without the select's condition; an *index* computed by a select (RoPE's
//! partner element, a concatenation's part) takes the condition into
//! account for its value. What is not understood (a loaded value used as an
//! index without a clamp, division by a symbolic value not known to be
//! positive) is not proven, and the kernel keeps its checks.

use kiln_dsl::{product, BinOp, DType, Dim, Expr};

/// Closed interval of an integer expression: `None` is unbounded.
#[derive(Clone, Debug, PartialEq)]
struct Range {
    lo: Option<Dim>,
    hi: Option<Dim>,
}

impl Range {
    fn unknown() -> Range {
        Range { lo: None, hi: None }
    }

    fn exact(d: Dim) -> Range {
        Range { lo: Some(d.clone()), hi: Some(d) }
    }

    fn consts(lo: i64, hi: i64) -> Range {
        Range { lo: Some(Dim::new(lo)), hi: Some(Dim::new(hi)) }
    }

    fn constant(&self) -> Option<i64> {
        match (&self.lo, &self.hi) {
            (Some(l), Some(h)) if l == h => l.as_const(),
            _ => None,
        }
    }

    fn nonneg(&self) -> bool {
        self.lo.as_ref().is_some_and(|l| at_least(l, &Dim::new(0)))
    }
}

/// `p` with every symbol `s` written `1 + s`: a polynomial in values >= 0.
fn shifted(p: &Dim) -> Dim {
    let mut out = Dim::new(0);
    for (mono, c) in p.terms() {
        out = &out + &mono.iter().fold(Dim::new(c), |t, s| &t * &(&Dim::sym(s) + &Dim::new(1)));
    }
    out
}

/// Whether `p >= 0` for every binding of its symbols to values >= 1.
fn nonneg(p: &Dim) -> bool {
    let q = shifted(p);
    let nonneg = q.terms().all(|(_, c)| c >= 0);
    nonneg
}

/// The least value of `p` over symbols >= 1 where it grows with every
/// symbol (its value with every symbol at 1).
fn least(p: &Dim) -> Option<i64> {
    let mut constant = 0;
    for (mono, c) in shifted(p).terms() {
        if mono.is_empty() {
            constant = c;
        } else if c < 0 {
            return None;
        }
    }
    Some(constant)
}

/// Whether `a >= b` for every binding of the symbols to values >= 1.
fn at_least(a: &Dim, b: &Dim) -> bool {
    nonneg(&(a - b))
}

fn lift(a: &Option<Dim>, b: &Option<Dim>, f: impl Fn(&Dim, &Dim) -> Dim) -> Option<Dim> {
    Some(f(a.as_ref()?, b.as_ref()?))
}

/// The smaller of two lower or upper bounds where provably ordered; for a
/// bound that only has to be sound on one side, `either` returns whichever
/// is known.
fn smaller(a: &Option<Dim>, b: &Option<Dim>) -> Option<Dim> {
    let (x, y) = (a.as_ref()?, b.as_ref()?);
    if at_least(y, x) {
        Some(x.clone())
    } else if at_least(x, y) {
        Some(y.clone())
    } else {
        None
    }
}

fn larger(a: &Option<Dim>, b: &Option<Dim>) -> Option<Dim> {
    let (x, y) = (a.as_ref()?, b.as_ref()?);
    if at_least(x, y) {
        Some(x.clone())
    } else if at_least(y, x) {
        Some(y.clone())
    } else {
        None
    }
}

/// An upper bound of the larger of two upper bounds: the larger where
/// ordered, else their sum where both are non-negative.
fn upper(a: &Option<Dim>, b: &Option<Dim>) -> Option<Dim> {
    let zero = Dim::new(0);
    larger(a, b).or_else(|| {
        let (x, y) = (a.as_ref()?, b.as_ref()?);
        (at_least(x, &zero) && at_least(y, &zero)).then(|| x + y)
    })
}

/// A bound that only has to hold on one side (`max`'s lower bound may be
/// either operand's): the tighter where ordered, else the known one,
/// preferring a constant.
fn either(a: &Option<Dim>, b: &Option<Dim>, tighter: impl Fn(&Option<Dim>, &Option<Dim>) -> Option<Dim>) -> Option<Dim> {
    match (a, b) {
        (Some(_), Some(y)) => tighter(a, b).or_else(|| if y.as_const().is_some() { b.clone() } else { a.clone() }),
        (Some(_), None) => a.clone(),
        (None, _) => b.clone(),
    }
}

/// `floor(p / c)` for `c > 0` where exact as a polynomial: every
/// non-constant coefficient a multiple of `c`.
fn div_floor(p: &Dim, c: i64) -> Option<Dim> {
    let mut q = Dim::new(0);
    for (mono, k) in p.terms() {
        let part = if mono.is_empty() {
            Dim::new(k.div_euclid(c))
        } else if k % c == 0 {
            mono.iter().fold(Dim::new(k / c), |t, s| &t * &Dim::sym(s))
        } else {
            return None;
        };
        q = &q + &part;
    }
    Some(q)
}

/// Bytes of storage of a tensor, where known as a polynomial.
fn storage_bytes(dtype: DType, shape: &[Dim]) -> Option<Dim> {
    if !dtype.is_quantized() {
        return Some(&product(shape) * &Dim::new(dtype.block_bytes() as i64));
    }
    let (last, rows) = shape.split_last()?;
    let n = last.as_const()?;
    let block = dtype.block_len() as i64;
    (n % block == 0).then(|| &product(rows) * &Dim::new(n / block * dtype.block_bytes() as i64))
}

struct Prover<'a> {
    sources: &'a [(DType, Vec<Dim>)],
    /// The first thing not proven.
    failure: Option<String>,
}

impl Prover<'_> {
    fn fail(&mut self, what: impl FnOnce() -> String) {
        if self.failure.is_none() {
            self.failure = Some(what());
        }
    }

    fn within(&mut self, r: &Range, len: &Dim, what: impl Fn() -> String) {
        let below = r.hi.as_ref().is_some_and(|h| at_least(&(len - &Dim::new(1)), h));
        if !r.nonneg() || !below {
            self.fail(|| format!("{} (index in {}..={}, length {len})", what(), show(&r.lo), show(&r.hi)));
        }
    }

    /// The range of `e`'s value with stage axes in `axes`; loads met on
    /// the way are checked when `check` (against `axes` as given: a select's
    /// arms are evaluated whatever its condition).
    fn range(&mut self, e: &Expr, axes: &[Range], check: bool) -> Range {
        match e {
            Expr::Int(v) => Range::exact(Dim::new(*v)),
            Expr::Dim(d) => Range::exact(d.clone()),
            // an axis not given is a loop variable: never negative
            Expr::Axis(a) => axes.get(*a as usize).cloned().unwrap_or(Range { lo: Some(Dim::new(0)), hi: None }),
            Expr::Float(_) => Range::unknown(),
            Expr::Load { src, index } => {
                let ranges: Vec<Range> = index.iter().map(|i| self.range(i, axes, check)).collect();
                if check {
                    match self.sources.get(*src as usize) {
                        Some((_, shape)) if shape.len() == ranges.len() => {
                            for (a, (r, len)) in ranges.iter().zip(shape).enumerate() {
                                self.within(r, len, || format!("load of s{src} along axis {a}"));
                            }
                        }
                        _ => self.fail(|| format!("load of s{src} with {} indices", ranges.len())),
                    }
                }
                Range::unknown()
            }
            Expr::LoadByte { src, offset, signed } => {
                self.raw_load(*src, offset, 1, axes, check);
                if *signed {
                    Range::consts(-128, 127)
                } else {
                    Range::consts(0, 255)
                }
            }
            Expr::LoadHalf { src, offset } => {
                self.raw_load(*src, offset, 2, axes, check);
                Range::unknown()
            }
            Expr::Unary(_, a) | Expr::Cast(_, a) => {
                self.range(a, axes, check);
                Range::unknown()
            }
            Expr::MulAdd(a, b, c) => {
                for x in [a, b, c] {
                    self.range(x, axes, check);
                }
                Range::unknown()
            }
            Expr::Select(c, a, b) => {
                self.range(c, axes, check);
                // the value is the chosen arm's: refine the axes by the
                // condition; but loads in either arm run whatever the
                // condition, so they are checked on the unrefined axes
                // (each arm walked once more only to check: walking it
                // for its unrefined range too would double the work per
                // nesting level, 2^n for a concat of n parts)
                let (when, unless) = refine(c, axes);
                let mut arm = |x: &Expr, refined: Option<Vec<Range>>| match refined {
                    Some(r) => {
                        if check {
                            self.range(x, axes, true);
                        }
                        self.range(x, &r, false)
                    }
                    None => self.range(x, axes, check),
                };
                let (ra, rb) = (arm(a, when), arm(b, unless));
                Range { lo: smaller(&ra.lo, &rb.lo), hi: upper(&ra.hi, &rb.hi) }
            }
            Expr::Binary(op, a, b) => {
                let (x, y) = (self.range(a, axes, check), self.range(b, axes, check));
                // float division needs no proof (IEEE: inf or NaN, never a trap)
                let integer = self.integer(a);
                self.binary(*op, &x, &y, check && integer)
            }
        }
    }

    /// Whether `e` computes in integers (a kind error counts as not: the
    /// stage check reports it).
    fn integer(&self, e: &Expr) -> bool {
        let dtypes: Vec<DType> = self.sources.iter().map(|s| s.0).collect();
        e.kind(&dtypes) == Ok(kiln_dsl::ScalarKind::Int)
    }

    fn raw_load(&mut self, src: u32, offset: &Expr, width: i64, axes: &[Range], check: bool) {
        let r = self.range(offset, axes, check);
        if !check {
            return;
        }
        match self.sources.get(src as usize).and_then(|(d, s)| storage_bytes(*d, s)) {
            Some(bytes) => self.within(&r, &(&bytes - &Dim::new(width - 1)), || format!("{width}-byte load of s{src}")),
            None => self.fail(|| format!("raw load of s{src}, whose size is not known")),
        }
    }

    fn binary(&mut self, op: BinOp, x: &Range, y: &Range, check: bool) -> Range {
        match op {
            BinOp::Add => Range { lo: lift(&x.lo, &y.lo, |a, b| a + b), hi: lift(&x.hi, &y.hi, |a, b| a + b) },
            BinOp::Sub => Range { lo: lift(&x.lo, &y.hi, |a, b| a - b), hi: lift(&x.hi, &y.lo, |a, b| a - b) },
            BinOp::Mul => match (x.constant(), y.constant()) {
                (Some(c), _) => scale(y, c),
                (_, Some(c)) => scale(x, c),
                _ if x.nonneg() && y.nonneg() => Range { lo: lift(&x.lo, &y.lo, |a, b| a * b), hi: lift(&x.hi, &y.hi, |a, b| a * b) },
                _ => Range::unknown(),
            },
            BinOp::Div | BinOp::Rem => {
                let positive = y.lo.as_ref().is_some_and(|l| at_least(l, &Dim::new(1)));
                if check && !positive {
                    self.fail(|| format!("division by a value in {}..={}, not proven positive", show(&y.lo), show(&y.hi)));
                }
                if !positive || !x.nonneg() {
                    return Range::unknown();
                }
                match (op, y.constant()) {
                    (BinOp::Div, Some(c)) => Range {
                        lo: x.lo.as_ref().and_then(|l| div_floor(l, c).or_else(|| least(l).map(|m| Dim::new(m.div_euclid(c))))).or(Some(Dim::new(0))),
                        hi: x.hi.as_ref().map(|h| div_floor(h, c).unwrap_or_else(|| h.clone())),
                    },
                    (BinOp::Div, None) => Range { lo: Some(Dim::new(0)), hi: x.hi.clone() },
                    // x % y < y, and x % y <= x
                    _ => Range { lo: Some(Dim::new(0)), hi: either(&x.hi, &y.hi.as_ref().map(|h| h - &Dim::new(1)), smaller) },
                }
            }
            BinOp::Max => Range { lo: either(&x.lo, &y.lo, larger), hi: upper(&x.hi, &y.hi) },
            BinOp::Min => Range { lo: smaller(&x.lo, &y.lo), hi: either(&x.hi, &y.hi, smaller) },
            BinOp::Shr => match y.constant() {
                Some(k) if (0..31).contains(&k) && x.nonneg() => self.binary(BinOp::Div, x, &Range::exact(Dim::new(1 << k)), false),
                _ => Range::unknown(),
            },
            BinOp::And => match (x.constant(), y.constant()) {
                (_, Some(m)) | (Some(m), _) if m >= 0 => Range::consts(0, m),
                _ => Range::unknown(),
            },
            BinOp::Lt | BinOp::Le | BinOp::Eq => Range::consts(0, 1),
        }
    }
}

fn scale(r: &Range, c: i64) -> Range {
    let k = Dim::new(c);
    let (lo, hi) = (r.lo.as_ref().map(|l| l * &k), r.hi.as_ref().map(|h| h * &k));
    if c >= 0 {
        Range { lo, hi }
    } else {
        Range { lo: hi, hi: lo }
    }
}

fn show(d: &Option<Dim>) -> String {
    d.as_ref().map_or("?".into(), |d| d.to_string())
}

/// The axes where `cond` holds and where it does not, for the conditions
/// that bound one axis (`axis < e`, `axis <= e`, `e < axis`, `axis % m == r`
/// with constant bounds); `None` where nothing is learnt.
fn refine(cond: &Expr, axes: &[Range]) -> (Option<Vec<Range>>, Option<Vec<Range>>) {
    let mut p = Prover { sources: &[], failure: None };
    let with = |a: u32, lo: Option<Dim>, hi: Option<Dim>| {
        let mut v = axes.to_vec();
        let r = &mut v[a as usize];
        // either bound is sound; keep the tighter where ordered
        r.lo = either(&r.lo, &lo, larger);
        r.hi = either(&r.hi, &hi, smaller);
        Some(v)
    };
    let one = Dim::new(1);
    match cond {
        Expr::Binary(op @ (BinOp::Lt | BinOp::Le), x, y) => match (&**x, &**y) {
            (Expr::Axis(a), bound) if (*a as usize) < axes.len() => {
                let b = p.range(bound, axes, false);
                let strict = *op == BinOp::Lt;
                // a < b: a <= b.hi - 1; otherwise a >= b.lo
                let hi = b.hi.map(|h| if strict { &h - &one } else { h });
                let lo = b.lo.map(|l| if strict { l } else { &l + &one });
                (with(*a, None, hi), with(*a, lo, None))
            }
            (bound, Expr::Axis(a)) if (*a as usize) < axes.len() => {
                let b = p.range(bound, axes, false);
                let strict = *op == BinOp::Lt;
                // b < a: a >= b.lo + 1; otherwise a <= b.hi
                let lo = b.lo.map(|l| if strict { &l + &one } else { l });
                let hi = b.hi.map(|h| if strict { h } else { &h - &one });
                (with(*a, lo, None), with(*a, None, hi))
            }
            _ => (None, None),
        },
        Expr::Binary(BinOp::Eq, x, y) => match (&**x, &**y) {
            (Expr::Binary(BinOp::Rem, v, m), Expr::Int(r)) => match (&**v, &**m) {
                (Expr::Axis(a), Expr::Int(m)) if *m > 0 && (*a as usize) < axes.len() => {
                    let (Some(lo), Some(hi)) = (axes[*a as usize].lo.as_ref().and_then(Dim::as_const), axes[*a as usize].hi.as_ref().and_then(Dim::as_const)) else { return (None, None) };
                    let is = |v: i64| v.rem_euclid(*m) == *r;
                    let first = |range: &mut dyn Iterator<Item = i64>, want: bool| range.take(*m as usize + 1).find(|&v| is(v) == want);
                    let bounds = |want: bool| -> Option<Vec<Range>> {
                        let l = first(&mut (lo..=hi), want)?;
                        let h = first(&mut (lo..=hi).rev(), want)?;
                        with(*a, Some(Dim::new(l)), Some(Dim::new(h)))
                    };
                    (bounds(true), bounds(false))
                }
                _ => (None, None),
            },
            _ => (None, None),
        },
        _ => (None, None),
    }
}

/// Why some load of `body` may fall outside its source, or some division
/// may divide by zero, at a point of the stage's iteration space (axes in
/// `0..extents[axis]`), for symbols bound to 1 or more; `Ok` when every
/// load and division is proven safe.
pub fn prove_in_bounds(body: &Expr, extents: &[Dim], sources: &[(DType, Vec<Dim>)]) -> Result<(), String> {
    let axes: Vec<Range> = extents.iter().map(|e| Range { lo: Some(Dim::new(0)), hi: Some(e - &Dim::new(1)) }).collect();
    let mut p = Prover { sources, failure: None };
    p.range(body, &axes, true);
    p.failure.map_or(Ok(()), Err)
}

/// Why some integer division in `e` (over loop variables, nothing known of
/// them, reading sources of these types) may divide by zero; `Ok` when
/// every integer divisor is proven at least 1 for symbols bound to 1 or
/// more.
pub fn prove_divisors(e: &Expr, sources: &[DType]) -> Result<(), String> {
    let typed: Vec<(DType, Vec<Dim>)> = sources.iter().map(|d| (*d, Vec::new())).collect();
    let mut problem = Ok(());
    e.visit(&mut |x| {
        if let Expr::Binary(BinOp::Div | BinOp::Rem, a, d) = x {
            let mut p = Prover { sources: &typed, failure: None };
            if !p.integer(a) {
                return;
            }
            let r = p.range(d, &[], false);
            if problem.is_ok() && !r.lo.as_ref().is_some_and(|l| at_least(l, &Dim::new(1))) {
                problem = Err(format!("division by {d:?}, not proven positive"));
            }
        }
    });
    problem
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_dsl::{ax, dim, int, load, select};

    fn f32s(shape: &[Dim]) -> (DType, Vec<Dim>) {
        (DType::F32, shape.to_vec())
    }

    #[test]
    fn polynomials_compare_for_symbols_of_at_least_one() {
        let (s, t) = (Dim::sym("s"), Dim::sym("t"));
        assert!(nonneg(&(&s - &Dim::new(1))));
        assert!(!nonneg(&(&s - &Dim::new(2))));
        assert!(nonneg(&(&(&s * &t) - &s)));
        assert!(!nonneg(&(&t - &s)));
        assert_eq!(div_floor(&(&(&s * &Dim::new(9)) - &Dim::new(1)), 9), Some(&s - &Dim::new(1)));
        assert_eq!(div_floor(&(&s + &Dim::new(1)), 9), None);
        // a tiled loop's trip count ceil(n / 16) is at least 1
        let n = Dim::sym("n");
        assert_eq!(prove_divisors(&Expr::Axis(0).div(dim(&(&n + &Dim::new(15))).div(int(16))), &[]), Ok(()));
    }

    #[test]
    fn a_concat_of_many_parts_is_proven_in_time_linear_in_its_parts() {
        // a concat's body nests one select per part; each arm used to be
        // walked twice per level (2^parts)
        let parts = 48;
        let mut sources = Vec::new();
        let mut body = None;
        for p in (0..parts).rev() {
            let shape = [Dim::sym(&format!("t{p}")), Dim::new(64)];
            let end = (0..=p).fold(Dim::new(0), |acc, q| &acc + &Dim::sym(&format!("t{q}")));
            let start = &end - &shape[0];
            let local = ax(0).sub(dim(&start)).max(int(0)).min(dim(&shape[0]).sub(int(1)));
            let part = load(p, vec![local, ax(1)]);
            body = Some(match body {
                None => part,
                Some(rest) => select(ax(0).lt(dim(&end)), part, rest),
            });
            sources.push(f32s(&shape));
        }
        sources.reverse();
        let total = (0..parts).fold(Dim::new(0), |acc, q| &acc + &Dim::sym(&format!("t{q}")));
        let start = std::time::Instant::now();
        assert_eq!(prove_in_bounds(&body.unwrap(), &[total, Dim::new(64)], &sources), Ok(()));
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "took {:?}", start.elapsed());
    }

    #[test]
    fn plain_slices_reshapes_and_clamped_gathers_are_proven() {
        let (s, n) = (Dim::sym("s"), Dim::new(64));
        // a transpose-like read and a reshape's flat index
        let ext = [s.clone(), Dim::new(9), n.clone()];
        assert_eq!(prove_in_bounds(&load(0, vec![ax(1), ax(0), ax(2)]), &ext, &[f32s(&[Dim::new(9), s.clone(), n.clone()])]), Ok(()));
        let flat = ax(0).mul(int(576)).add(ax(1).mul(int(64))).add(ax(2));
        let reshaped = load(0, vec![flat.clone().div(int(576)), flat.rem(int(576))]);
        assert_eq!(prove_in_bounds(&reshaped, &ext, &[f32s(&[s.clone(), Dim::new(576)])]), Ok(()));
        // a slice past the end is refused, one inside proven
        let slice = |start: i64| load(0, vec![ax(0).add(int(start))]);
        assert_eq!(prove_in_bounds(&slice(4), &[Dim::new(4)], &[f32s(&[Dim::new(8)])]), Ok(()));
        assert!(prove_in_bounds(&slice(5), &[Dim::new(4)], &[f32s(&[Dim::new(8)])]).unwrap_err().contains("s0 along axis 0"));
        // a gather by loaded ids: proven only when clamped
        let ids = load(1, vec![ax(0)]);
        let table = [f32s(&[Dim::new(100), n.clone()]), (DType::I32, vec![s.clone()])];
        assert!(prove_in_bounds(&load(0, vec![ids.clone(), ax(1)]), &[s.clone(), n.clone()], &table).is_err());
        let clamped = ids.max(int(0)).min(int(99));
        assert_eq!(prove_in_bounds(&load(0, vec![clamped, ax(1)]), &[s.clone(), n.clone()], &table), Ok(()));
    }

    #[test]
    fn selects_bound_the_index_they_choose_but_not_the_loads_in_their_arms() {
        let d = Dim::new(64);
        // RoPE's partner: d + 1 for even d, d - 1 for odd
        let partner = select(ax(0).rem(int(2)).eq(int(0)), ax(0).add(int(1)), ax(0).sub(int(1)));
        assert_eq!(prove_in_bounds(&load(0, vec![partner]), &[d.clone()], &[f32s(&[d.clone()])]), Ok(()));
        // a concatenation of [t] and [s] along its axis, each part's index clamped
        let (t, s) = (Dim::sym("t"), Dim::sym("s"));
        let second = ax(0).sub(dim(&t)).max(int(0)).min(dim(&s).sub(int(1)));
        let first = ax(0).max(int(0)).min(dim(&t).sub(int(1)));
        let concat = select(ax(0).lt(dim(&t)), load(0, vec![first.clone()]), load(1, vec![second.clone()]));
        assert_eq!(prove_in_bounds(&concat, &[&t + &s], &[f32s(&[t.clone()]), f32s(&[s.clone()])]), Ok(()));
        // unclamped, the second part's load runs at -t when the first is chosen
        let unclamped = select(ax(0).lt(dim(&t)), load(0, vec![first]), load(1, vec![ax(0).sub(dim(&t))]));
        assert!(prove_in_bounds(&unclamped, &[&t + &s], &[f32s(&[t.clone()]), f32s(&[s.clone()])]).unwrap_err().contains("s1"));
        // but as an index, the select's condition bounds each arm
        let chosen = load(0, vec![select(ax(0).lt(dim(&t)), ax(0), ax(0).sub(dim(&t)))]);
        assert!(prove_in_bounds(&chosen, &[&t + &s], &[f32s(&[&t + &s])]).is_ok());
    }

    #[test]
    fn divisions_need_a_divisor_known_positive() {
        let n = Dim::sym("n");
        assert_eq!(prove_divisors(&Expr::Axis(3).div(dim(&n)).rem(int(4)), &[]), Ok(()));
        assert!(prove_divisors(&Expr::Axis(3).div(dim(&(&n - &Dim::new(1)))), &[]).is_err());
        assert!(prove_divisors(&Expr::Axis(3).div(Expr::Axis(2)), &[]).is_err());
        // float division needs no proof
        let x = load(0, vec![ax(0)]);
        assert_eq!(prove_divisors(&x.clone().div(load(0, vec![ax(1)])), &[DType::F32]), Ok(()));
        assert_eq!(prove_in_bounds(&x.clone().div(x.clone()), &[n.clone()], &[f32s(&[n.clone()])]), Ok(()));
        assert!(prove_in_bounds(&load(0, vec![ax(0).div(ax(1))]), &[n.clone(), n.clone()], &[f32s(&[n.clone()])]).unwrap_err().contains("division"));
    }

    #[test]
    fn quantized_raw_loads_are_checked_against_the_storage() {
        // a Q4_1 row's f16 minimum at byte 2 of block k / 32
        let (rows, k) = (Dim::sym("rows"), 4096i64);
        let half = |off: i64| Expr::LoadHalf { src: 0, offset: Box::new(ax(0).mul(int(k / 32)).add(ax(1).div(int(32))).mul(int(20)).add(int(off))) };
        let src = [(DType::Q4_1, vec![rows.clone(), Dim::new(k)])];
        assert_eq!(prove_in_bounds(&half(2), &[rows.clone(), Dim::new(k)], &src), Ok(()));
        assert!(prove_in_bounds(&half(19), &[rows.clone(), Dim::new(k)], &src).is_err());
    }
}
