//! The quantized GEMV kernel: `x @ wᵀ` for one f32 row `x: [1, K]` and
//! Q4_0 weights `w: [N, K]` (a decode step's projections), built as one
//! kernel shape instead of the generic lowering (TVM calls this
//! tensorizing; the CPU backend's templates do the same). The generic
//! lowering reads every weight's nibble with its own load, shift and mask
//! in each of 8 vector lanes (the GEMV then reads weights at ~20% of the
//! H100's copy rate); here an invocation takes a whole 18-byte block at a
//! time: five 32-bit loads (the block starts on an even byte, so its words
//! are read aligned and shifted into place), eight 4-vector loads of the
//! activations, and eight 4-element dot products of its nibbles.
//!
//! One workgroup of [`GEMV_INVOCATIONS`] invocations per output row; each
//! invocation sums every `GEMV_INVOCATIONS`-th block of the row, and the
//! workgroup adds the partial sums by a tree in workgroup memory. Bindings
//! are the generic kernel's: the activations, the weights, the output, the
//! dims, then the activations again as an array of 4-vectors (a vector
//! view). Every access is in bounds by construction (see
//! [`lower_q4_0_gemv`]).

use super::*;
use kiln_dsl::{Builtin, OpDef, TensorType};

/// Invocations per workgroup (one output row each workgroup).
pub const GEMV_INVOCATIONS: u32 = 32;

/// The shape `(n, k)` of a stage this kernel computes: `matmul_t` of an
/// f32 `[1, k]` row and Q4_0 `[n, k]` weights, exactly the rule the op
/// defines, each source bound whole.
pub(super) fn recognize_q4_0_gemv(v: &Validated, target: &GpuTarget) -> Option<(i64, i64)> {
    let nest = v.nest();
    if nest.class != KernelClass::Matmul || nest.reduce != Some(ReduceOp::Sum) || !target.quant_gemv {
        return None;
    }
    let [x, w] = nest.sources.as_slice() else { return None };
    let (one, k) = match x.shape.as_slice() {
        [m, k] => (m.as_const()?, k.as_const()?),
        _ => return None,
    };
    let (n, kw) = match w.shape.as_slice() {
        [n, k] => (n.as_const()?, k.as_const()?),
        _ => return None,
    };
    let fits = x.dtype == DType::F32 && w.dtype == DType::Q4_0 && one == 1 && k == kw && k % 32 == 0 && n > 0 && nest.output.dtype == DType::F32 && nest.output.shape == [Dim::new(1), Dim::new(n)];
    if !fits {
        return None;
    }
    // bound whole (no ranges), addressable by i32 byte offsets
    let weight_bytes = n * (k / 32) * 18;
    if weight_bytes >= i32::MAX as i64 || (target.range_words > 0 && (weight_bytes + 3) / 4 > target.range_words as i64) || (target.range_words > 0 && k / 4 > target.range_words as i64) {
        return None;
    }
    let types = [TensorType::new(x.dtype, x.shape.clone()), TensorType::new(w.dtype, w.shape.clone())];
    let rule = Builtin::Matmul { transpose_b: true }.compute(&types, &TensorType::new(DType::F32, nest.output.shape.clone()));
    (rule.len() == 1 && rule[0].body == nest.body).then_some((n, k))
}

