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

/// SIMD lanes of the vector type used (f32x4).
pub const LANES: usize = 4;

#[derive(Clone, Debug)]
enum V {
    /// Compile-time integer.
    CI(i64),
    /// Uniform scalar (i64 or f32).
    S(Value),
    /// Integer lanes `base + stride * lane` (stride != 0).
    Aff(Value, i64),
    /// Per-lane scalars.
    Lanes(Vec<Value>),
    /// f32x4 vector.
    Vec(Value),
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

enum Acc {
    Scalar(Variable),
    Vector(Variable),
    Lanes(Vec<Variable>),
}

/// Helper functions imported into the kernel.
pub struct Helpers {
    pub unary: HashMap<UnOp, FuncRef>,
    pub f16_to_f32: FuncRef,
    pub f32_to_f16: FuncRef,
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
    accs: HashMap<Vec<i64>, Acc>,
    src_dtypes: Vec<DType>,
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
            accs: HashMap::new(),
            src_dtypes: nest.sources.iter().map(|s| s.dtype).collect(),
        }
    }

    fn unsupported(&self, what: String) -> CodegenError {
        CodegenError::Unsupported { kernel: self.v.nest().name.clone(), target: "cpu", what }
    }

    // ---------- loops ----------

    pub fn emit(&mut self) -> Result<(), CodegenError> {
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
                let zero = self.b.ins().iconst(types::I64, 0);
                self.env.insert(l.id, V::Aff(zero, 1));
                self.emit_nest(pos + 1, mode)
            }
            _ => {
                let extent = self.scalar(&l.extent)?;
                let (lo, hi) = if pos == 0 {
                    let hi = self.b.ins().smin(self.range.1, extent);
                    (self.range.0, hi)
                } else {
                    (self.b.ins().iconst(types::I64, 0), extent)
                };
                let header = self.b.create_block();
                let body = self.b.create_block();
                let exit = self.b.create_block();
                let i = self.b.append_block_param(header, types::I64);
                self.b.ins().jump(header, &[lo.into()]);
                self.b.switch_to_block(header);
                let c = self.b.ins().icmp(IntCC::SignedLessThan, i, hi);
                self.b.ins().brif(c, body, &[], exit, &[]);
                self.b.switch_to_block(body);
                self.env.insert(l.id, V::S(i));
                self.emit_nest(pos + 1, mode)?;
                let next = self.b.ins().iadd_imm_s(i, 1);
                self.b.ins().jump(header, &[next.into()]);
                self.b.switch_to_block(exit);
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
        f(self, Mode::Fast)?;
        self.b.ins().jump(merge, &[]);
        self.b.switch_to_block(slow);
        f(self, Mode::Slow)?;
        self.b.ins().jump(merge, &[]);
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
        f(self)?;
        self.b.ins().jump(merge, &[]);
        self.b.switch_to_block(merge);
        Ok(())
    }

    fn leaf(&mut self, mode: Mode) -> Result<(), CodegenError> {
        let guards = if mode == Mode::Slow { self.guards.clone() } else { Vec::new() };
        self.guarded(&guards, |s| {
            let body = s.body.clone();
            let (value, _) = s.value(&body)?;
            if s.v.nest().reduce.is_some() {
                s.accumulate(value)
            } else {
                s.store(value)
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

    fn accumulate(&mut self, value: V) -> Result<(), CodegenError> {
        let key = self.current_key();
        // In slow mode the vector loop is scalarized: find which lane we are.
        let lane = self.region_vector_loop().and_then(|(id, _)| match self.env.get(&id) {
            Some(V::CI(c)) => Some(*c as u8),
            _ => None,
        });
        match (&self.accs[&key], lane) {
            (Acc::Scalar(var), _) => {
                let var = *var;
                let x = self.to_scalar(value)?;
                let old = self.b.use_var(var);
                let new = self.combine(old, x);
                self.b.def_var(var, new);
            }
            (Acc::Vector(var), None) => {
                let var = *var;
                let x = self.to_vec(value);
                let old = self.b.use_var(var);
                let new = self.combine(old, x);
                self.b.def_var(var, new);
            }
            (Acc::Vector(var), Some(l)) => {
                let var = *var;
                let x = self.to_scalar(value)?;
                let old = self.b.use_var(var);
                let lane_old = self.b.ins().extractlane(old, l);
                let lane_new = self.combine(lane_old, x);
                let new = self.b.ins().insertlane(old, lane_new, l);
                self.b.def_var(var, new);
            }
            (Acc::Lanes(vars), lane) => {
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
                        let zero = s.b.ins().iconst(types::I64, 0);
                        s.env.insert(id, V::Aff(zero, 1));
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
                            vector_store(self, value.clone())?;
                            self.b.ins().jump(merge, &[]);
                            self.b.switch_to_block(slow);
                            lane_stores(self, value, &sg)?;
                            self.b.ins().jump(merge, &[]);
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

    fn address(&mut self, buf: usize, index: Value, elem: i64) -> Value {
        let off = if elem == 1 { index } else { self.b.ins().imul_imm_s(index, elem) };
        self.b.ins().iadd(self.bufs[buf], off)
    }

    fn load_scalar(&mut self, buf: usize, dtype: DType, index: Value) -> Value {
        let f = flags();
        match dtype {
            DType::F32 => {
                let a = self.address(buf, index, 4);
                self.b.ins().load(types::F32, f, a, 0)
            }
            DType::I32 => {
                let a = self.address(buf, index, 4);
                self.b.ins().sload32(f, a, 0)
            }
            DType::F16 => {
                let a = self.address(buf, index, 2);
                let bits = self.b.ins().uload16(types::I32, f, a, 0);
                let call = self.b.ins().call(self.helpers.f16_to_f32, &[bits]);
                self.b.inst_results(call)[0]
            }
            q => unreachable!("quantized load of {q} survived expansion"),
        }
    }

    fn load(&mut self, src: usize, index: &[Expr]) -> Result<V, CodegenError> {
        let shape = self.v.nest().sources[src].shape.clone();
        let dtype = self.src_dtypes[src];
        let flat = self.flat_index(index, &shape)?;
        Ok(match flat {
            V::Aff(base, 1) if dtype == DType::F32 => {
                let a = self.address(src, base, 4);
                V::Vec(self.b.ins().load(types::F32X4, flags(), a, 0))
            }
            V::CI(_) | V::S(_) => {
                let i = self.to_scalar(flat)?;
                V::S(self.load_scalar(src, dtype, i))
            }
            other => V::Lanes(self.to_lanes(other).into_iter().map(|i| self.load_scalar(src, dtype, i)).collect()),
        })
    }

    fn store(&mut self, value: V) -> Result<(), CodegenError> {
        let nest = self.v.nest();
        let out = nest.sources.len();
        let dtype = nest.output.dtype;
        let shape = nest.output.shape.clone();
        let idx = self.store_index.clone();
        let flat = self.flat_index(&idx, &shape)?;
        let store_one = |s: &mut Self, i: Value, x: Value| {
            let f = flags();
            match dtype {
                DType::F32 => {
                    let a = s.address(out, i, 4);
                    s.b.ins().store(f, x, a, 0);
                }
                DType::I32 => {
                    let a = s.address(out, i, 4);
                    let x = s.b.ins().ireduce(types::I32, x);
                    s.b.ins().store(f, x, a, 0);
                }
                DType::F16 => {
                    let a = s.address(out, i, 2);
                    let call = s.b.ins().call(s.helpers.f32_to_f16, &[x]);
                    let bits = s.b.inst_results(call)[0];
                    s.b.ins().istore16(f, bits, a, 0);
                }
                q => unreachable!("store of quantized {q}"),
            }
        };
        match (flat, dtype) {
            (V::Aff(base, 1), DType::F32) => {
                let x = self.to_vec(value);
                let a = self.address(out, base, 4);
                self.b.ins().store(flags(), x, a, 0);
            }
            (flat @ (V::CI(_) | V::S(_)), _) => {
                let i = self.to_scalar(flat)?;
                let x = self.to_scalar(value)?;
                store_one(self, i, x);
            }
            (flat, _) => {
                let is = self.to_lanes(flat);
                let xs = self.to_lanes(value);
                for (i, x) in is.into_iter().zip(xs) {
                    store_one(self, i, x);
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
            V::CI(c) => self.b.ins().iconst(types::I64, c),
            V::S(s) => s,
            other => unreachable!("expected a uniform value, got {other:?}"),
        })
    }

    fn to_lanes(&mut self, v: V) -> Vec<Value> {
        match v {
            V::CI(c) => (0..LANES).map(|_| self.b.ins().iconst(types::I64, c)).collect(),
            V::S(s) => vec![s; LANES],
            V::Aff(base, stride) => (0..LANES).map(|l| self.b.ins().iadd_imm_s(base, stride * l as i64)).collect(),
            V::Lanes(l) => l,
            V::Vec(x) => (0..LANES).map(|l| self.b.ins().extractlane(x, l as u8)).collect(),
        }
    }

    fn to_vec(&mut self, v: V) -> Value {
        match v {
            V::Vec(x) => x,
            V::S(s) => self.b.ins().splat(types::F32X4, s),
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
        matches!(v, V::Aff(..) | V::Lanes(_) | V::Vec(_))
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
        let affine = |base: Value, stride: i64| if stride == 0 { V::S(base) } else { V::Aff(base, stride) };
        match (op, a.clone(), b.clone()) {
            (Add, V::Aff(x, s), u @ (V::CI(_) | V::S(_))) | (Add, u @ (V::CI(_) | V::S(_)), V::Aff(x, s)) => {
                let u = self.to_scalar(u).unwrap();
                return V::Aff(self.b.ins().iadd(x, u), s);
            }
            (Add, V::Aff(x, s), V::Aff(y, t)) => return affine(self.b.ins().iadd(x, y), s + t),
            (Sub, V::Aff(x, s), u @ (V::CI(_) | V::S(_))) => {
                let u = self.to_scalar(u).unwrap();
                return V::Aff(self.b.ins().isub(x, u), s);
            }
            (Mul, V::Aff(x, s), V::CI(c)) | (Mul, V::CI(c), V::Aff(x, s)) => return affine(self.b.ins().imul_imm_s(x, c), s * c),
            _ => {}
        }
        if Self::is_lanes(&a) || Self::is_lanes(&b) {
            let (xs, ys) = (self.to_lanes(a), self.to_lanes(b));
            return V::Lanes(xs.into_iter().zip(ys).map(|(x, y)| self.int_op(op, x, y)).collect());
        }
        let (x, y) = (self.to_scalar(a).unwrap(), self.to_scalar(b).unwrap());
        V::S(self.int_op(op, x, y))
    }

    fn int_op(&mut self, op: BinOp, x: Value, y: Value) -> Value {
        use BinOp::*;
        let ins = self.b.ins();
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
            Lt => cmp(self.b, IntCC::SignedLessThan),
            Le => cmp(self.b, IntCC::SignedLessThanOrEqual),
            Eq => cmp(self.b, IntCC::Equal),
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
        let ins = self.b.ins();
        let r = match op {
            Add => ins.fadd(x, y),
            Sub => ins.fsub(x, y),
            Mul => ins.fmul(x, y),
            Div => ins.fdiv(x, y),
            Max => ins.fmax(x, y),
            Min => ins.fmin(x, y),
            _ => unreachable!("integer-only op {op:?} on floats"),
        };
        if vector { V::Vec(r) } else { V::S(r) }
    }

    fn call1(&mut self, f: FuncRef, x: Value) -> Value {
        let call = self.b.ins().call(f, &[x]);
        self.b.inst_results(call)[0]
    }

    /// Emit `e`, returning its lane form and kind.
    fn value(&mut self, e: &Expr) -> Result<(V, ScalarKind), CodegenError> {
        use ScalarKind::{Float, Int};
        Ok(match e {
            Expr::Float(c) => (V::S(self.b.ins().f32const(*c as f32)), Float),
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
                let one = |s: &mut Self, o: Value| {
                    let a = s.address(*src as usize, o, 1);
                    if signed { s.b.ins().sload8(types::I64, flags(), a, 0) } else { s.b.ins().uload8(types::I64, flags(), a, 0) }
                };
                (
                    match off {
                        V::CI(_) | V::S(_) => {
                            let o = self.to_scalar(off)?;
                            V::S(one(self, o))
                        }
                        other => V::Lanes(self.to_lanes(other).into_iter().map(|o| one(self, o)).collect()),
                    },
                    Int,
                )
            }
            Expr::LoadHalf { src, offset } => {
                let off = self.int(offset)?;
                let one = |s: &mut Self, o: Value| {
                    let a = s.address(*src as usize, o, 1);
                    let bits = s.b.ins().uload16(types::I32, flags(), a, 0);
                    s.call1(s.helpers.f16_to_f32, bits)
                };
                (
                    match off {
                        V::CI(_) | V::S(_) => {
                            let o = self.to_scalar(off)?;
                            V::S(one(self, o))
                        }
                        other => V::Lanes(self.to_lanes(other).into_iter().map(|o| one(self, o)).collect()),
                    },
                    Float,
                )
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
                    V::CI(c) if *to == Float => (V::S(self.b.ins().f32const(c as f32)), Float),
                    V::CI(_) | V::S(_) => {
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
