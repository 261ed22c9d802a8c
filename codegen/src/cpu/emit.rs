//! Loop nest → Cranelift IR.
//!
//! Values are tracked in *lane form* while emitting ([`V`]): a uniform scalar,
//! a compile-time integer, an affine run of lanes `base + stride * lane`, a
//! set of per-lane scalars, or an `f32x4` vector. Loads whose flat index is
//! affine with stride 1 become vector loads, stride 0 become scalar loads
//! splatted, anything else a gather of scalar loads — so vectorization works
//! for any schedule and is fast for the contiguous ones.
//!
//! Tail handling: at the start of the innermost run of unrolled/vectorized
//! loops, the bound checks are evaluated at the last iteration of that run;
//! when they hold (the common case) the *fast* copy runs without checks,
//! otherwise a *slow* copy runs with the vector loop scalarized and every
//! point checked. Guards are monotone in those loops (checked by validation),
//! so the last iteration bounds them all.

use crate::error::CodegenError;
use cranelift_codegen::ir::{types, FuncRef, InstBuilder, MemFlagsData, Value};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_frontend::{FunctionBuilder, Variable};
use kiln_dsl::{BinOp, DType, Dim, Expr, ReduceOp, ScalarKind, UnOp};
use kiln_schedule::{LoopKind, Validated};
use std::collections::HashMap;

/// The f32 value of every f16 bit pattern. It lives as long as the
/// process, like the kernel cache, so compiled kernels embed its address.
pub(super) fn f16_table() -> &'static [f32] {
    static TABLE: std::sync::OnceLock<Vec<f32>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| (0..=u16::MAX).map(|b| half::f16::from_bits(b).to_f32()).collect())
}

/// f32 to IEEE binary16 bits (in an i32), rounding to nearest even, inline:
/// about 15 integer instructions and no branch (a call per element, as
/// before, spilled every live vector register around it). Overflow gives
/// infinity, NaN a quiet NaN, tiny values f16 subnormals (F. Giesen's
/// `float_to_half_fast3_rtne`).
pub(super) fn f32_to_f16_bits(b: &mut FunctionBuilder, x: Value) -> Value {
    let bits = b.ins().bitcast(types::I32, MemFlagsData::new(), x);
    let sign = b.ins().band_imm_u(bits, 0x8000_0000);
    let sign = b.ins().ushr_imm_u(sign, 16);
    let a = b.ins().band_imm_u(bits, 0x7fff_ffff);
    // normal results: rebias the exponent, round the 13 dropped bits to even
    let odd = b.ins().ushr_imm_u(a, 13);
    let odd = b.ins().band_imm_u(odd, 1);
    let biased = b.ins().iadd_imm_s(a, ((15 - 127) << 23) + 0xfff);
    let biased = b.ins().iadd(biased, odd);
    let normal = b.ins().ushr_imm_u(biased, 13);
    // subnormal results: let an f32 add with 0.5 round the mantissa
    let af = b.ins().bitcast(types::F32, MemFlagsData::new(), a);
    let half = b.ins().f32const(0.5);
    let sum = b.ins().fadd(af, half);
    let sum = b.ins().bitcast(types::I32, MemFlagsData::new(), sum);
    let subnormal = b.ins().iadd_imm_s(sum, -0x3f00_0000);
    let is_sub = b.ins().icmp_imm_u(IntCC::UnsignedLessThan, a, 113 << 23);
    let finite = b.ins().select(is_sub, subnormal, normal);
    // too large: infinity; NaN stays NaN
    let inf = b.ins().iconst(types::I32, 0x7c00);
    let nan = b.ins().iconst(types::I32, 0x7e00);
    let is_nan = b.ins().icmp_imm_u(IntCC::UnsignedGreaterThan, a, 0x7f80_0000);
    let special = b.ins().select(is_nan, nan, inf);
    let too_big = b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, a, (127 + 16) << 23);
    let r = b.ins().select(too_big, special, finite);
    b.ins().bor(r, sign)
}

/// `e^x` for an f32 or f32x4 `x`, inline: the polynomial of ARM's optimized
/// routines that llama.cpp's SIMD code uses (max. error 1.45 ulp + 0.5;
/// overflow to infinity above 88.38, underflow to zero below -103.97), so
/// softmax and SiLU compute what llama.cpp computes. `x = n ln2 + b` with
/// `n` rounded by the 1.5 * 2^23 shift, `e^b` by a degree-5 polynomial,
/// `2^n` put into the exponent bits; large `|n|` scales in two steps.
pub(super) fn exp_f32(b: &mut FunctionBuilder, x: Value, fma: bool) -> Value {
    let ty = b.func.dfg.value_type(x);
    let vector = ty.is_vector();
    let ity = if vector { types::I32X4 } else { types::I32 };
    let little = little();
    let fc = |b: &mut FunctionBuilder, v: f32| {
        let c = b.ins().f32const(v);
        if vector { b.ins().splat(types::F32X4, c) } else { c }
    };
    let ic = |b: &mut FunctionBuilder, v: u32| {
        let c = b.ins().iconst(types::I32, v as i64);
        if vector { b.ins().splat(types::I32X4, c) } else { c }
    };
    let mul_add = |b: &mut FunctionBuilder, x: Value, y: Value, z: Value| {
        if fma {
            b.ins().fma(x, y, z)
        } else {
            let p = b.ins().fmul(x, y);
            b.ins().fadd(p, z)
        }
    };
    let to_bits = |b: &mut FunctionBuilder, v: Value| b.ins().bitcast(ity, little, v);
    let from_bits = |b: &mut FunctionBuilder, v: Value| b.ins().bitcast(ty, little, v);
    let shift = fc(b, f32::from_bits(0x4b40_0000)); // 1.5 * 2^23
    let log2e = fc(b, f32::from_bits(0x3fb8_aa3b));
    let z = mul_add(b, x, log2e, shift);
    let n = b.ins().fsub(z, shift);
    let neg_n = b.ins().fneg(n);
    let ln2_hi = fc(b, f32::from_bits(0x3f31_7200));
    let ln2_lo = fc(b, f32::from_bits(0x35bf_be8e));
    let r = mul_add(b, neg_n, ln2_hi, x);
    let r = mul_add(b, neg_n, ln2_lo, r);
    let zb = to_bits(b, z);
    let e = b.ins().ishl_imm_u(zb, 23);
    let one_bits = ic(b, 0x3f80_0000);
    let k = b.ins().iadd(e, one_bits);
    let k = from_bits(b, k);
    let u = b.ins().fmul(r, r);
    let c4 = fc(b, f32::from_bits(0x3c07_2010));
    let c3 = fc(b, f32::from_bits(0x3d2b_9f17));
    let c2 = fc(b, f32::from_bits(0x3e2a_af33));
    let c1 = fc(b, f32::from_bits(0x3eff_fedb));
    let c0 = fc(b, f32::from_bits(0x3f7f_fff6));
    let hi = mul_add(b, c4, r, c3);
    let lo = mul_add(b, c2, r, c1);
    let p = mul_add(b, hi, u, lo);
    let c0r = b.ins().fmul(c0, r);
    let j = mul_add(b, p, u, c0r);
    let fast = mul_add(b, j, k, k);
    // |n| > 126: 2^n split as s1 * s2 so neither overflows; |n| > 192: s1^2
    let abs_n = b.ins().fabs(n);
    let c126 = fc(b, 126.0);
    let c192 = fc(b, 192.0);
    let zero = fc(b, 0.0);
    let big = b.ins().fcmp(FloatCC::GreaterThan, abs_n, c126);
    let huge = b.ins().fcmp(FloatCC::GreaterThan, abs_n, c192);
    let nonpos = b.ins().fcmp(FloatCC::LessThanOrEqual, n, zero);
    let g_on = ic(b, 0x8200_0000);
    let g_off = ic(b, 0);
    let select = |b: &mut FunctionBuilder, c: Value, x: Value, y: Value| {
        if vector {
            let t = b.func.dfg.value_type(x);
            let c = if b.func.dfg.value_type(c) == t { c } else { b.ins().bitcast(t, little, c) };
            b.ins().bitselect(c, x, y)
        } else {
            b.ins().select(c, x, y)
        }
    };
    let g = select(b, nonpos, g_on, g_off);
    let s1_bits = ic(b, 0x7f00_0000);
    let s1 = b.ins().iadd(g, s1_bits);
    let s1 = from_bits(b, s1);
    let s2 = b.ins().isub(e, g);
    let s2 = from_bits(b, s2);
    let scaled = mul_add(b, s2, j, s2);
    let scaled = b.ins().fmul(scaled, s1);
    let square = b.ins().fmul(s1, s1);
    let r = select(b, big, scaled, fast);
    select(b, huge, square, r)
}

