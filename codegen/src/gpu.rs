//! The GPU backend's code generator: a stage lowered to a compute shader
//! built directly as a [`naga::Module`] (no shader text is pasted
//! together), checked by naga's validator, and written by naga's back ends
//! as WGSL, SPIR-V or MSL.
//!
//! First slice: stages over f32 and i32 buffers, one invocation per output
//! element; a reduction runs its whole range in that invocation, in order
//! (correct, not yet fast: workgroup and subgroup reductions come next). Shader interface: group 0,
//! binding `i` is source `i` (`array<f32>` or `array<i32>`, read-only),
//! then the output (read-write), then `dims: array<i32>` holding the values
//! of [`GpuKernel::symbols`]. Invocation `gid.x + gid.y * ROW` computes the
//! output element of that flat index.

use crate::error::CodegenError;
use kiln_dsl::{BinOp, DType, Dim, Expr, ScalarKind, UnOp};
use kiln_schedule::Validated;
use naga::{
    AddressSpace, BinaryOperator, Binding, Block, BuiltIn, EntryPoint, Expression, Function, FunctionArgument, GlobalVariable, Handle, Literal, MathFunction, Module,
    ResourceBinding, Scalar, ShaderStage, Span, Statement, StorageAccess, Type, TypeInner, UnaryOperator, VectorSize,
};
use std::collections::BTreeSet;

/// Invocations per workgroup (x).
pub const WORKGROUP: u32 = 64;
/// Workgroups per dispatch row: outputs past `WORKGROUP * ROW_GROUPS`
/// spill into `gid.y`.
pub const ROW_GROUPS: u32 = 32768;

/// A compute shader for one stage.
#[derive(Debug)]
pub struct GpuKernel {
    /// Kernel name (the stage's).
    pub name: String,
    /// The shader.
    pub module: Module,
    /// naga's validation result, which the back ends need.
    pub info: naga::valid::ModuleInfo,
    /// Symbolic dims, in the order of the `dims` buffer.
    pub symbols: Vec<String>,
    /// Output elements: one invocation each.
    pub outputs: Expr,
    /// Sources read (the bindings before the output).
    pub sources: usize,
}

impl GpuKernel {
    /// The shader as WGSL.
    pub fn wgsl(&self) -> Result<String, CodegenError> {
        naga::back::wgsl::write_string(&self.module, &self.info, naga::back::wgsl::WriterFlags::empty()).map_err(|e| self.backend(e))
    }

    /// The shader as SPIR-V words.
    pub fn spirv(&self) -> Result<Vec<u32>, CodegenError> {
        naga::back::spv::write_vec(&self.module, &self.info, &naga::back::spv::Options::default(), None).map_err(|e| self.backend(e))
    }

    /// The shader as Metal Shading Language.
    pub fn msl(&self) -> Result<String, CodegenError> {
        let pipeline = naga::back::msl::PipelineOptions::default();
        naga::back::msl::write_string(&self.module, &self.info, &naga::back::msl::Options::default(), &pipeline).map(|(s, _)| s).map_err(|e| self.backend(e))
    }

    fn backend(&self, e: impl std::fmt::Display) -> CodegenError {
        CodegenError::Backend { kernel: self.name.clone(), message: e.to_string() }
    }
}

/// The value kinds shader expressions take.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Float,
    Int,
}

struct Builder {
    f: Function,
    /// Expressions appended since the last `Emit`.
    pending: Option<(Handle<Expression>, Handle<Expression>)>,
    block: Block,
    /// Each source's (and last, the output's) global pointer, shape, kind.
    globals: Vec<(Handle<Expression>, Vec<Dim>, Kind)>,
    dims_global: Handle<Expression>,
    symbols: Vec<String>,
    axes: Vec<Handle<Expression>>,
    kernel: String,
}

impl Builder {
    fn unsupported(&self, what: impl Into<String>) -> CodegenError {
        CodegenError::Unsupported { kernel: self.kernel.clone(), target: "gpu", what: what.into() }
    }

    /// Append an expression that must be emitted before use.
    fn emit(&mut self, e: Expression) -> Handle<Expression> {
        let h = self.f.expressions.append(e, Span::UNDEFINED);
        self.pending = Some(match self.pending {
            None => (h, h),
            Some((first, _)) => (first, h),
        });
        h
    }