/// The kernel for a stage [`recognize_q4_0_gemv`] accepted. In bounds by
/// construction: a row's blocks start at byte `row * 18 K/32 + 18 b`, an
/// even offset, and the five words read from its floor word end at most at
/// the word holding the block's last byte (the block is 18 bytes, so when
/// it starts 2 bytes into a word its last byte ends the fifth word, and
/// when it starts on a word the fifth word holds its last 2 bytes); block
/// indices stay below K/32, so activation vectors below K/4; the output is
/// written at `row < n` only; workgroup memory at the invocation index.
pub(super) fn lower_q4_0_gemv(v: &Validated, target: &GpuTarget, n: i64, k: i64) -> Result<GpuKernel, CodegenError> {
    let nest = v.nest();
    let kernel = format!("{}_q4_0_gemv", nest.name);
    let blocks = k / 32;
    let row_bytes = blocks * 18;
    let mut module = Module::default();
    let i32_ty = scalar_type(&mut module.types, Scalar::I32);
    let u32_ty = scalar_type(&mut module.types, Scalar::U32);
    let f32_ty = scalar_type(&mut module.types, Scalar::F32);
    let vec3_u32 = module.types.insert(Type { name: None, inner: TypeInner::Vector { size: VectorSize::Tri, scalar: Scalar::U32 } }, Span::UNDEFINED);
    let vec2_f32 = module.types.insert(Type { name: None, inner: TypeInner::Vector { size: VectorSize::Bi, scalar: Scalar::F32 } }, Span::UNDEFINED);
    let vec4_f32 = module.types.insert(Type { name: None, inner: TypeInner::Vector { size: VectorSize::Quad, scalar: Scalar::F32 } }, Span::UNDEFINED);
    let array = |module: &mut Module, base: Handle<Type>, stride: u32| module.types.insert(Type { name: None, inner: TypeInner::Array { base, size: naga::ArraySize::Dynamic, stride } }, Span::UNDEFINED);
    let (f32s, u32s, i32s, vec4s) = (array(&mut module, f32_ty, 4), array(&mut module, u32_ty, 4), array(&mut module, i32_ty, 4), array(&mut module, vec4_f32, 16));
    let global = |module: &mut Module, name: &str, binding: u32, ty: Handle<Type>, access: StorageAccess| {
        let var = GlobalVariable { name: Some(name.into()), space: AddressSpace::Storage { access }, binding: Some(ResourceBinding { group: 0, binding }), ty, init: None, memory_decorations: Default::default() };
        module.global_variables.append(var, Span::UNDEFINED)
    };
    // the generic layout: sources, output, dims, vector views
    global(&mut module, "s0", 0, f32s, StorageAccess::LOAD);
    let weights = global(&mut module, "s1", 1, u32s, StorageAccess::LOAD);
    let out = global(&mut module, "out", 2, f32s, StorageAccess::LOAD | StorageAccess::STORE);
    let dims = global(&mut module, "dims", 3, i32s, StorageAccess::LOAD);
    let x_vectors = global(&mut module, "s0_vectors", 4, vec4s, StorageAccess::LOAD);
    let size = std::num::NonZeroU32::new(GEMV_INVOCATIONS).expect("positive");
    let partial_ty = module.types.insert(Type { name: None, inner: TypeInner::Array { base: f32_ty, size: naga::ArraySize::Constant(size), stride: 4 } }, Span::UNDEFINED);
    let partial = module.global_variables.append(GlobalVariable { name: Some("partial".into()), space: AddressSpace::WorkGroup, binding: None, ty: partial_ty, init: None, memory_decorations: Default::default() }, Span::UNDEFINED);

    let mut f = Function { name: Some("main".into()), ..Default::default() };
    for (name, ty, builtin) in [("wid", vec3_u32, BuiltIn::WorkGroupId), ("lidx", u32_ty, BuiltIn::LocalInvocationIndex)] {
        f.arguments.push(FunctionArgument { name: Some(name.into()), ty, binding: Some(Binding::BuiltIn(builtin)) });
    }
    let wid = f.expressions.append(Expression::FunctionArgument(0), Span::UNDEFINED);
    let lidx = f.expressions.append(Expression::FunctionArgument(1), Span::UNDEFINED);
    let dims_global = f.expressions.append(Expression::GlobalVariable(dims), Span::UNDEFINED);
    let [weights, out, x_vectors, partial] = [weights, out, x_vectors, partial].map(|g| f.expressions.append(Expression::GlobalVariable(g), Span::UNDEFINED));
    let mut b = Builder {
        caches: Vec::new(),
        cache_bases: HashMap::new(),
        lidx,
        workgroup_len: GEMV_INVOCATIONS,
        lane: None,
        f,
        pending: None,
        block: Block::new(),
        globals: Vec::new(),
        dims_global,
        symbols: Vec::new(),
        vars: HashMap::new(),
        known: vec![HashMap::new()],
        i32_ty,
        u32_ty,
        f16_ty: None,
        f32_ty,
        vec2_f32,
        target: *target,
        kernel: kernel.clone(),
    };
    let load = |b: &mut Builder, base: Handle<Expression>, index: Handle<Expression>| {
        let at = b.emit(Expression::Access { base, index });
        b.emit(Expression::Load { pointer: at })
    };
    // the row: workgroups past ROW_GROUPS spill into wid.y
    let x = b.emit(Expression::AccessIndex { base: wid, index: 0 });
    let y = b.emit(Expression::AccessIndex { base: wid, index: 1 });
    let row_groups = b.uint(ROW_GROUPS);
    let yr = b.bin(BinaryOperator::Multiply, y, row_groups);
    let row = b.bin(BinaryOperator::Add, x, yr);
    let row = b.cast(row, naga::ScalarKind::Sint, false);
    let t = b.cast(lidx, naga::ScalarKind::Sint, false);
    let acc_var = b.f.local_variables.append(LocalVariable { name: Some("acc".into()), ty: f32_ty, init: None }, Span::UNDEFINED);
    let acc = b.pre(Expression::LocalVariable(acc_var));
    let zero = b.float(0.0)?;
    b.push(Statement::Store { pointer: acc, value: zero });
    let n_rows = b.int(n)?;
    let inside = b.bin(BinaryOperator::Less, row, n_rows);
    b.if_(inside, |b| {
        let rounds = b.int((blocks + GEMV_INVOCATIONS as i64 - 1) / GEMV_INVOCATIONS as i64)?;
        b.loop_to("round".into(), rounds, |b, i| {
            let stride = b.int(GEMV_INVOCATIONS as i64)?;
            let first = b.bin(BinaryOperator::Multiply, i, stride);
            let blk = b.bin(BinaryOperator::Add, first, t);
            let n_blocks = b.int(blocks)?;
            let in_row = b.bin(BinaryOperator::Less, blk, n_blocks);
            b.if_(in_row, |b| {
                // the block's bytes: from its floor word, five words
                let rb = b.int(row_bytes)?;
                let row_at = b.bin(BinaryOperator::Multiply, row, rb);
                let eighteen = b.int(18)?;
                let blk_at = b.bin(BinaryOperator::Multiply, blk, eighteen);
                let at = b.bin(BinaryOperator::Add, row_at, blk_at);
                let two = b.uint(2);
                let word = b.bin(BinaryOperator::ShiftRight, at, two);
                let words: Vec<Handle<Expression>> = (0..5)
                    .map(|i| {
                        let i = b.int(i)?;
                        let idx = b.bin(BinaryOperator::Add, word, i);
                        Ok(load(b, weights, idx))
                    })
                    .collect::<Res<_>>()?;
                // 2 bytes in: the scale is the first word's high half and
                // the nibbles the next four words; else the scale is the
                // low half and each nibble word straddles two
                let three = b.int(3)?;
                let offset = b.bin(BinaryOperator::And, at, three);
                let zero_i = b.int(0)?;
                let aligned = b.bin(BinaryOperator::NotEqual, offset, zero_i);
                let (sixteen, none) = (b.uint(16), b.uint(0));
                let shift = b.emit(Expression::Select { condition: aligned, accept: sixteen, reject: none });
                let scale = b.f16_in_word(words[0], shift)?;
                let x_at = b.int(8)?;
                let x_at = b.bin(BinaryOperator::Multiply, blk, x_at);
                let (mask, eight) = (b.uint(15), b.float(8.0)?);
                let eights = b.emit(Expression::Splat { size: VectorSize::Quad, value: eight });
                let mut sum: Option<Handle<Expression>> = None;
                for j in 0..4 {
                    let lo_half = b.bin(BinaryOperator::ShiftRight, words[j], sixteen);
                    let hi_half = b.bin(BinaryOperator::ShiftLeft, words[j + 1], sixteen);
                    let straddling = b.bin(BinaryOperator::InclusiveOr, lo_half, hi_half);
                    let q = b.emit(Expression::Select { condition: aligned, accept: words[j + 1], reject: straddling });
                    // byte i of the word: element 4j + i (low nibble) and 16 + 4j + i (high)
                    for (half, shift0) in [(0usize, 0u32), (1, 4)] {
                        let lanes: Vec<Handle<Expression>> = (0..4)
                            .map(|i| {
                                let s = b.uint(8 * i + shift0);
                                let v = b.bin(BinaryOperator::ShiftRight, q, s);
                                let v = b.bin(BinaryOperator::And, v, mask);
                                b.cast(v, naga::ScalarKind::Float, true)
                            })
                            .collect();
                        let nibbles = b.emit(Expression::Compose { ty: vec4_f32, components: lanes });
                        let centred = b.bin(BinaryOperator::Subtract, nibbles, eights);
                        let xi = b.int((4 * half + j) as i64)?;
                        let xi = b.bin(BinaryOperator::Add, x_at, xi);
                        let xv = load(b, x_vectors, xi);
                        let d = b.math(MathFunction::Dot, centred, Some(xv), None);
                        sum = Some(match sum {
                            None => d,
                            Some(s) => b.bin(BinaryOperator::Add, s, d),
                        });
                    }
                }
                let contribution = b.bin(BinaryOperator::Multiply, scale, sum.expect("eight dot products"));
                let old = b.emit(Expression::Load { pointer: acc });
                let new = b.bin(BinaryOperator::Add, old, contribution);
                b.push(Statement::Store { pointer: acc, value: new });
                Ok(())
            })
        })
    })?;
    // the workgroup's partial sums, added by a tree (rows are uniform in a
    // workgroup, so every invocation reaches the barriers)
    let mine = b.emit(Expression::Access { base: partial, index: lidx });
    let value = b.emit(Expression::Load { pointer: acc });
    b.push(Statement::Store { pointer: mine, value });
    b.push(Statement::ControlBarrier(naga::Barrier::WORK_GROUP));
    let mut step = GEMV_INVOCATIONS / 2;
    while step > 0 {
        let s = b.uint(step);
        let below = b.bin(BinaryOperator::Less, lidx, s);
        b.if_(below, |b| {
            let other = b.bin(BinaryOperator::Add, lidx, s);
            let mine_at = b.emit(Expression::Access { base: partial, index: lidx });
            let other_at = b.emit(Expression::Access { base: partial, index: other });
            let m = b.emit(Expression::Load { pointer: mine_at });
            let o = b.emit(Expression::Load { pointer: other_at });
            let sum = b.bin(BinaryOperator::Add, m, o);
            b.push(Statement::Store { pointer: mine_at, value: sum });
            Ok(())
        })?;
        b.push(Statement::ControlBarrier(naga::Barrier::WORK_GROUP));
        step /= 2;
    }
    let zero_u = b.uint(0);
    let first = b.bin(BinaryOperator::Equal, lidx, zero_u);
    let n_rows = b.int(n)?;
    let inside = b.bin(BinaryOperator::Less, row, n_rows);
    let store_it = b.bin(BinaryOperator::LogicalAnd, first, inside);
    b.if_(store_it, |b| {
        let total_at = b.emit(Expression::Access { base: partial, index: lidx });
        let total = b.emit(Expression::Load { pointer: total_at });
        let at = b.emit(Expression::Access { base: out, index: row });
        b.push(Statement::Store { pointer: at, value: total });
        Ok(())
    })?;
    b.push(Statement::Return { value: None });
    let mut f = b.f;
    f.body = b.block;
    let workgroup_size = [GEMV_INVOCATIONS, 1, 1];
    module.entry_points.push(EntryPoint {
        name: "main".into(),
        stage: ShaderStage::Compute,
        early_depth_test: None,
        workgroup_size,
        workgroup_size_overrides: None,
        function: f,
        mesh_info: None,
        task_payload: None,
        incoming_ray_payload: None,
    });
    let info = target
        .validator()
        .validate(&module)
        .map_err(|e| CodegenError::Backend { kernel: kernel.clone(), message: format!("naga rejects the shader: {}", e.emit_to_string("")) })?;
    Ok(GpuKernel {
        name: kernel,
        module,
        info,
        symbols: Vec::new(),
        grid: [Expr::Int(n), Expr::Int(1)],
        workgroup_size,
        sources: 2,
        ranges: vec![1, 1],
        vector_views: vec![0],
        target: *target,
        nest: format!("q4_0 GEMV kernel ({GEMV_INVOCATIONS} invocations per row, a block at a time) for\n{v}"),
        bounds_proof: Ok(()),
    })
}