/// Memory flags of a bitcast between vector types: lanes in little-endian
/// order.
pub(super) fn little() -> MemFlagsData {
    MemFlagsData::new().with_endianness(cranelift_codegen::ir::Endianness::Little)
}

/// Four f16 values at `addr + off` as f32x4 (one 8-byte load, widened,
/// converted by [`f16x4_to_f32x4`]).
pub(super) fn load_f16x4(b: &mut FunctionBuilder, c: HalfConsts, addr: Value, off: i32) -> Value {
    let four = b.ins().load(types::I64, MemFlagsData::new().with_notrap(), addr, off);
    let v = b.ins().scalar_to_vector(types::I64X2, four);
    let halves = b.ins().bitcast(types::I16X8, little(), v);
    let bits = b.ins().uwiden_low(halves);
    f16x4_to_f32x4(b, c, bits)
}

/// The i32x4 constants of [`f16x4_to_f32x4`], made once in the entry block
/// (a splat costs three instructions wherever it is rematerialized).
#[derive(Clone, Copy)]
pub(super) struct HalfConsts {
    sign: Value,
    magnitude: Value,
    exponent: Value,
    rebias: Value,
    one_exponent: Value,
    magic: Value,
    zero: Value,
}

impl HalfConsts {
    pub(super) fn new(b: &mut FunctionBuilder) -> HalfConsts {
        let mut splat = |c: i64| {
            let x = b.ins().iconst(types::I32, c);
            b.ins().splat(types::I32X4, x)
        };
        HalfConsts {
            sign: splat(0x8000),
            magnitude: splat(0x7fff),
            exponent: splat(0x7c00 << 13),
            rebias: splat((127 - 15) << 23),
            one_exponent: splat(1 << 23),
            magic: splat(113 << 23),
            zero: splat(0),
        }
    }
}

/// Four f16 bit patterns (zero-extended in i32x4 lanes) to f32x4, exactly:
/// subnormals renormalized by an f32 subtraction, infinities and NaNs
/// rebiased (F. Giesen's `half_to_float`), 14 vector instructions.
pub(super) fn f16x4_to_f32x4(b: &mut FunctionBuilder, c: HalfConsts, h: Value) -> Value {
    let little = little();
    let sign = b.ins().band(h, c.sign);
    let sign = b.ins().ishl_imm_u(sign, 16);
    let em = b.ins().band(h, c.magnitude);
    let em = b.ins().ishl_imm_u(em, 13);
    let exp = b.ins().band(em, c.exponent);
    let normal = b.ins().iadd(em, c.rebias);
    // infinity and NaN: exponent all ones
    let special = b.ins().iadd(normal, c.rebias);
    let is_special = b.ins().icmp(IntCC::Equal, exp, c.exponent);
    // zero and subnormals: exponent zero; (2^-14 + m 2^-24) - 2^-14
    let tiny = b.ins().iadd(normal, c.one_exponent);
    let tiny = b.ins().bitcast(types::F32X4, little, tiny);
    let magic = b.ins().bitcast(types::F32X4, little, c.magic);
    let tiny = b.ins().fsub(tiny, magic);
    let tiny = b.ins().bitcast(types::I32X4, little, tiny);
    let is_tiny = b.ins().icmp(IntCC::Equal, exp, c.zero);
    let r = b.ins().bitselect(is_tiny, tiny, normal);
    let r = b.ins().bitselect(is_special, special, r);
    let r = b.ins().bor(r, sign);
    b.ins().bitcast(types::F32X4, little, r)
}

/// Whether `e` only picks f16 source elements (loads, selects between them).
fn moves_f16(e: &Expr, sources: &[DType]) -> bool {
    match e {
        Expr::Load { src, .. } => sources[*src as usize] == DType::F16,
        Expr::Select(_, a, b) => moves_f16(a, sources) && moves_f16(b, sources),
        _ => false,
    }
}

/// SIMD lanes of the vector type used (f32x4).
pub const LANES: usize = 4;

#[derive(Clone, Debug)]
enum V {
    /// Compile-time integer.
    CI(i64),
    /// Uniform scalar (i64 or f32).
    S(Value),
    /// Uniform integer `value + offset`; the offset folds into address
    /// immediates, so the points of an unrolled tile share one register.
    SC(Value, i64),
    /// Integer lanes `base + offset + stride * lane` (stride != 0).
    Aff(Value, i64, i64),
    /// Per-lane scalars.
    Lanes(Vec<Value>),
    /// f32x4 vector.
    Vec(Value),
    /// i32x4 vector of small integers (bytes read from quantized blocks).
    IV(Value),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// Before the unrolled/vectorized suffix: checks not yet decided.
    Outside,
    /// Every point of the suffix is in bounds.
    Fast,
    /// Some points may be out of bounds: scalarize and check each.
    Slow,
}

fn gcd(a: i64, b: i64) -> i64 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// Key of a value-numbered instruction: the same key in a dominating scope
/// reuses the earlier value instead of emitting the instruction again.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum MemoKey {
    Const(i64),
    Bin(BinOp, Value, Value),
    MulImm(Value, i64),
    AddImm(Value, i64),
    /// (what is loaded, address, offset)
    Load(u8, Value, i32),
    Splat(Value),
    F32Const(u32),
    HalfToFloat(Value),
    /// i64 -> i32 splatted to i32x4.
    SplatI32(Value),
    /// An i32x4 shifted right by a constant.
    ShrImm(Value, i64),
    /// Integer to float conversion.
    ToFloat(Value),
}

/// What a point adds to its accumulator.
enum Term {
    Value(V),
    /// `a * b`, folded with a fused multiply-add.
    Product(V, V),
}

enum Acc {
    Scalar(Variable),
    Vector(Variable),
    Lanes(Vec<Variable>),
}

/// Helper functions imported into the kernel.
pub struct Helpers {
    pub unary: HashMap<UnOp, FuncRef>,
}

pub struct Emitter<'a, 'b> {
    b: &'a mut FunctionBuilder<'b>,
    v: &'a Validated,
    body: Expr,
    store_index: Vec<Expr>,
    guards: Vec<(Expr, Expr)>,
    spatial_guards: Vec<(Expr, Expr)>,
    bufs: Vec<Value>,
    syms: HashMap<String, Value>,
    dim_cache: HashMap<Dim, Value>,
    env: HashMap<u32, V>,
    helpers: Helpers,
    range: (Value, Value),
    region_start: usize,
    suffix_start: usize,
    in_region: bool,
    /// Integer sub-expressions worth hoisting out of loops (they divide,
    /// take remainders or multiply), with the loop variables they use.
    hoistable: Vec<(Expr, Vec<u32>)>,
    /// Hoisted values (parallel to `hoistable`), with the loop position
    /// that computed them.
    hoisted: Vec<Option<(V, usize)>>,
    /// Scoped value numbering: instructions already emitted in a block that
    /// dominates the current one, with the scope depth that emitted them.
    memo: HashMap<MemoKey, (Value, u32)>,
    depth: u32,
    /// Values made by `mul_imm`: value -> (operand, factor).
    scaled: HashMap<Value, (Value, i64)>,
    /// What is known of integer values: (a divisor of the value, whether
    /// it is non-negative). Lets lanes that stay inside one quantization
    /// block share a block index.
    facts: HashMap<Value, (i64, bool)>,
    /// Integer constants by value.
    consts: HashMap<Value, i64>,
    /// Use fused multiply-add for `acc + a * b` (the host has FMA).
    fma: bool,
    accs: HashMap<Vec<i64>, Acc>,
    src_dtypes: Vec<DType>,
    /// The stage only moves f16 values (concat, reshape, slice of f16
    /// tensors): they travel as raw bits, with no conversion to f32 and back.
    raw_f16: bool,
    /// Constants for vector f16 loads, when a source is f16.
    half_consts: Option<HalfConsts>,
}

fn flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

