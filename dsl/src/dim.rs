//! Tensor dimensions: constants, symbols bound at run time, and polynomials of them.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::{Add, Mul, Sub};

/// Values of symbolic dimensions, bound when a function runs.
pub type Bindings = HashMap<String, i64>;

/// A dimension: an integer polynomial over named symbols such as `seq_len`.
///
/// The canonical form (a sum of monomials with non-zero coefficients) makes
/// structural equality mean mathematical equality, so `seq*9 + 0` equals
/// `9*seq` and shape checks work on symbolic shapes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dim {
    /// monomial (sorted symbol names, repeated for powers) -> coefficient
    terms: BTreeMap<Vec<String>, i64>,
}

impl Dim {
    /// A constant dimension.
    pub fn new(c: i64) -> Dim {
        let mut terms = BTreeMap::new();
        if c != 0 {
            terms.insert(Vec::new(), c);
        }
        Dim { terms }
    }

    /// A symbolic dimension bound at run time.
    pub fn sym(name: &str) -> Dim {
        Dim { terms: BTreeMap::from([(vec![name.to_string()], 1)]) }
    }

    /// The value if the dimension is a constant.
    pub fn as_const(&self) -> Option<i64> {
        match self.terms.len() {
            0 => Some(0),
            1 => self.terms.get(&Vec::new()).copied(),
            _ => None,
        }
    }

    /// The symbol name if the dimension is exactly one symbol.
    pub fn as_sym(&self) -> Option<&str> {
        match self.terms.iter().next() {
            Some((m, 1)) if self.terms.len() == 1 && m.len() == 1 => Some(&m[0]),
            _ => None,
        }
    }

    /// Symbols this dimension mentions.
    pub fn symbols(&self) -> impl Iterator<Item = &str> {
        self.terms.keys().flatten().map(String::as_str)
    }

    /// The value under `bindings`; `Err(name)` names an unbound symbol.
    pub fn eval(&self, bindings: &Bindings) -> Result<i64, String> {
        let mut total = 0i64;
        for (mono, c) in &self.terms {
            let mut v = *c;
            for s in mono {
                v *= *bindings.get(s).ok_or_else(|| s.clone())?;
            }
            total += v;
        }
        Ok(total)
    }

    /// Monomials and coefficients, for code generators that emit the polynomial.
    pub fn terms(&self) -> impl Iterator<Item = (&[String], i64)> {
        self.terms.iter().map(|(m, c)| (m.as_slice(), *c))
    }
}

impl From<i64> for Dim {
    fn from(c: i64) -> Dim {
        Dim::new(c)
    }
}
impl From<usize> for Dim {
    fn from(c: usize) -> Dim {
        Dim::new(c as i64)
    }
}
impl From<i32> for Dim {
    fn from(c: i32) -> Dim {
        Dim::new(c as i64)
    }
}
impl From<&str> for Dim {
    fn from(s: &str) -> Dim {
        Dim::sym(s)
    }
}

impl Add for &Dim {
    type Output = Dim;
    fn add(self, rhs: &Dim) -> Dim {
        let mut terms = self.terms.clone();
        for (m, c) in &rhs.terms {
            let e = terms.entry(m.clone()).or_insert(0);
            *e += c;
            if *e == 0 {
                terms.remove(m);
            }
        }
        Dim { terms }
    }
}
impl Sub for &Dim {
    type Output = Dim;
    fn sub(self, rhs: &Dim) -> Dim {
        self + &(rhs * &Dim::new(-1))
    }
}
impl Mul for &Dim {
    type Output = Dim;
    fn mul(self, rhs: &Dim) -> Dim {
        let mut out = Dim::new(0);
        for (ma, ca) in &self.terms {
            for (mb, cb) in &rhs.terms {
                let mut m: Vec<String> = ma.iter().chain(mb).cloned().collect();
                m.sort();
                out = &out + &Dim { terms: BTreeMap::from([(m, ca * cb)]) };
            }
        }
        out
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.terms.is_empty() {
            return f.write_str("0");
        }
        for (i, (m, c)) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(if *c < 0 { " - " } else { " + " })?;
            } else if *c < 0 {
                f.write_str("-")?;
            }
            let c = c.abs();
            if m.is_empty() {
                write!(f, "{c}")?;
            } else {
                if c != 1 {
                    write!(f, "{c}*")?;
                }
                f.write_str(&m.join("*"))?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// Product of dimensions.
pub fn product(dims: &[Dim]) -> Dim {
    dims.iter().fold(Dim::new(1), |acc, d| &acc * d)
}

/// `[a, b, c]` text form of a shape.
pub fn shape_str(dims: &[Dim]) -> String {
    let parts: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polynomials_are_canonical() {
        let s = Dim::sym("seq");
        let a = &(&s * &Dim::new(9)) + &Dim::new(0);
        let b = &Dim::new(9) * &s;
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "9*seq");
        assert_eq!((&a - &b).as_const(), Some(0));
        let bind = Bindings::from([("seq".to_string(), 7)]);
        assert_eq!(a.eval(&bind), Ok(63));
        assert_eq!(a.eval(&Bindings::new()), Err("seq".to_string()));
        assert_eq!(Dim::sym("t").as_sym(), Some("t"));
        assert_eq!((&Dim::sym("t") + &Dim::new(1)).as_sym(), None);
    }
}