    /// Append an expression that is never emitted (literals, globals,
    /// arguments), after closing the pending range.
    fn pre(&mut self, e: Expression) -> Handle<Expression> {
        self.flush();
        self.f.expressions.append(e, Span::UNDEFINED)
    }

    fn flush(&mut self) {
        if let Some((first, last)) = self.pending.take() {
            self.block.push(Statement::Emit(naga::Range::new_from_bounds(first, last)), Span::UNDEFINED);
        }
    }

    fn int(&mut self, v: i64) -> Result<Handle<Expression>, CodegenError> {
        let v = i32::try_from(v).map_err(|_| self.unsupported(format!("the integer {v} does not fit i32")))?;
        Ok(self.pre(Expression::Literal(Literal::I32(v))))
    }

    fn float(&mut self, v: f64) -> Result<Handle<Expression>, CodegenError> {
        let v = v as f32;
        if !v.is_finite() {
            // naga literals are finite: ±inf as a bit pattern
            let bits = self.pre(Expression::Literal(Literal::U32(v.to_bits())));
            return Ok(self.emit(Expression::As { expr: bits, kind: naga::ScalarKind::Float, convert: None }));
        }
        Ok(self.pre(Expression::Literal(Literal::F32(v))))
    }

    fn bin(&mut self, op: BinaryOperator, left: Handle<Expression>, right: Handle<Expression>) -> Handle<Expression> {
        self.emit(Expression::Binary { op, left, right })
    }

    fn math(&mut self, fun: MathFunction, arg: Handle<Expression>, arg1: Option<Handle<Expression>>, arg2: Option<Handle<Expression>>) -> Handle<Expression> {
        self.emit(Expression::Math { fun, arg, arg1, arg2, arg3: None })
    }

    fn dim(&mut self, d: &Dim) -> Result<Handle<Expression>, CodegenError> {
        let mut total: Option<Handle<Expression>> = None;
        for (mono, c) in d.terms() {
            let mut term = self.int(c)?;
            for s in mono {
                let i = self.symbols.iter().position(|x| x == s).expect("symbols collected");
                let i = self.int(i as i64)?;
                let at = self.emit(Expression::Access { base: self.dims_global, index: i });
                let v = self.emit(Expression::Load { pointer: at });
                term = self.bin(BinaryOperator::Multiply, term, v);
            }
            total = Some(match total {
                None => term,
                Some(t) => self.bin(BinaryOperator::Add, t, term),
            });
        }
        match total {
            Some(t) => Ok(t),
            None => self.int(0),
        }
    }

    /// Row-major flat index of `index` into `shape`.
    fn flat(&mut self, index: &[Expr], shape: &[Dim]) -> Result<Handle<Expression>, CodegenError> {
        let mut flat: Option<Handle<Expression>> = None;
        for (e, d) in index.iter().zip(shape) {
            let (i, _) = self.value(e)?;
            flat = Some(match flat {
                None => i,
                Some(f) => {
                    let n = self.dim(d)?;
                    let scaled = self.bin(BinaryOperator::Multiply, f, n);
                    self.bin(BinaryOperator::Add, scaled, i)
                }
            });
        }
        match flat {
            Some(f) => Ok(f),
            None => self.int(0),
        }
    }

    fn to_int(&mut self, (h, k): (Handle<Expression>, Kind)) -> Handle<Expression> {
        match k {
            Kind::Int => h,
            Kind::Float => self.emit(Expression::As { expr: h, kind: naga::ScalarKind::Sint, convert: Some(4) }),
        }
    }

    fn to_bool(&mut self, (h, k): (Handle<Expression>, Kind)) -> Result<Handle<Expression>, CodegenError> {
        let zero = if k == Kind::Int { self.int(0)? } else { self.float(0.0)? };
        Ok(self.bin(BinaryOperator::NotEqual, h, zero))
    }