impl<'a, 'b> Emitter<'a, 'b> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(b: &'a mut FunctionBuilder<'b>, v: &'a Validated, bufs: Vec<Value>, syms: HashMap<String, Value>, helpers: Helpers, range: (Value, Value)) -> Self {
        let nest = v.nest();
        let guards = v.guard_exprs();
        let spatial_guards = v.spatial_guard_exprs();
        let n = nest.loops.len();
        let mut suffix_start = n;
        while suffix_start > 0 && matches!(nest.loops[suffix_start - 1].kind, LoopKind::Unrolled | LoopKind::Vectorized) {
            suffix_start -= 1;
        }
        let src_dtypes: Vec<DType> = nest.sources.iter().map(|s| s.dtype).collect();
        let half_consts = src_dtypes.contains(&DType::F16).then(|| HalfConsts::new(b));
        let raw_f16 = nest.output.dtype == DType::F16 && nest.reduce.is_none() && moves_f16(&nest.body, &src_dtypes);
        Emitter {
            b,
            v,
            body: v.point_body(),
            store_index: v.store_index(),
            guards,
            spatial_guards,
            bufs,
            syms,
            dim_cache: HashMap::new(),
            env: HashMap::new(),
            helpers,
            range,
            region_start: nest.region_start(),
            suffix_start,
            in_region: false,
            hoistable: Vec::new(),
            hoisted: Vec::new(),
            memo: HashMap::new(),
            depth: 0,
            scaled: HashMap::new(),
            facts: HashMap::new(),
            consts: HashMap::new(),
            fma: false,
            accs: HashMap::new(),
            src_dtypes,
            half_consts,
            raw_f16,
        }
    }

    /// Allow fused multiply-add in reductions.
    pub fn use_fma(&mut self, on: bool) {
        self.fma = on;
    }

    /// Find the integer sub-expressions that loops may hoist: index math
    /// over loop variables that divides, takes a remainder or multiplies.
    /// Division only by non-zero constants, so hoisting never traps.
    fn collect_hoistable(&mut self) {
        let mut exprs: Vec<Expr> = vec![self.body.clone()];
        exprs.extend(self.store_index.iter().cloned());
        exprs.extend(self.guards.iter().flat_map(|(a, b)| [a.clone(), b.clone()]));
        let dtypes = self.src_dtypes.clone();
        let mut found: Vec<(Expr, Vec<u32>)> = Vec::new();
        for e in &exprs {
            e.visit(&mut |x| {
                let interesting = match x {
                    Expr::Binary(BinOp::Div | BinOp::Rem, _, d) => matches!(**d, Expr::Int(c) if c > 0),
                    Expr::Binary(BinOp::Mul, ..) => true,
                    _ => false,
                };
                if !interesting || x.kind(&dtypes) != Ok(ScalarKind::Int) || found.iter().any(|(f, _)| f == x) {
                    return;
                }
                let mut safe = true;
                x.visit(&mut |y| {
                    safe &= match y {
                        Expr::Load { .. } | Expr::LoadByte { .. } | Expr::LoadHalf { .. } | Expr::Select(..) | Expr::Cast(..) => false,
                        Expr::Binary(BinOp::Div | BinOp::Rem, _, d) => matches!(**d, Expr::Int(c) if c > 0),
                        _ => true,
                    }
                });
                if safe {
                    found.push((x.clone(), kiln_schedule::loop_vars(x)));
                }
            });
        }
        self.hoisted = vec![None; found.len()];
        self.hoistable = found;
    }

    /// Before the loop at `pos`: compute every hoistable expression whose
    /// variables belong to enclosing serial loops.
    fn hoist_before(&mut self, pos: usize) -> Result<(), CodegenError> {
        let outer: Vec<u32> = self.v.nest().loops[..pos].iter().map(|l| l.id).collect();
        for i in 0..self.hoistable.len() {
            let (e, vars) = &self.hoistable[i];
            if vars.is_empty() || self.hoisted[i].is_some() || !vars.iter().all(|v| outer.contains(v) && matches!(self.env.get(v), Some(V::S(_)))) {
                continue;
            }
            let e = e.clone();
            let (v, _) = self.value(&e)?;
            self.hoisted[i] = Some((v, pos));
        }
        Ok(())
    }

    fn memo(&mut self, key: MemoKey, f: impl FnOnce(&mut FunctionBuilder) -> Value) -> Value {
        if let Some((v, _)) = self.memo.get(&key) {
            return *v;
        }
        let v = f(self.b);
        self.memo.insert(key, (v, self.depth));
        v
    }

    /// Enter a block that the current one dominates but later code does not
    /// (a loop body, a branch arm); returns the depth to leave back to.
    fn enter(&mut self) -> u32 {
        self.depth += 1;
        self.depth - 1
    }

    fn leave(&mut self, depth: u32) {
        self.memo.retain(|_, (_, d)| *d <= depth);
        self.depth = depth;
    }

    fn iconst(&mut self, c: i64) -> Value {
        let v = self.memo(MemoKey::Const(c), |b| b.ins().iconst(types::I64, c));
        self.consts.insert(v, c);
        self.facts.insert(v, (if c == 0 { 1 << 40 } else { c.abs() }, c >= 0));
        v
    }

    fn fact(&self, v: Value) -> (i64, bool) {
        self.facts.get(&v).copied().unwrap_or((1, false))
    }

    fn mul_imm(&mut self, x: Value, c: i64) -> Value {
        if c == 1 {
            return x;
        }
        // (y * a) * c = y * (a * c)
        if let Some(&(y, a)) = self.scaled.get(&x) {
            if let Some(ac) = a.checked_mul(c) {
                return self.mul_imm(y, ac);
            }
        }
        let v = self.memo(MemoKey::MulImm(x, c), |b| b.ins().imul_imm_s(x, c));
        self.scaled.insert(v, (x, c));
        let (f, nn) = self.fact(x);
        self.facts.insert(v, (f.saturating_mul(c.abs()).max(1), nn && c >= 0));
        v
    }

    fn is_zero(&self, v: Value) -> bool {
        self.memo.get(&MemoKey::Const(0)).is_some_and(|(z, _)| *z == v)
    }

    fn add_imm(&mut self, x: Value, c: i64) -> Value {
        if c == 0 {
            return x;
        }
        let v = self.memo(MemoKey::AddImm(x, c), |b| b.ins().iadd_imm_s(x, c));
        let (f, nn) = self.fact(x);
        self.facts.insert(v, (gcd(f, c.abs()), nn && c >= 0));
        v
    }

    fn unsupported(&self, what: String) -> CodegenError {
        CodegenError::Unsupported { kernel: self.v.nest().name.clone(), target: "cpu", what }
    }

    // ---------- loops ----------

    pub fn emit(&mut self) -> Result<(), CodegenError> {
        self.collect_hoistable();
        for l in &self.v.nest().loops {
            if matches!(l.kind, LoopKind::GpuBlock(_) | LoopKind::GpuThread(_)) {
                return Err(self.unsupported(format!("run loop l{} bound to {}", l.id, l.kind)));
            }
            if l.kind == LoopKind::Vectorized && l.const_extent() != Some(LANES as i64) {
                return Err(self.unsupported(format!("vectorize loop l{} of {} lanes; it has {LANES}-lane f32 vectors", l.id, l.extent)));
            }
        }
        self.emit_nest(0, Mode::Outside)
    }

    fn emit_nest(&mut self, pos: usize, mode: Mode) -> Result<(), CodegenError> {
        let nest = self.v.nest();
        if nest.reduce.is_some() && pos == self.region_start && !self.in_region {
            self.init_accs();
            self.in_region = true;
            self.emit_nest(pos, mode)?;
            self.in_region = false;
            return self.store_accs(mode);
        }
        if pos == self.suffix_start && mode == Mode::Outside {
            let all = self.guards.clone();
            return self.split_on_guards(&all, pos, |s, m| s.emit_nest(pos, m));
        }
        if pos == nest.loops.len() {
            return self.leaf(mode);
        }
        let l = nest.loops[pos].clone();
        match (l.kind, mode) {
            (LoopKind::Unrolled, _) | (LoopKind::Vectorized, Mode::Slow) => {
                for c in 0..l.const_extent().unwrap() {
                    self.env.insert(l.id, V::CI(c));
                    self.emit_nest(pos + 1, mode)?;
                }
                Ok(())
            }
            (LoopKind::Vectorized, _) => {
                let zero = self.iconst(0);
                self.env.insert(l.id, V::Aff(zero, 1, 0));
                self.emit_nest(pos + 1, mode)
            }
            _ => {
                self.hoist_before(pos)?;
                let extent = self.scalar(&l.extent)?;
                let (lo, hi) = if pos == 0 {
                    let hi = self.b.ins().smin(self.range.1, extent);
                    (self.range.0, hi)
                } else {
                    (self.b.ins().iconst(types::I64, 0), extent)
                };
                // Rotated loop: one test before entry, one branch per iteration.
                let body = self.b.create_block();
                let exit = self.b.create_block();
                let i = self.b.append_block_param(body, types::I64);
                self.facts.insert(i, (1, true));
                let enter = self.b.ins().icmp(IntCC::SignedLessThan, lo, hi);
                self.b.ins().brif(enter, body, &[lo.into()], exit, &[]);
                self.b.switch_to_block(body);
                let scope = self.enter();
                self.env.insert(l.id, V::S(i));
                self.emit_nest(pos + 1, mode)?;
                let next = self.b.ins().iadd_imm_s(i, 1);
                let more = self.b.ins().icmp(IntCC::SignedLessThan, next, hi);
                self.b.ins().brif(more, body, &[next.into()], exit, &[]);
                self.leave(scope);
                self.b.switch_to_block(exit);
                // values hoisted inside this loop depend on its variable
                for h in self.hoisted.iter_mut() {
                    if h.as_ref().is_some_and(|(_, p)| *p > pos) {
                        *h = None;
                    }
                }
                Ok(())
            }
        }
    }

    /// Emit `f(Fast)` where `guards` hold at the last iteration of every
    /// unrolled/vectorized loop from position `pos` on, `f(Slow)` elsewhere.
    fn split_on_guards(&mut self, guards: &[(Expr, Expr)], pos: usize, mut f: impl FnMut(&mut Self, Mode) -> Result<(), CodegenError>) -> Result<(), CodegenError> {
        if guards.is_empty() {
            return f(self, Mode::Fast);
        }
        let saved = self.env.clone();
        for l in &self.v.nest().loops[pos..] {
            if let Some(e) = l.const_extent() {
                self.env.insert(l.id, V::CI(e - 1));
            }
        }
        let cond = self.guards_hold(guards)?;
        self.env = saved;
        let (fast, slow, merge) = (self.b.create_block(), self.b.create_block(), self.b.create_block());
        self.b.ins().brif(cond, fast, &[], slow, &[]);
        self.b.switch_to_block(fast);
        let scope = self.enter();
        f(self, Mode::Fast)?;
        self.b.ins().jump(merge, &[]);
        self.leave(scope);
        self.b.switch_to_block(slow);
        let scope = self.enter();
        f(self, Mode::Slow)?;
        self.b.ins().jump(merge, &[]);
        self.leave(scope);
        self.b.switch_to_block(merge);
        Ok(())
    }

    /// All guards as one i8 condition, with the current (scalar) bindings.
    fn guards_hold(&mut self, guards: &[(Expr, Expr)]) -> Result<Value, CodegenError> {
        let mut all: Option<Value> = None;
        for (value, bound) in guards {
            let (v, b) = (self.scalar(value)?, self.scalar(bound)?);
            let c = self.b.ins().icmp(IntCC::SignedLessThan, v, b);
            all = Some(match all {
                None => c,
                Some(a) => self.b.ins().band(a, c),
            });
        }
        Ok(all.expect("at least one guard"))
    }

    /// Run `f` only where `guards` hold (scalar bindings).
    fn guarded(&mut self, guards: &[(Expr, Expr)], f: impl FnOnce(&mut Self) -> Result<(), CodegenError>) -> Result<(), CodegenError> {
        if guards.is_empty() {
            return f(self);
        }
        let cond = self.guards_hold(guards)?;
        let (then, merge) = (self.b.create_block(), self.b.create_block());
        self.b.ins().brif(cond, then, &[], merge, &[]);
        self.b.switch_to_block(then);
        let scope = self.enter();
        f(self)?;
        self.b.ins().jump(merge, &[]);
        self.leave(scope);
        self.b.switch_to_block(merge);
        Ok(())
    }

    fn leaf(&mut self, mode: Mode) -> Result<(), CodegenError> {
        let guards = if mode == Mode::Slow { self.guards.clone() } else { Vec::new() };
        self.guarded(&guards, |s| {
            let body = s.body.clone();
            let nest = s.v.nest();
            let fused = s.fma && nest.reduce == Some(ReduceOp::Sum) && s.acc_kind() == ScalarKind::Float;
            match (&body, fused) {
                (Expr::Binary(BinOp::Mul, a, b), true) => {
                    let (x, _) = s.value(a)?;
                    let (y, _) = s.value(b)?;
                    s.accumulate(Term::Product(x, y))
                }
                _ => {
                    let (value, _) = s.value(&body)?;
                    if nest.reduce.is_some() { s.accumulate(Term::Value(value)) } else { s.store(value) }
                }
            }
        })
    }

    // ---------- reductions ----------

    /// Unrolled spatial loops of the register tile: (id, extent).
    fn tile_loops(&self) -> Vec<(u32, i64)> {
        self.v.nest().loops[self.region_start..]
            .iter()
            .filter(|l| !l.reduction && l.kind == LoopKind::Unrolled)
            .map(|l| (l.id, l.const_extent().unwrap()))
            .collect()
    }

    /// The vectorized loop of the region, if any.
    fn region_vector_loop(&self) -> Option<(u32, bool)> {
        self.v.nest().loops[self.region_start..].iter().find(|l| l.kind == LoopKind::Vectorized).map(|l| (l.id, l.reduction))
    }

    fn acc_kind(&self) -> ScalarKind {
        self.v.nest().output.dtype.scalar_kind()
    }

    fn tile_keys(&self) -> Vec<Vec<i64>> {
        let mut keys = vec![vec![]];
        for (_, e) in self.tile_loops() {
            keys = keys.into_iter().flat_map(|k| (0..e).map(move |c| [k.clone(), vec![c]].concat())).collect();
        }
        keys
    }

    fn identity(&mut self) -> Value {
        let op = self.v.nest().reduce.unwrap();
        let kind = self.acc_kind();
        let id = op.identity(kind);
        match kind {
            ScalarKind::Float => self.b.ins().f32const(id as f32),
            ScalarKind::Int => self.b.ins().iconst(types::I64, id as i64),
        }
    }

    fn init_accs(&mut self) {
        let kind = self.acc_kind();
        let vector = self.region_vector_loop().is_some();
        self.accs.clear();
        for key in self.tile_keys() {
            let id = self.identity();
            let acc = match (vector, kind) {
                (false, _) => {
                    let var = self.b.declare_var(if kind == ScalarKind::Float { types::F32 } else { types::I64 });
                    self.b.def_var(var, id);
                    Acc::Scalar(var)
                }
                (true, ScalarKind::Float) => {
                    let var = self.b.declare_var(types::F32X4);
                    let splat = self.b.ins().splat(types::F32X4, id);
                    self.b.def_var(var, splat);
                    Acc::Vector(var)
                }
                (true, ScalarKind::Int) => Acc::Lanes(
                    (0..LANES)
                        .map(|_| {
                            let var = self.b.declare_var(types::I64);
                            self.b.def_var(var, id);
                            var
                        })
                        .collect(),
                ),
            };
            self.accs.insert(key, acc);
        }
    }

    fn current_key(&self) -> Vec<i64> {
        self.tile_loops()
            .iter()
            .map(|(id, _)| match self.env.get(id) {
                Some(V::CI(c)) => *c,
                other => unreachable!("tile loop bound to {other:?}"),
            })
            .collect()
    }

    fn combine(&mut self, a: Value, b: Value) -> Value {
        let op = self.v.nest().reduce.unwrap();
        let int = self.acc_kind() == ScalarKind::Int;
        let ins = self.b.ins();
        match (op, int) {
            (ReduceOp::Sum, false) => ins.fadd(a, b),
            (ReduceOp::Max, false) => ins.fmax(a, b),
            (ReduceOp::Min, false) => ins.fmin(a, b),
            (ReduceOp::Sum, true) => ins.iadd(a, b),
            (ReduceOp::Max, true) => ins.smax(a, b),
            (ReduceOp::Min, true) => ins.smin(a, b),
        }
    }

    /// `acc (op)= term`, with `a * b` fused into one multiply-add.
    fn fold(&mut self, old: Value, term: &Term, vector: bool) -> Result<Value, CodegenError> {
        Ok(match term {
            Term::Value(v) => {
                let x = if vector { self.to_vec(v.clone()) } else { self.to_scalar(v.clone())? };
                self.combine(old, x)
            }
            Term::Product(a, b) => {
                let (x, y) = if vector { (self.to_vec(a.clone()), self.to_vec(b.clone())) } else { (self.to_scalar(a.clone())?, self.to_scalar(b.clone())?) };
                self.b.ins().fma(x, y, old)
            }
        })
    }

    fn accumulate(&mut self, term: Term) -> Result<(), CodegenError> {
        let key = self.current_key();
        // In slow mode the vector loop is scalarized: find which lane we are.
        let lane = self.region_vector_loop().and_then(|(id, _)| match self.env.get(&id) {
            Some(V::CI(c)) => Some(*c as u8),
            _ => None,
        });
        match (&self.accs[&key], lane) {
            (Acc::Scalar(var), _) => {
                let var = *var;
                let old = self.b.use_var(var);
                let new = self.fold(old, &term, false)?;
                self.b.def_var(var, new);
            }
            (Acc::Vector(var), None) => {
                let var = *var;
                let old = self.b.use_var(var);
                let new = self.fold(old, &term, true)?;
                self.b.def_var(var, new);
            }
            (Acc::Vector(var), Some(l)) => {
                let var = *var;
                let old = self.b.use_var(var);
                let lane_old = self.b.ins().extractlane(old, l);
                let lane_new = self.fold(lane_old, &term, false)?;
                let new = self.b.ins().insertlane(old, lane_new, l);
                self.b.def_var(var, new);
            }
            (Acc::Lanes(vars), lane) => {
                let Term::Value(value) = term else { unreachable!("integer reductions do not fuse products") };
                let vars = vars.clone();
                let xs = match lane {
                    Some(l) => vec![(l as usize, self.to_scalar(value)?)],
                    None => self.to_lanes(value).into_iter().enumerate().collect(),
                };
                for (l, x) in xs {
                    let old = self.b.use_var(vars[l]);
                    let new = self.combine(old, x);
                    self.b.def_var(vars[l], new);
                }
            }
        }
        Ok(())
    }

    /// After the reduction loops: write every accumulator of the tile.
    fn store_accs(&mut self, mode: Mode) -> Result<(), CodegenError> {
        let vec_loop = self.region_vector_loop();
        let tile = self.tile_loops();
        for key in self.tile_keys() {
            for ((id, _), c) in tile.iter().zip(&key) {
                self.env.insert(*id, V::CI(*c));
            }
            let value = match &self.accs[&key] {
                Acc::Scalar(var) => V::S(self.b.use_var(*var)),
                Acc::Vector(var) => V::Vec(self.b.use_var(*var)),
                Acc::Lanes(vars) => V::Lanes(vars.iter().map(|v| self.b.use_var(*v)).collect()),
            };
            let value = match vec_loop {
                Some((_, true)) => V::S(self.horizontal(value)),
                _ => value,
            };
            match vec_loop {
                Some((id, false)) => {
                    let sg = self.spatial_guards.clone();
                    let vector_store = |s: &mut Self, value: V| -> Result<(), CodegenError> {
                        let zero = s.iconst(0);
                        s.env.insert(id, V::Aff(zero, 1, 0));
                        s.store(value)
                    };
                    let lane_stores = |s: &mut Self, value: V, sg: &[(Expr, Expr)]| -> Result<(), CodegenError> {
                        let lanes = s.to_lanes(value);
                        for (l, x) in lanes.into_iter().enumerate() {
                            s.env.insert(id, V::CI(l as i64));
                            s.guarded(sg, |s| s.store(V::S(x)))?;
                        }
                        Ok(())
                    };
                    match mode {
                        Mode::Fast => vector_store(self, value)?,
                        Mode::Slow => lane_stores(self, value, &sg)?,
                        Mode::Outside if sg.is_empty() => vector_store(self, value)?,
                        Mode::Outside => {
                            self.env.insert(id, V::CI(LANES as i64 - 1));
                            let cond = self.guards_hold(&sg)?;
                            let (fast, slow, merge) = (self.b.create_block(), self.b.create_block(), self.b.create_block());
                            self.b.ins().brif(cond, fast, &[], slow, &[]);
                            self.b.switch_to_block(fast);
                            let scope = self.enter();
                            vector_store(self, value.clone())?;
                            self.b.ins().jump(merge, &[]);
                            self.leave(scope);
                            self.b.switch_to_block(slow);
                            let scope = self.enter();
                            lane_stores(self, value, &sg)?;
                            self.b.ins().jump(merge, &[]);
                            self.leave(scope);
                            self.b.switch_to_block(merge);
                        }
                    }
                }
                _ => {
                    let sg = if mode == Mode::Fast { Vec::new() } else { self.spatial_guards.clone() };
                    self.guarded(&sg, |s| s.store(value))?;
                }
            }
        }
        Ok(())
    }

    fn horizontal(&mut self, value: V) -> Value {
        let lanes = self.to_lanes(value);
        let (a, b) = (self.combine(lanes[0], lanes[1]), self.combine(lanes[2], lanes[3]));
        self.combine(a, b)
    }

    // ---------- memory ----------

    fn flat_index(&mut self, index: &[Expr], shape: &[Dim]) -> Result<V, CodegenError> {
        let mut flat: Option<V> = None;
        for (e, d) in index.iter().zip(shape) {
            let i = self.int(e)?;
            flat = Some(match flat {
                None => i,
                Some(f) => {
                    let dv = self.dim_v(d);
                    let m = self.int_bin(BinOp::Mul, f, dv);
                    self.int_bin(BinOp::Add, m, i)
                }
            });
        }
        Ok(flat.unwrap_or(V::CI(0)))
    }

    /// Address of element `index` of buffer `buf` as (base, byte offset).
    fn address(&mut self, buf: usize, index: V, elem: i64) -> (Value, i32) {
        let base = self.bufs[buf];
        let (v, c) = match index {
            V::CI(c) => (None, c),
            V::S(v) => (Some(v), 0),
            V::SC(v, c) => (Some(v), c),
            other => unreachable!("address of lanes {other:?}"),
        };
        let mut off = c * elem;
        let mut reg = v.map(|v| self.mul_imm(v, elem));
        if i32::try_from(off).is_err() {
            let o = self.iconst(off);
            reg = Some(match reg {
                Some(r) => self.memo(MemoKey::Bin(BinOp::Add, r, o), |b| b.ins().iadd(r, o)),
                None => o,
            });
            off = 0;
        }
        let addr = match reg {
            Some(r) => self.memo(MemoKey::Bin(BinOp::Add, base, r), |b| b.ins().iadd(base, r)),
            None => base,
        };
        (addr, off as i32)
    }

    fn load_scalar(&mut self, buf: usize, dtype: DType, index: V) -> Value {
        let f = flags();
        match dtype {
            DType::F32 => {
                let (a, o) = self.address(buf, index, 4);
                self.memo(MemoKey::Load(0, a, o), |b| b.ins().load(types::F32, f, a, o))
            }
            DType::I32 => {
                let (a, o) = self.address(buf, index, 4);
                self.memo(MemoKey::Load(1, a, o), |b| b.ins().sload32(f, a, o))
            }
            DType::F16 => {
                let (a, o) = self.address(buf, index, 2);
                let bits = self.memo(MemoKey::Load(2, a, o), |b| b.ins().uload16(types::I32, f, a, o));
                if self.raw_f16 {
                    bits
                } else {
                    self.f16_to_f32(bits)
                }
            }
            q => unreachable!("quantized load of {q} survived expansion"),
        }
    }

    fn load(&mut self, src: usize, index: &[Expr]) -> Result<V, CodegenError> {
        let shape = self.v.nest().sources[src].shape.clone();
        let dtype = self.src_dtypes[src];
        let flat = self.flat_index(index, &shape)?;
        Ok(match flat {
            V::Aff(base, 1, c) if dtype == DType::F32 => {
                let (a, o) = self.address(src, V::SC(base, c), 4);
                V::Vec(self.memo(MemoKey::Load(5, a, o), |b| b.ins().load(types::F32X4, flags(), a, o)))
            }
            V::Aff(base, 1, c) if dtype == DType::F16 && !self.raw_f16 && self.half_consts.is_some() => {
                let consts = self.half_consts.expect("checked");
                let (a, o) = self.address(src, V::SC(base, c), 2);
                V::Vec(self.memo(MemoKey::Load(9, a, o), |b| load_f16x4(b, consts, a, o)))
            }
            V::CI(_) | V::S(_) | V::SC(..) => V::S(self.load_scalar(src, dtype, flat)),
            other => V::Lanes(self.to_lanes(other).into_iter().map(|i| self.load_scalar(src, dtype, V::S(i))).collect()),
        })
    }

    fn store(&mut self, value: V) -> Result<(), CodegenError> {
        let nest = self.v.nest();
        let out = nest.sources.len();
        let dtype = nest.output.dtype;
        let shape = nest.output.shape.clone();
        let idx = self.store_index.clone();
        let flat = self.flat_index(&idx, &shape)?;
        let store_one = |s: &mut Self, i: V, x: Value| {
            let f = flags();
            match dtype {
                DType::F32 => {
                    let (a, o) = s.address(out, i, 4);
                    s.b.ins().store(f, x, a, o);
                }
                DType::I32 => {
                    let (a, o) = s.address(out, i, 4);
                    let x = s.b.ins().ireduce(types::I32, x);
                    s.b.ins().store(f, x, a, o);
                }
                DType::F16 => {
                    let (a, o) = s.address(out, i, 2);
                    let bits = if s.raw_f16 { x } else { f32_to_f16_bits(s.b, x) };
                    s.b.ins().istore16(f, bits, a, o);
                }
                q => unreachable!("store of quantized {q}"),
            }
        };
        match (flat, dtype) {
            (V::Aff(base, 1, c), DType::F32) => {
                let x = self.to_vec(value);
                let (a, o) = self.address(out, V::SC(base, c), 4);
                self.b.ins().store(flags(), x, a, o);
            }
            (flat @ (V::CI(_) | V::S(_) | V::SC(..)), _) => {
                let x = self.to_scalar(value)?;
                store_one(self, flat, x);
            }
            (flat, _) => {
                let is = self.to_lanes(flat);
                let xs = self.to_lanes(value);
                for (i, x) in is.into_iter().zip(xs) {
                    store_one(self, V::S(i), x);
                }
            }
        }
        Ok(())
    }

    // ---------- expressions ----------

    fn dim_v(&mut self, d: &Dim) -> V {
        match d.as_const() {
            Some(c) => V::CI(c),
            None => V::S(self.dim_value(d)),
        }
    }

    fn dim_value(&mut self, d: &Dim) -> Value {
        if let Some(v) = self.dim_cache.get(d) {
            return *v;
        }
        let mut total: Option<Value> = None;
        for (mono, c) in d.terms() {
            let mut term = self.b.ins().iconst(types::I64, c);
            for s in mono {
                term = self.b.ins().imul(term, self.syms[s]);
            }
            total = Some(match total {
                None => term,
                Some(t) => self.b.ins().iadd(t, term),
            });
        }
        let v = total.unwrap_or_else(|| self.b.ins().iconst(types::I64, 0));
        // a dimension is never negative (bind_dims checks)
        self.facts.insert(v, (1, true));
        // Only cache values defined in the entry block (see `prepare_dims`).
        v
    }

    /// Evaluate every dim the kernel mentions in the entry block, so loops
    /// can reuse them.
    pub fn prepare_dims(&mut self, dims: &[Dim]) {
        for d in dims {
            if d.as_const().is_none() && !self.dim_cache.contains_key(d) {
                let v = self.dim_value(d);
                self.dim_cache.insert(d.clone(), v);
            }
        }
    }

    fn scalar(&mut self, e: &Expr) -> Result<Value, CodegenError> {
        let v = self.int(e)?;
        self.to_scalar(v)
    }

    fn int(&mut self, e: &Expr) -> Result<V, CodegenError> {
        Ok(self.value(e)?.0)
    }

    fn to_scalar(&mut self, v: V) -> Result<Value, CodegenError> {
        Ok(match v {
            V::CI(c) => self.iconst(c),
            V::S(s) => s,
            V::SC(s, c) => self.add_imm(s, c),
            other => unreachable!("expected a uniform value, got {other:?}"),
        })
    }

    fn to_lanes(&mut self, v: V) -> Vec<Value> {
        match v {
            V::CI(c) => vec![self.iconst(c); LANES],
            V::S(s) => vec![s; LANES],
            V::SC(s, c) => vec![self.add_imm(s, c); LANES],
            V::Aff(base, stride, c) => (0..LANES).map(|l| self.add_imm(base, c + stride * l as i64)).collect(),
            V::Lanes(l) => l,
            V::Vec(x) => (0..LANES).map(|l| self.b.ins().extractlane(x, l as u8)).collect(),
            V::IV(x) => (0..LANES)
                .map(|l| {
                    let e = self.b.ins().extractlane(x, l as u8);
                    self.b.ins().sextend(types::I64, e)
                })
                .collect(),
        }
    }

    fn to_vec(&mut self, v: V) -> Value {
        match v {
            V::Vec(x) => x,
            V::S(s) => self.memo(MemoKey::Splat(s), |b| b.ins().splat(types::F32X4, s)),
            V::Lanes(l) => {
                let mut x = self.b.ins().splat(types::F32X4, l[0]);
                for (i, s) in l.iter().enumerate().skip(1) {
                    x = self.b.ins().insertlane(x, *s, i as u8);
                }
                x
            }
            other => unreachable!("integer lanes {other:?} used as floats"),
        }
    }

    fn is_lanes(v: &V) -> bool {
        matches!(v, V::Aff(..) | V::Lanes(_) | V::Vec(_) | V::IV(_))
    }

    fn int_bin(&mut self, op: BinOp, a: V, b: V) -> V {
        use BinOp::*;
        match (op, &a, &b) {
            (_, V::CI(x), V::CI(y)) => {
                let folded = kiln_schedule::simplify(&Expr::Binary(op, Box::new(Expr::Int(*x)), Box::new(Expr::Int(*y))));
                if let Expr::Int(v) = folded {
                    return V::CI(v);
                }
            }
            (Add, V::CI(0), _) | (Mul, V::CI(1), _) => return b,
            (Add | Sub, _, V::CI(0)) | (Mul | Div, _, V::CI(1)) => return a,
            (Mul, V::CI(0), _) | (Mul, _, V::CI(0)) => return V::CI(0),
            _ => {}
        }
        // uniform value + constant offset
        let split = |v: &V| match v {
            V::S(x) => Some((Some(*x), 0)),
            V::SC(x, c) => Some((Some(*x), *c)),
            V::CI(c) => Some((None, *c)),
            _ => None,
        };
        if let (Some((x, c)), Some((y, d))) = (split(&a), split(&b)) {
            let offset = |v: Option<Value>, c: i64| match v {
                Some(v) if c == 0 => V::S(v),
                Some(v) => V::SC(v, c),
                None => V::CI(c),
            };
            match (op, x, y) {
                (Add, Some(x), None) | (Add, None, Some(x)) => return offset(Some(x), c + d),
                (Add, Some(x), Some(y)) => return offset(Some(self.int_op(Add, x, y)), c + d),
                (Sub, Some(x), None) => return offset(Some(x), c - d),
                (Sub, Some(x), Some(y)) => return offset(Some(self.int_op(Sub, x, y)), c - d),
                (Mul, Some(x), None) => return offset(Some(self.mul_imm(x, d)), c * d),
                (Mul, None, Some(y)) => return offset(Some(self.mul_imm(y, c)), c * d),
                _ => {}
            }
        }
        // A non-negative multiple of d plus a constant c >= 0 whose lanes
        // stay inside one block of d (c % d + span < d): the quotient is the
        // multiple's plus c / d, the remainder c % d (lanes included). Rows
        // of an unrolled tile sit at constant offsets from the first, so they
        // share its block index instead of dividing per lane.
        if let (Div | Rem, V::Aff(base, 1, c) | V::SC(base, c), V::CI(d)) = (op, &a, &b) {
            let (f, nonneg) = self.fact(*base);
            let span = if matches!(a, V::Aff(..)) { LANES as i64 - 1 } else { 0 };
            if *d > 0 && nonneg && f % d == 0 && *c >= 0 && c % d + span < *d {
                let (q, r) = (c / d, c % d);
                return match (op, &a) {
                    (Div, _) => match self.consts.get(base) {
                        Some(k) => V::CI(k / d + q),
                        None => {
                            let dv = self.iconst(*d);
                            let block = self.int_op(Div, *base, dv);
                            if q == 0 { V::S(block) } else { V::SC(block, q) }
                        }
                    },
                    (_, V::Aff(..)) => {
                        let zero = self.iconst(0);
                        V::Aff(zero, 1, r)
                    }
                    _ => V::CI(r),
                };
            }
        }
        if let (Div | Rem, V::Aff(base, 1, c), V::CI(d)) = (op, &a, &b) {
            let (f, nonneg) = self.fact(*base);
            let l = LANES as i64;
            if *d > 0 && d % l == 0 && *c >= 0 && c % l == 0 && f % l == 0 && nonneg {
                if let Some(&k) = self.consts.get(base) {
                    let t = k + c;
                    return match op {
                        Div => V::CI(t / d),
                        _ => {
                            let zero = self.iconst(0);
                            V::Aff(zero, 1, t % d)
                        }
                    };
                }
                let t = self.add_imm(*base, *c);
                let dv = self.iconst(*d);
                return match op {
                    Div => V::S(self.int_op(Div, t, dv)),
                    _ => V::Aff(self.int_op(Rem, t, dv), 1, 0),
                };
            }
        }
        if let Some(r) = self.ivec_bin(op, &a, &b) {
            return r;
        }
        let affine = |base: Value, stride: i64, c: i64| if stride == 0 { V::SC(base, c) } else { V::Aff(base, stride, c) };
        match (op, a.clone(), b.clone()) {
            (Add, V::Aff(x, s, c), V::CI(d)) | (Add, V::CI(d), V::Aff(x, s, c)) => return V::Aff(x, s, c + d),
            (Sub, V::Aff(x, s, c), V::CI(d)) => return V::Aff(x, s, c - d),
            (Add, V::Aff(x, s, c), V::S(y)) | (Add, V::S(y), V::Aff(x, s, c)) => return V::Aff(self.int_op(Add, x, y), s, c),
            (Add, V::Aff(x, s, c), V::SC(y, d)) | (Add, V::SC(y, d), V::Aff(x, s, c)) => return V::Aff(self.int_op(Add, x, y), s, c + d),
            (Sub, V::Aff(x, s, c), V::S(y)) => return V::Aff(self.int_op(Sub, x, y), s, c),
            (Sub, V::Aff(x, s, c), V::SC(y, d)) => return V::Aff(self.int_op(Sub, x, y), s, c - d),
            (Add, V::Aff(x, s, c), V::Aff(y, t, d)) => return affine(self.int_op(Add, x, y), s + t, c + d),
            (Mul, V::Aff(x, s, c), V::CI(k)) | (Mul, V::CI(k), V::Aff(x, s, c)) => return affine(self.mul_imm(x, k), s * k, c * k),
            _ => {}
        }
        if Self::is_lanes(&a) || Self::is_lanes(&b) {
            let (xs, ys) = (self.to_lanes(a), self.to_lanes(b));
            return V::Lanes(xs.into_iter().zip(ys).map(|(x, y)| self.int_op(op, x, y)).collect());
        }
        let (x, y) = (self.to_scalar(a).unwrap(), self.to_scalar(b).unwrap());
        V::S(self.int_op(op, x, y))
    }

    /// i32x4 arithmetic for byte-derived lanes with a uniform other operand
    /// (or another i32x4); `None` falls back to per-lane scalars.
    fn ivec_bin(&mut self, op: BinOp, a: &V, b: &V) -> Option<V> {
        use BinOp::*;
        let uniform = |v: &V| matches!(v, V::CI(_) | V::S(_) | V::SC(..));
        let (x, other, swapped) = match (a, b) {
            (V::IV(x), o) => (*x, o.clone(), false),
            (o, V::IV(x)) if matches!(op, Add | Mul | And) => (*x, o.clone(), true),
            _ => return None,
        };
        let _ = swapped;
        let vec_op = |s: &mut Self, x: Value, y: Value| -> Option<Value> {
            if !matches!(op, Add | Sub | Mul | And) {
                return None;
            }
            Some(s.memo(MemoKey::Bin(op, x, y), |b| match op {
                Add => b.ins().iadd(x, y),
                Sub => b.ins().isub(x, y),
                Mul => b.ins().imul(x, y),
                _ => b.ins().band(x, y),
            }))
        };
        if let V::IV(y) = other {
            return vec_op(self, x, y).map(V::IV);
        }
        if !uniform(&other) {
            return None;
        }
        if let (Shr, V::CI(k)) = (op, &other) {
            let k = k & 31;
            return Some(V::IV(self.memo(MemoKey::ShrImm(x, k), |b| b.ins().sshr_imm_u(x, k))));
        }
        let s = self.to_scalar(other).ok()?;
        match op {
            Shr => {
                let s32 = self.b.ins().ireduce(types::I32, s);
                Some(V::IV(self.b.ins().sshr(x, s32)))
            }
            Add | Sub | Mul | And => {
                let y = self.memo(MemoKey::SplatI32(s), |b| {
                    let s32 = b.ins().ireduce(types::I32, s);
                    b.ins().splat(types::I32X4, s32)
                });
                vec_op(self, x, y).map(V::IV)
            }
            _ => None,
        }
    }

    /// Four consecutive bytes at `addr + off`, widened to i32x4.
    fn load_byte_vector(&mut self, addr: Value, off: i32, signed: bool) -> Value {
        let word = self.memo(MemoKey::Load(6, addr, off), |b| b.ins().load(types::I32, flags(), addr, off));
        self.memo(MemoKey::Load(if signed { 7 } else { 8 }, addr, off), |b| {
            let v = b.ins().scalar_to_vector(types::I32X4, word);
            let bytes = b.ins().bitcast(types::I8X16, little(), v);
            if signed {
                let h = b.ins().swiden_low(bytes);
                b.ins().swiden_low(h)
            } else {
                let h = b.ins().uwiden_low(bytes);
                b.ins().uwiden_low(h)
            }
        })
    }

    /// IEEE binary16 bits (in an i32) to f32, exactly (subnormals,
    /// infinities and NaNs included): a lookup in [`f16_table`], once per
    /// distinct bits value in scope.
    fn f16_to_f32(&mut self, bits: Value) -> Value {
        if let Some((v, _)) = self.memo.get(&MemoKey::HalfToFloat(bits)) {
            return *v;
        }
        let v = self.f16_to_f32_inst(bits);
        self.memo.insert(MemoKey::HalfToFloat(bits), (v, self.depth));
        v
    }

    fn f16_to_f32_inst(&mut self, bits: Value) -> Value {
        // One load from a table of every f16's value: Cranelift's x64
        // backend has no F16C, and the bit-twiddling conversion took ~15
        // instructions per block scale, a quarter of a quantized GEMV.
        let table = f16_table().as_ptr() as i64;
        let base = self.iconst(table);
        let b = &mut *self.b;
        let index = b.ins().uextend(types::I64, bits);
        let offset = b.ins().ishl_imm_u(index, 2);
        let addr = b.ins().iadd(base, offset);
        b.ins().load(types::F32, MemFlagsData::new().with_notrap().with_readonly().with_aligned(), addr, 0)
    }

    fn int_op(&mut self, op: BinOp, x: Value, y: Value) -> Value {
        match op {
            BinOp::Add if self.is_zero(x) => return y,
            BinOp::Add | BinOp::Sub if self.is_zero(y) => return x,
            _ => {}
        }
        let pow2 = self.consts.get(&y).copied().filter(|d| *d > 0 && (*d as u64).is_power_of_two());
        let v = match (op, pow2) {
            (BinOp::Div | BinOp::Rem, Some(d)) => {
                let nonneg = self.fact(x).1;
                self.memo(MemoKey::Bin(op, x, y), |b| Self::pow2_div(b, op == BinOp::Div, x, d, nonneg))
            }
            _ => self.memo(MemoKey::Bin(op, x, y), |b| Self::int_inst(b, op, x, y)),
        };
        let ((fx, nx), (fy, ny)) = (self.fact(x), self.fact(y));
        let fact = match op {
            BinOp::Add => (gcd(fx, fy), nx && ny),
            BinOp::Mul => (fx.saturating_mul(fy).max(1), nx && ny),
            BinOp::Div | BinOp::Min => (1, nx && ny),
            BinOp::Max => (1, nx || ny),
            BinOp::Rem => (self.consts.get(&y).map_or(1, |&d| gcd(fx, d.abs())), nx && ny),
            BinOp::Shr => (1, nx),
            BinOp::And => (1, nx || ny),
            BinOp::Lt | BinOp::Le | BinOp::Eq => (1, true),
            BinOp::Sub => (gcd(fx, fy), false),
        };
        self.facts.insert(v, fact);
        v
    }

    /// Truncating `x / d` or `x % d` for a power of two `d`, with shifts and
    /// masks (an `idiv` costs tens of cycles and Cranelift's optimizer,
    /// which would do this, is off).
    fn pow2_div(b: &mut FunctionBuilder, div: bool, x: Value, d: i64, nonneg: bool) -> Value {
        let k = d.trailing_zeros() as i64;
        if nonneg {
            return if div { b.ins().ushr_imm_u(x, k) } else { b.ins().band_imm_u(x, d - 1) };
        }
        // round toward zero: add d - 1 to negative dividends first
        let sign = b.ins().sshr_imm_u(x, 63);
        let bias = b.ins().band_imm_u(sign, d - 1);
        let biased = b.ins().iadd(x, bias);
        if div {
            b.ins().sshr_imm_u(biased, k)
        } else {
            let floor = b.ins().band_imm_s(biased, -d);
            b.ins().isub(x, floor)
        }
    }

    fn int_inst(b: &mut FunctionBuilder, op: BinOp, x: Value, y: Value) -> Value {
        use BinOp::*;
        let ins = b.ins();
        let cmp = |b: &mut FunctionBuilder, cc: IntCC| {
            let c = b.ins().icmp(cc, x, y);
            b.ins().uextend(types::I64, c)
        };
        match op {
            Add => ins.iadd(x, y),
            Sub => ins.isub(x, y),
            Mul => ins.imul(x, y),
            Div => ins.sdiv(x, y),
            Rem => ins.srem(x, y),
            Max => ins.smax(x, y),
            Min => ins.smin(x, y),
            Shr => ins.sshr(x, y),
            And => ins.band(x, y),
            Lt => cmp(b, IntCC::SignedLessThan),
            Le => cmp(b, IntCC::SignedLessThanOrEqual),
            Eq => cmp(b, IntCC::Equal),
        }
    }

    fn float_bin(&mut self, op: BinOp, a: V, b: V) -> V {
        use BinOp::*;
        let vector = Self::is_lanes(&a) || Self::is_lanes(&b);
        if matches!(op, Lt | Le | Eq) {
            let cc = match op {
                Lt => FloatCC::LessThan,
                Le => FloatCC::LessThanOrEqual,
                _ => FloatCC::Equal,
            };
            let one = |s: &mut Self, x: Value, y: Value| {
                let c = s.b.ins().fcmp(cc, x, y);
                s.b.ins().uextend(types::I64, c)
            };
            if vector {
                let (xs, ys) = (self.to_lanes(a), self.to_lanes(b));
                return V::Lanes(xs.into_iter().zip(ys).map(|(x, y)| one(self, x, y)).collect());
            }
            let (x, y) = (self.to_scalar(a).unwrap(), self.to_scalar(b).unwrap());
            return V::S(one(self, x, y));
        }
        let (x, y) = if vector { (self.to_vec(a), self.to_vec(b)) } else { (self.to_scalar(a).unwrap(), self.to_scalar(b).unwrap()) };
        // Pure, so value-numbered like the integer ops: unrolled iterations
        // that compute the same vector (a dequantized weight shared by
        // several accumulators, say) emit it once.
        let r = self.memo(MemoKey::Bin(op, x, y), |b| {
            let ins = b.ins();
            match op {
                Add => ins.fadd(x, y),
                Sub => ins.fsub(x, y),
                Mul => ins.fmul(x, y),
                Div => ins.fdiv(x, y),
                Max => ins.fmax(x, y),
                Min => ins.fmin(x, y),
                _ => unreachable!("integer-only op {op:?} on floats"),
            }
        });
        if vector { V::Vec(r) } else { V::S(r) }
    }

    fn call1(&mut self, f: FuncRef, x: Value) -> Value {
        let call = self.b.ins().call(f, &[x]);
        self.b.inst_results(call)[0]
    }

    /// Emit `e`, returning its lane form and kind.
    fn value(&mut self, e: &Expr) -> Result<(V, ScalarKind), CodegenError> {
        use ScalarKind::{Float, Int};
        if matches!(e, Expr::Binary(BinOp::Mul | BinOp::Div | BinOp::Rem, ..)) {
            if let Some(i) = self.hoistable.iter().position(|(h, _)| h == e) {
                if let Some((v, _)) = &self.hoisted[i] {
                    return Ok((v.clone(), Int));
                }
            }
        }
        Ok(match e {
            Expr::Float(c) => {
                let c = *c as f32;
                (V::S(self.memo(MemoKey::F32Const(c.to_bits()), |b| b.ins().f32const(c))), Float)
            }
            Expr::Int(c) => (V::CI(*c), Int),
            Expr::Axis(id) => (self.env.get(id).cloned().unwrap_or_else(|| panic!("loop l{id} is not bound")), Int),
            Expr::Dim(d) => (self.dim_v(d), Int),
            Expr::Load { src, index } => {
                let kind = self.src_dtypes[*src as usize].scalar_kind();
                (self.load(*src as usize, index)?, kind)
            }
            Expr::LoadByte { src, offset, signed } => {
                let off = self.int(offset)?;
                let signed = *signed;
                let one = |s: &mut Self, i: V| {
                    let (a, o) = s.address(*src as usize, i, 1);
                    if signed {
                        s.memo(MemoKey::Load(4, a, o), |b| b.ins().sload8(types::I64, flags(), a, o))
                    } else {
                        s.memo(MemoKey::Load(3, a, o), |b| b.ins().uload8(types::I64, flags(), a, o))
                    }
                };
                (
                    match off {
                        V::CI(_) | V::S(_) | V::SC(..) => V::S(one(self, off)),
                        V::Aff(base, 1, c) => {
                            let (a, o) = self.address(*src as usize, V::SC(base, c), 1);
                            V::IV(self.load_byte_vector(a, o, signed))
                        }
                        other => V::Lanes(self.to_lanes(other).into_iter().map(|o| one(self, V::S(o))).collect()),
                    },
                    Int,
                )
            }
            Expr::LoadHalf { src, offset } => {
                let off = self.int(offset)?;
                let one = |s: &mut Self, i: V| {
                    let (a, o) = s.address(*src as usize, i, 1);
                    let bits = s.memo(MemoKey::Load(2, a, o), |b| b.ins().uload16(types::I32, flags(), a, o));
                    s.f16_to_f32(bits)
                };
                (
                    match off {
                        V::CI(_) | V::S(_) | V::SC(..) => V::S(one(self, off)),
                        other => V::Lanes(self.to_lanes(other).into_iter().map(|o| one(self, V::S(o))).collect()),
                    },
                    Float,
                )
            }
            Expr::MulAdd(a, b, c) => {
                let (x, y, z) = (self.value(a)?.0, self.value(b)?.0, self.value(c)?.0);
                let vector = Self::is_lanes(&x) || Self::is_lanes(&y) || Self::is_lanes(&z);
                let (x, y, z) = if vector {
                    (self.to_vec(x), self.to_vec(y), self.to_vec(z))
                } else {
                    (self.to_scalar(x)?, self.to_scalar(y)?, self.to_scalar(z)?)
                };
                let r = if self.fma {
                    self.b.ins().fma(x, y, z)
                } else {
                    let p = self.b.ins().fmul(x, y);
                    self.b.ins().fadd(p, z)
                };
                (if vector { V::Vec(r) } else { V::S(r) }, Float)
            }
            Expr::Unary(op, a) => {
                let (x, kind) = self.value(a)?;
                if kind == Int {
                    let zero = V::CI(0);
                    return Ok(match op {
                        UnOp::Neg => (self.int_bin(BinOp::Sub, zero, x), Int),
                        _ => {
                            let n = self.int_bin(BinOp::Sub, zero, x.clone());
                            (self.int_bin(BinOp::Max, x, n), Int)
                        }
                    });
                }
                let vector = Self::is_lanes(&x);
                let native = |s: &mut Self, x: Value| -> Option<Value> {
                    let ins = s.b.ins();
                    Some(match op {
                        UnOp::Neg => ins.fneg(x),
                        UnOp::Abs => ins.fabs(x),
                        UnOp::Sqrt => ins.sqrt(x),
                        UnOp::Rsqrt => {
                            let r = s.b.ins().sqrt(x);
                            let one = s.b.ins().f32const(1.0);
                            let one = if s.b.func.dfg.value_type(x).is_vector() { s.b.ins().splat(types::F32X4, one) } else { one };
                            s.b.ins().fdiv(one, r)
                        }
                        UnOp::Exp => exp_f32(s.b, x, s.fma),
                        _ => return None,
                    })
                };
                if vector {
                    let xv = self.to_vec(x.clone());
                    if let Some(r) = native(self, xv) {
                        return Ok((V::Vec(r), Float));
                    }
                    let f = self.helpers.unary[op];
                    let lanes = self.to_lanes(x);
                    (V::Lanes(lanes.into_iter().map(|l| self.call1(f, l)).collect()), Float)
                } else {
                    let xs = self.to_scalar(x)?;
                    match native(self, xs) {
                        Some(r) => (V::S(r), Float),
                        None => {
                            let f = self.helpers.unary[op];
                            (V::S(self.call1(f, xs)), Float)
                        }
                    }
                }
            }
            Expr::Binary(op, a, b) => {
                let (x, kind) = self.value(a)?;
                let (y, _) = self.value(b)?;
                match kind {
                    Int => (self.int_bin(*op, x, y), Int),
                    Float => {
                        let k = if matches!(op, BinOp::Lt | BinOp::Le | BinOp::Eq) { Int } else { Float };
                        (self.float_bin(*op, x, y), k)
                    }
                }
            }
            Expr::Select(c, a, b) => {
                let (c, _) = self.value(c)?;
                let (x, kind) = self.value(a)?;
                let (y, _) = self.value(b)?;
                if let V::CI(c) = c {
                    return Ok((if c != 0 { x } else { y }, kind));
                }
                if !Self::is_lanes(&c) && !Self::is_lanes(&x) && !Self::is_lanes(&y) {
                    let (c, x, y) = (self.to_scalar(c)?, self.to_scalar(x)?, self.to_scalar(y)?);
                    return Ok((V::S(self.b.ins().select(c, x, y)), kind));
                }
                let (cs, xs, ys) = (self.to_lanes(c), self.to_lanes(x), self.to_lanes(y));
                let lanes = cs.into_iter().zip(xs).zip(ys).map(|((c, x), y)| self.b.ins().select(c, x, y)).collect();
                (V::Lanes(lanes), kind)
            }
            Expr::Cast(to, a) => {
                let (x, from) = self.value(a)?;
                if from == *to {
                    return Ok((x, from));
                }
                let conv = |s: &mut Self, v: Value| match to {
                    Float => s.b.ins().fcvt_from_sint(types::F32, v),
                    Int => s.b.ins().fcvt_to_sint_sat(types::I64, v),
                };
                match x {
                    V::IV(iv) if *to == Float => (V::Vec(self.memo(MemoKey::ToFloat(iv), |b| b.ins().fcvt_from_sint(types::F32X4, iv))), Float),
                    V::CI(c) if *to == Float => (V::S(self.b.ins().f32const(c as f32)), Float),
                    V::CI(_) | V::S(_) | V::SC(..) => {
                        let s = self.to_scalar(x)?;
                        (V::S(conv(self, s)), *to)
                    }
                    other => {
                        let lanes = self.to_lanes(other);
                        (V::Lanes(lanes.into_iter().map(|l| conv(self, l)).collect()), *to)
                    }
                }
            }
        })
    }
}