    fn value(&mut self, e: &Expr) -> Result<(Handle<Expression>, Kind), CodegenError> {
        Ok(match e {
            Expr::Float(v) => (self.float(*v)?, Kind::Float),
            Expr::Int(v) => (self.int(*v)?, Kind::Int),
            Expr::Axis(a) => (*self.axes.get(*a as usize).ok_or_else(|| self.unsupported("a reduction axis"))?, Kind::Int),
            Expr::Dim(d) => (self.dim(d)?, Kind::Int),
            Expr::Load { src, index } => {
                let (global, shape, kind) = self.globals_info(*src)?;
                let flat = self.flat(index, &shape)?;
                let at = self.emit(Expression::Access { base: global, index: flat });
                (self.emit(Expression::Load { pointer: at }), kind)
            }
            Expr::LoadByte { .. } | Expr::LoadHalf { .. } => return Err(self.unsupported("quantized loads")),
            Expr::Unary(op, a) => {
                let (x, kind) = self.value(a)?;
                if kind == Kind::Int {
                    return Ok(match op {
                        UnOp::Neg => (self.emit(Expression::Unary { op: UnaryOperator::Negate, expr: x }), Kind::Int),
                        UnOp::Abs => (self.math(MathFunction::Abs, x, None, None), Kind::Int),
                        _ => return Err(self.unsupported(format!("{op:?} of an integer"))),
                    });
                }
                let fun = match op {
                    UnOp::Neg => return Ok((self.emit(Expression::Unary { op: UnaryOperator::Negate, expr: x }), Kind::Float)),
                    UnOp::Abs => MathFunction::Abs,
                    UnOp::Exp => MathFunction::Exp,
                    UnOp::Log => MathFunction::Log,
                    UnOp::Sqrt => MathFunction::Sqrt,
                    UnOp::Rsqrt => {
                        let s = self.math(MathFunction::Sqrt, x, None, None);
                        let one = self.float(1.0)?;
                        return Ok((self.bin(BinaryOperator::Divide, one, s), Kind::Float));
                    }
                    UnOp::Tanh => MathFunction::Tanh,
                    UnOp::Sin => MathFunction::Sin,
                    UnOp::Cos => MathFunction::Cos,
                    UnOp::Erf => return Err(self.unsupported("erf")),
                };
                (self.math(fun, x, None, None), Kind::Float)
            }
            Expr::Binary(op, a, b) => {
                let (x, ka) = self.value(a)?;
                let (y, _) = self.value(b)?;
                use BinOp::*;
                match op {
                    Add | Sub | Mul | Div | Rem | And => {
                        let bop = match op {
                            Add => BinaryOperator::Add,
                            Sub => BinaryOperator::Subtract,
                            Mul => BinaryOperator::Multiply,
                            Div => BinaryOperator::Divide,
                            Rem => BinaryOperator::Modulo,
                            _ => BinaryOperator::And,
                        };
                        (self.bin(bop, x, y), ka)
                    }
                    Max | Min => (self.math(if *op == Max { MathFunction::Max } else { MathFunction::Min }, x, Some(y), None), ka),
                    Shr => {
                        let count = self.emit(Expression::As { expr: y, kind: naga::ScalarKind::Uint, convert: Some(4) });
                        (self.bin(BinaryOperator::ShiftRight, x, count), Kind::Int)
                    }
                    Lt | Le | Eq => {
                        let bop = match op {
                            Lt => BinaryOperator::Less,
                            Le => BinaryOperator::LessEqual,
                            _ => BinaryOperator::Equal,
                        };
                        let c = self.bin(bop, x, y);
                        (self.emit(Expression::As { expr: c, kind: naga::ScalarKind::Sint, convert: Some(4) }), Kind::Int)
                    }
                }
            }
            Expr::Select(c, a, b) => {
                let c = self.value(c)?;
                let condition = self.to_bool(c)?;
                let (accept, k) = self.value(a)?;
                let (reject, _) = self.value(b)?;
                (self.emit(Expression::Select { condition, accept, reject }), k)
            }
            Expr::MulAdd(a, b, c) => {
                let (x, _) = self.value(a)?;
                let (y, _) = self.value(b)?;
                let (z, _) = self.value(c)?;
                (self.math(MathFunction::Fma, x, Some(y), Some(z)), Kind::Float)
            }
            Expr::Cast(ScalarKind::Float, a) => {
                let (x, k) = self.value(a)?;
                match k {
                    Kind::Float => (x, Kind::Float),
                    _ => {
                        let x = self.to_int((x, k));
                        (self.emit(Expression::As { expr: x, kind: naga::ScalarKind::Float, convert: Some(4) }), Kind::Float)
                    }
                }
            }
            Expr::Cast(ScalarKind::Int, a) => {
                let v = self.value(a)?;
                (self.to_int(v), Kind::Int)
            }
        })
    }

    fn globals_info(&mut self, src: u32) -> Result<(Handle<Expression>, Vec<Dim>, Kind), CodegenError> {
        self.globals.get(src as usize).cloned().ok_or_else(|| self.unsupported(format!("source {src}")))
    }
}

fn scalar_type(types: &mut naga::UniqueArena<Type>, s: Scalar) -> Handle<Type> {
    types.insert(Type { name: None, inner: TypeInner::Scalar(s) }, Span::UNDEFINED)
}

fn collect_dims(e: &Expr, out: &mut BTreeSet<String>) {
    e.visit(&mut |x| {
        if let Expr::Dim(d) = x {
            out.extend(d.symbols().map(String::from));
        }
    });
}

/// Lower an elementwise stage's nest to a validated compute shader.
pub fn lower(v: &Validated) -> Result<GpuKernel, CodegenError> {
    let nest = v.nest();
    let kernel = nest.name.clone();
    let unsupported = |what: &str| CodegenError::Unsupported { kernel: kernel.clone(), target: "gpu", what: what.into() };
    let element = |d: DType| match d {
        DType::F32 => Some((Scalar::F32, Kind::Float)),
        DType::I32 => Some((Scalar::I32, Kind::Int)),
        _ => None,
    };
    let mut symbols = BTreeSet::new();
    collect_dims(&nest.body, &mut symbols);
    for b in nest.sources.iter().chain([&nest.output]) {
        for d in &b.shape {
            symbols.extend(d.symbols().map(String::from));
        }
        if element(b.dtype).is_none() {
            return Err(unsupported(&format!("{} buffers (f32 and i32 so far)", b.dtype)));
        }
    }
    let symbols: Vec<String> = symbols.into_iter().collect();

    let mut module = Module::default();
    let u32_ty = scalar_type(&mut module.types, Scalar::U32);
    let i32_ty = scalar_type(&mut module.types, Scalar::I32);
    let f32_ty = scalar_type(&mut module.types, Scalar::F32);
    let vec3_u32 = module.types.insert(Type { name: None, inner: TypeInner::Vector { size: VectorSize::Tri, scalar: Scalar::U32 } }, Span::UNDEFINED);
    let array_of = |types: &mut naga::UniqueArena<Type>, s: Scalar| {
        let base = scalar_type(types, s);
        types.insert(Type { name: None, inner: TypeInner::Array { base, size: naga::ArraySize::Dynamic, stride: 4 } }, Span::UNDEFINED)
    };
    let mut global_vars = Vec::new();
    let n_src = nest.sources.len();
    for (i, b) in nest.sources.iter().chain([&nest.output]).enumerate() {
        let (s, _) = element(b.dtype).expect("checked above");
        let ty = array_of(&mut module.types, s);
        let access = if i == n_src { StorageAccess::LOAD | StorageAccess::STORE } else { StorageAccess::LOAD };
        global_vars.push(module.global_variables.append(
            GlobalVariable {
                name: Some(if i == n_src { "out".to_string() } else { format!("s{i}") }),
                space: AddressSpace::Storage { access },
                binding: Some(ResourceBinding { group: 0, binding: i as u32 }),
                ty,
                init: None,
                memory_decorations: Default::default(),
            },
            Span::UNDEFINED,
        ));
    }
    let dims_ty = array_of(&mut module.types, Scalar::I32);
    let dims_var = module.global_variables.append(
        GlobalVariable {
            name: Some("dims".into()),
            space: AddressSpace::Storage { access: StorageAccess::LOAD },
            binding: Some(ResourceBinding { group: 0, binding: n_src as u32 + 1 }),
            ty: dims_ty,
            init: None,
            memory_decorations: Default::default(),
        },
        Span::UNDEFINED,
    );

    let mut f = Function { name: Some("main".into()), ..Default::default() };
    f.arguments.push(FunctionArgument { name: Some("gid".into()), ty: vec3_u32, binding: Some(Binding::BuiltIn(BuiltIn::GlobalInvocationId)) });
    let gid = f.expressions.append(Expression::FunctionArgument(0), Span::UNDEFINED);
    let dims_global = f.expressions.append(Expression::GlobalVariable(dims_var), Span::UNDEFINED);
    let mut globals = Vec::new();
    for (i, (&g, buf)) in global_vars.iter().zip(nest.sources.iter().chain([&nest.output])).enumerate() {
        let _ = i;
        let h = f.expressions.append(Expression::GlobalVariable(g), Span::UNDEFINED);
        globals.push((h, buf.shape.clone(), element(buf.dtype).expect("checked").1));
    }
    let mut b = Builder { f, pending: None, block: Block::new(), globals, dims_global, symbols: symbols.clone(), axes: Vec::new(), kernel: kernel.clone() };

    // flat output index: gid.x + gid.y * (WORKGROUP * ROW_GROUPS), as i32
    let x = b.emit(Expression::AccessIndex { base: gid, index: 0 });
    let y = b.emit(Expression::AccessIndex { base: gid, index: 1 });
    let row = b.pre(Expression::Literal(Literal::U32(WORKGROUP * ROW_GROUPS)));
    let yr = b.bin(BinaryOperator::Multiply, y, row);
    let idx = b.bin(BinaryOperator::Add, x, yr);
    let idx = b.emit(Expression::As { expr: idx, kind: naga::ScalarKind::Sint, convert: Some(4) });
    let shape = nest.output.shape.clone();
    let mut total = b.int(1)?;
    for d in &shape {
        let n = b.dim(d)?;
        total = b.bin(BinaryOperator::Multiply, total, n);
    }
    let outside = b.bin(BinaryOperator::GreaterEqual, idx, total);
    b.flush();
    let mut ret = Block::new();
    ret.push(Statement::Return { value: None }, Span::UNDEFINED);
    b.block.push(Statement::If { condition: outside, accept: ret, reject: Block::new() }, Span::UNDEFINED);
    // stage axes from the flat index, innermost last
    let mut rest = idx;
    let mut axes = vec![rest; shape.len()];
    for (a, d) in shape.iter().enumerate().rev() {
        let n = b.dim(d)?;
        axes[a] = if a == 0 { rest } else { b.bin(BinaryOperator::Modulo, rest, n) };
        if a > 0 {
            rest = b.bin(BinaryOperator::Divide, rest, n);
        }
    }
    b.axes = axes;
    let out_kind = element(nest.output.dtype).expect("checked").1;
    let (value, kind) = match nest.reduce {
        None => b.value(&nest.body)?,
        Some(rop) => {
            // one invocation reduces its output point's whole range, in order
            let acc_ty = if out_kind == Kind::Float { f32_ty } else { i32_ty };
            let acc_var = b.f.local_variables.append(naga::LocalVariable { name: Some("acc".into()), ty: acc_ty, init: None }, Span::UNDEFINED);
            let r_var = b.f.local_variables.append(naga::LocalVariable { name: Some("r".into()), ty: i32_ty, init: None }, Span::UNDEFINED);
            let acc = b.pre(Expression::LocalVariable(acc_var));
            let r_ptr = b.pre(Expression::LocalVariable(r_var));
            let ident = rop.identity(if out_kind == Kind::Float { ScalarKind::Float } else { ScalarKind::Int });
            let ident = if out_kind == Kind::Float { b.float(ident)? } else { b.int(ident as i64)? };
            let zero = b.int(0)?;
            let extents: Vec<Expr> = nest.loops[shape.len()..].iter().map(|l| l.extent.clone()).collect();
            let mut ext_h = Vec::new();
            let mut total_r = b.int(1)?;
            for e in &extents {
                let (h, _) = b.value(e)?;
                total_r = b.bin(BinaryOperator::Multiply, total_r, h);
                ext_h.push(h);
            }
            b.flush();
            b.block.push(Statement::Store { pointer: acc, value: ident }, Span::UNDEFINED);
            b.block.push(Statement::Store { pointer: r_ptr, value: zero }, Span::UNDEFINED);
            let outer = std::mem::replace(&mut b.block, Block::new());
            let r = b.emit(Expression::Load { pointer: r_ptr });
            let done = b.bin(BinaryOperator::GreaterEqual, r, total_r);
            b.flush();
            let mut brk = Block::new();
            brk.push(Statement::Break, Span::UNDEFINED);
            b.block.push(Statement::If { condition: done, accept: brk, reject: Block::new() }, Span::UNDEFINED);
            let mut red_axes = vec![r; ext_h.len()];
            let mut rest = r;
            for k in (0..ext_h.len()).rev() {
                red_axes[k] = if k == 0 { rest } else { b.bin(BinaryOperator::Modulo, rest, ext_h[k]) };
                if k > 0 {
                    rest = b.bin(BinaryOperator::Divide, rest, ext_h[k]);
                }
            }
            let spatial = b.axes.clone();
            b.axes.extend(red_axes);
            let (x, xk) = b.value(&nest.body)?;
            b.axes = spatial;
            let x = match (xk, out_kind) {
                (Kind::Float, Kind::Int) => b.to_int((x, xk)),
                (Kind::Int, Kind::Float) => {
                    let i = b.to_int((x, xk));
                    b.emit(Expression::As { expr: i, kind: naga::ScalarKind::Float, convert: Some(4) })
                }
                _ => x,
            };
            let old = b.emit(Expression::Load { pointer: acc });
            let new = match rop {
                kiln_dsl::ReduceOp::Sum => b.bin(BinaryOperator::Add, old, x),
                kiln_dsl::ReduceOp::Max => b.math(MathFunction::Max, old, Some(x), None),
                kiln_dsl::ReduceOp::Min => b.math(MathFunction::Min, old, Some(x), None),
            };
            b.flush();
            b.block.push(Statement::Store { pointer: acc, value: new }, Span::UNDEFINED);
            let body = std::mem::replace(&mut b.block, Block::new());
            let r2 = b.emit(Expression::Load { pointer: r_ptr });
            let one = b.int(1)?;
            let next = b.bin(BinaryOperator::Add, r2, one);
            b.flush();
            b.block.push(Statement::Store { pointer: r_ptr, value: next }, Span::UNDEFINED);
            let continuing = std::mem::replace(&mut b.block, outer);
            b.block.push(Statement::Loop { body, continuing, break_if: None }, Span::UNDEFINED);
            (b.emit(Expression::Load { pointer: acc }), out_kind)
        }
    };
    let value = match (kind, out_kind) {
        (Kind::Float, Kind::Int) => b.to_int((value, kind)),
        (Kind::Int, Kind::Float) => {
            let i = b.to_int((value, kind));
            b.emit(Expression::As { expr: i, kind: naga::ScalarKind::Float, convert: Some(4) })
        }
        _ => value,
    };
    let out_global = b.globals[n_src].0;
    let at = b.emit(Expression::Access { base: out_global, index: idx });
    b.flush();
    b.block.push(Statement::Store { pointer: at, value }, Span::UNDEFINED);
    b.block.push(Statement::Return { value: None }, Span::UNDEFINED);
    let mut f = b.f;
    f.body = b.block;
    let _ = u32_ty;
    module.entry_points.push(EntryPoint {
        name: "main".into(),
        stage: ShaderStage::Compute,
        early_depth_test: None,
        workgroup_size: [WORKGROUP, 1, 1],
        workgroup_size_overrides: None,
        function: f,
        mesh_info: None,
        task_payload: None,
        incoming_ray_payload: None,
    });
    let info = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty())
        .validate(&module)
        .map_err(|e| CodegenError::Backend { kernel: kernel.clone(), message: format!("naga rejects the shader: {}", e.emit_to_string("")) })?;
    let mut outputs = Expr::Int(1);
    for d in &shape {
        outputs = outputs.mul(kiln_dsl::dim(d));
    }
    Ok(GpuKernel { name: kernel, module, info, symbols, outputs, sources: n_src })
}
