//! The integer-dot GEMV: `out[m, n] = Σ_k x[m, k] · w[n, k]` with `x` rows
//! of Q8_0 blocks (what a quantize stage writes: llama.cpp's arithmetic)
//! and `w` Q4_0 rows split into nibbles and scales
//! ([`GpuTarget::split_q4_0`]) or Q8_0 blocks, for a few rows of `x`
//! (decode).
//!
//! Built whole, like the matrix-unit GEMM: each invocation takes one block
//! of 32 weights per step, or 2 or 4 consecutive ones (the schedule's
//! vector width over 8), each one 16-byte load of Q4_0's nibbles and its
//! scale (Q8_0's bytes are signed already); it turns the nibbles into four
//! bytes a word (`q - 8`, signed) and multiplies
//! them with the block's 8-bit activations by `dot4I8Packed` (a packed
//! integer dot product: `OpSDot` on Vulkan), so a block is 8 integer dot
//! products and one float multiply-add, where the generic kernel converts
//! and multiplies every weight as f32. The integer sums are exact, so it
//! computes what the stage's rule says up to the f32 rounding of adding the
//! blocks. On the H100 a probe of this kernel read Q4_0 weights at 2.1 TB/s
//! against the generic kernel's 0.93 (`benches/RESULTS.md`).

use super::*;

/// A matmul the integer-dot GEMV takes: its constant shape, and its
/// epilogue if it has one.
#[derive(Clone, Debug, PartialEq)]
pub struct IntDotGemv {
    /// Rows of `x` (1 to [`IntDotGemv::MAX_ROWS`]).
    m: i64,
    /// Rows of `w` (outputs per row of `x`).
    n: i64,
    /// The reduction's length, a multiple of 64 (whole blocks, an even
    /// number of them, so that every row of `w` starts on a word).
    k: i64,
    /// Q4_0 (split rows) or Q8_0 (GGUF's blocks).
    weights: DType,
    /// The sources `x` and `w` are (0 and 1 unless an epilogue's come
    /// first).
    x: u32,
    w: u32,
    /// What is added to (or subtracted from) each output after its sum
    /// ([`kiln_dsl::ops::matmul_t_operands`]: a residual add), read at the
    /// output's point from the other sources.
    epilogue: Option<(BinOp, Expr)>,
}

/// Invocations per workgroup, rows of `w` per workgroup and consecutive
/// blocks per invocation and step of a schedule: the nest's `gpu_thread.x`
/// and `gpu_thread.y` extents (the GEMV knobs' `reduce_threads` and
/// `outputs_per_group`), and its vector width over 8 (`vector_width`: the
/// default 8 takes one block a step, 16 two, 32 four; less than 8, one).
fn knobs(nest: &kiln_schedule::LoopNest) -> (u32, u32, u32) {
    let extent = |kind: LoopKind| nest.loops.iter().find(|l| l.kind == kind).and_then(|l| l.const_extent()).unwrap_or(1).max(1) as u32;
    let lanes = extent(LoopKind::GpuThread(0)).min(MAX_WORKGROUP);
    (lanes, extent(LoopKind::GpuThread(1)).clamp(1, MAX_WORKGROUP / lanes), (extent(LoopKind::Vectorized) / 8).clamp(1, 4))
}

impl IntDotGemv {
    /// The most rows of `x` one kernel takes (each adds accumulators).
    pub const MAX_ROWS: i64 = kiln_dsl::ops::INT_DOT_ROWS;

    /// The GEMV `nest` is, if `target` can run it with integer dot
    /// products (subgroups, Q4_0 weights in split rows or Q8_0 weights,
    /// every source bound whole), its body `x[m, k] · w[n, k]` alone or
    /// with an epilogue reading neither.
    pub fn of(nest: &kiln_schedule::LoopNest, target: &GpuTarget) -> Option<IntDotGemv> {
        if !target.int_dot || !target.subgroups || nest.class != KernelClass::Matmul || nest.reduce != Some(ReduceOp::Sum) || nest.output.dtype != DType::F32 {
            return None;
        }
        let (xs, ws, epilogue) = kiln_dsl::ops::matmul_t_operands(&nest.body)?;
        if epilogue.is_none() && nest.sources.len() != 2 {
            return None;
        }
        let (x, w) = (nest.sources.get(xs as usize)?, nest.sources.get(ws as usize)?);
        let ([m, k], [n, wk]) = (&x.shape[..], &w.shape[..]) else { return None };
        let (m, k, n) = (m.as_const()?, k.as_const()?, n.as_const()?);
        let whole = |dtype: DType, shape: &[Dim]| shape.iter().map(Dim::as_const).product::<Option<i64>>().is_some_and(|len| target.range_words == 0 || dtype.storage_bytes(len as usize).div_ceil(4) <= target.range_words as usize);
        let fits = (1..=Self::MAX_ROWS).contains(&m) && n > 0 && k > 0 && k % 64 == 0 && wk.as_const() == Some(k) && nest.sources.iter().all(|s| whole(s.dtype, &s.shape));
        let weights = (w.dtype == DType::Q4_0 && target.split_q4_0) || w.dtype == DType::Q8_0;
        let epilogue = epilogue.map(|(op, rest)| (op, rest.clone()));
        (fits && x.dtype == DType::Q8_0 && weights).then_some(IntDotGemv { m, n, k, weights: w.dtype, x: xs, w: ws, epilogue })
    }
}

// axes of the index expressions below
const ROW: u32 = 0;
const BLOCK: u32 = 1;

/// The kernel of `g` (see the module docs): workgroups of `reduce_threads`
/// invocations, each workgroup `outputs_per_group` consecutive rows of `w`
/// for every row of `x` (the activations a step loads serve them all); the
/// invocations walk the blocks, then `subgroupAdd` and one barrier combine
/// their sums, and an epilogue (a residual add) joins each output once.
/// Accesses are in bounds by construction: blocks below K / 32,
/// rows of `w` clamped to the last (and not written past it), the word
/// after a Q8_0 block's values clamped to the buffer; the epilogue's where
/// the stage's are (its bounds proof).
pub(super) fn lower_int_dot_gemv(v: &Validated, target: &GpuTarget, g: &IntDotGemv) -> Result<GpuKernel, CodegenError> {
    let nest = v.nest();
    let kernel = nest.name.clone();
    let (lanes, rows, per_step) = knobs(nest);
    let (m_rows, blocks) = (g.m, g.k / 32);
    let outputs = rows as usize * m_rows as usize;
    let mut module = Module::default();
    let u32_ty = scalar_type(&mut module.types, Scalar::U32);
    let f32_ty = scalar_type(&mut module.types, Scalar::F32);
    let vec3_u32 = module.types.insert(Type { name: None, inner: TypeInner::Vector { size: VectorSize::Tri, scalar: Scalar::U32 } }, Span::UNDEFINED);
    let vec4_u32 = module.types.insert(Type { name: None, inner: TypeInner::Vector { size: VectorSize::Quad, scalar: Scalar::U32 } }, Span::UNDEFINED);
    let sources: Vec<(DType, Vec<Dim>)> = nest.sources.iter().map(|b| (b.dtype, b.shape.clone())).collect();
    let dtypes: Vec<DType> = sources.iter().map(|s| s.0).collect();
    // every source whole (`IntDotGemv::of`): x, w, then what the epilogue reads
    let ranges = vec![1; sources.len()];
    let source_vars = source_globals(&mut module, &dtypes, &ranges, target);
    let out_binding = sources.len() as u32;
    let out_var = storage_global(&mut module, "out".into(), out_binding as usize, Scalar::F32, StorageAccess::LOAD | StorageAccess::STORE);
    let dims_var = storage_global(&mut module, "dims".into(), out_binding as usize + 1, Scalar::I32, StorageAccess::LOAD);
    let epilogue = g.epilogue.as_ref().map(|(op, rest)| (*op, kiln_dsl::quant::expand_quant_loads_in(target.quant_layout(), rest, &sources)));
    let symbols = symbols_of(epilogue.as_ref().map(|(_, rest)| rest), sources.iter().flat_map(|s| &s.1));
    // the weights' nibbles as 16-byte vectors (a second binding of `w`)
    // where every row starts on 16 bytes, else as words
    let vectors = g.weights == DType::Q4_0 && (blocks * 18) % 16 == 0;
    let view_var = vectors.then(|| {
        let ty = module.types.insert(Type { name: None, inner: TypeInner::Array { base: vec4_u32, size: naga::ArraySize::Dynamic, stride: 16 } }, Span::UNDEFINED);
        global_variable(&mut module, format!("s{}_vectors", g.w), AddressSpace::Storage { access: StorageAccess::LOAD }, Some(out_binding + 2), ty)
    });
    // each subgroup's sums (at most one subgroup per invocation)
    let ty = array_type(&mut module, Scalar::F32, Some(lanes * outputs as u32));
    let partial_var = global_variable(&mut module, "partial".into(), AddressSpace::WorkGroup, None, ty);

    let (mut f, wid, lidx) = workgroup_entry(vec3_u32, u32_ty);
    let (subgroup, lane) = subgroup_arguments(&mut f, u32_ty);
    f.arguments.push(FunctionArgument { name: Some("subgroups".into()), ty: u32_ty, binding: Some(Binding::BuiltIn(BuiltIn::NumSubgroups)) });
    let subgroups = f.expressions.append(Expression::FunctionArgument(f.arguments.len() as u32 - 1), Span::UNDEFINED);
    let (globals, out_g) = kernel_sources(&mut f, &source_vars, &sources, out_var, &nest.output.shape, target);
    let mut handle = |g| f.expressions.append(Expression::GlobalVariable(g), Span::UNDEFINED);
    let (dims_g, view_g, partial_g) = (handle(dims_var), view_var.map(&mut handle), handle(partial_var));
    let mut b = Builder::new(&mut module, target, &kernel, f, globals, dims_g, symbols.clone(), (lidx, lanes), Vec::new());

    let accs: Vec<Handle<Expression>> = (0..outputs)
        .map(|i| {
            let var = b.f.local_variables.append(LocalVariable { name: Some(format!("acc{i}")), ty: f32_ty, init: None }, Span::UNDEFINED);
            b.pre(Expression::LocalVariable(var))
        })
        .collect();
    let zero = b.float(0.0)?;
    for &acc in &accs {
        b.push(Statement::Store { pointer: acc, value: zero });
    }
    let group = b.workgroup_index(wid);
    let rows_h = b.int(rows as i64)?;
    let row0 = b.bin(BinaryOperator::Multiply, group, rows_h);
    let lidx_i = b.cast(lidx, naga::ScalarKind::Sint, false);
    // each step an invocation takes `per_step` consecutive blocks; the
    // check that a block exists only where the blocks do not fill the steps
    let span = lanes as i64 * per_step as i64;
    let steps = b.int((blocks + span - 1) / span)?;
    let ragged = blocks % span != 0;
    let (int, ax) = (kiln_dsl::int, |a: u32| Expr::Axis(a));
    // a row of `w`: `blocks` x 16 bytes of nibbles, then `blocks` f16 scales
    let row_bytes = blocks * 18;
    b.loop_to("step".into(), steps, |b, step| {
        let lanes_h = b.int(lanes as i64)?;
        let offset = b.bin(BinaryOperator::Multiply, step, lanes_h);
        let slot = b.bin(BinaryOperator::Add, lidx_i, offset);
        let first = if per_step == 1 {
            slot
        } else {
            let per_step_h = b.int(per_step as i64)?;
            b.bin(BinaryOperator::Multiply, slot, per_step_h)
        };
        for j in 0..per_step {
            let block = if j == 0 {
                first
            } else {
                let j_h = b.int(j as i64)?;
                b.bin(BinaryOperator::Add, first, j_h)
            };
            let multiply = |b: &mut Builder| -> Result<(), CodegenError> {
                b.bind(BLOCK, block);
                // each row of x's block: its scale and its 8 words of values
                let mut acts = Vec::new();
                for m in 0..m_rows {
                    let at = int(m * blocks).add(ax(BLOCK));
                    let (scale, words) = q8_0_block(b, g.x, at, g.m * blocks)?;
                    acts.push((scale, words));
                }
                for r in 0..rows {
                    // rows past the last read the last (their sums are not stored)
                    let r_h = b.int(r as i64)?;
                    let row = b.bin(BinaryOperator::Add, row0, r_h);
                    let last = b.int(g.n - 1)?;
                    let row = b.math(MathFunction::Min, row, Some(last), None);
                    b.bind(ROW, row);
                    let (scale, weights) = if g.weights == DType::Q8_0 {
                        // signed bytes already
                        q8_0_block(b, g.w, ax(ROW).mul(int(blocks)).add(ax(BLOCK)), g.n * blocks)?
                    } else {
                        let (scale, _) = b.value(&Expr::LoadHalf { src: g.w, offset: Box::new(ax(ROW).mul(int(row_bytes)).add(int(blocks * 16)).add(ax(BLOCK).mul(int(2)))) })?;
                        let nibbles: Vec<Handle<Expression>> = match view_g {
                            Some(view) => {
                                let (at, _) = b.value(&ax(ROW).mul(int(row_bytes / 16)).add(ax(BLOCK)))?;
                                let at = b.emit(Expression::Access { base: view, index: at });
                                let vector = b.emit(Expression::Load { pointer: at });
                                (0..4).map(|j| b.emit(Expression::AccessIndex { base: vector, index: j })).collect()
                            }
                            None => (0..4).map(|j| b.word(g.w, &ax(ROW).mul(int(row_bytes / 4)).add(ax(BLOCK).mul(int(4))).add(int(j)))).collect::<Result<_, _>>()?,
                        };
                        // the block's 32 weights as 8 words of signed bytes, in order
                        let mut weights = Vec::new();
                        for word in nibbles {
                            let low = b.uint(0xFFFF);
                            let low = b.bin(BinaryOperator::And, word, low);
                            let sixteen = b.uint(16);
                            let high = b.bin(BinaryOperator::ShiftRight, word, sixteen);
                            weights.push(signed_bytes(b, low));
                            weights.push(signed_bytes(b, high));
                        }
                        (scale, weights)
                    };
                    for (m, (act_scale, words)) in acts.iter().enumerate() {
                        let mut sum = None;
                        for (&w, &x) in weights.iter().zip(words) {
                            let d = b.math(MathFunction::Dot4I8Packed, w, Some(x), None);
                            sum = Some(match sum {
                                None => d,
                                Some(s) => b.bin(BinaryOperator::Add, s, d),
                            });
                        }
                        let sum = b.cast(sum.expect("8 words"), naga::ScalarKind::Float, true);
                        let scales = b.bin(BinaryOperator::Multiply, scale, *act_scale);
                        let product = b.bin(BinaryOperator::Multiply, scales, sum);
                        let acc = accs[r as usize * m_rows as usize + m];
                        let old = b.emit(Expression::Load { pointer: acc });
                        let new = b.bin(BinaryOperator::Add, old, product);
                        b.push(Statement::Store { pointer: acc, value: new });
                    }
                }
                Ok(())
            };
            if ragged {
                let blocks_h = b.int(blocks)?;
                let inside = b.bin(BinaryOperator::Less, block, blocks_h);
                b.if_(inside, multiply)?;
            } else {
                multiply(b)?;
            }
        }
        Ok(())
    })?;
    // each subgroup's sums to workgroup memory, then one invocation per
    // output adds the subgroups'
    let outputs_h = b.uint(outputs as u32);
    for (i, &acc) in accs.iter().enumerate() {
        let total = b.emit(Expression::Load { pointer: acc });
        let result = b.pre(Expression::SubgroupOperationResult { ty: f32_ty });
        b.push(Statement::SubgroupCollectiveOperation { op: naga::SubgroupOperation::Add, collective_op: naga::CollectiveOperation::Reduce, argument: total, result });
        let zero = b.uint(0);
        let leader = b.bin(BinaryOperator::Equal, lane, zero);
        b.if_(leader, |b| {
            let base = b.bin(BinaryOperator::Multiply, subgroup, outputs_h);
            let i = b.uint(i as u32);
            let slot = b.bin(BinaryOperator::Add, base, i);
            let at = b.emit(Expression::Access { base: partial_g, index: slot });
            b.push(Statement::Store { pointer: at, value: result });
            Ok(())
        })?;
    }
    b.barrier();
    // output o (row o / M of the workgroup's, of x's row o % M) by
    // invocation o % lanes
    let rounds = b.int((outputs as i64 + lanes as i64 - 1) / lanes as i64)?;
    b.loop_to("output".into(), rounds, |b, round| {
        let lanes_h = b.int(lanes as i64)?;
        let first = b.bin(BinaryOperator::Multiply, round, lanes_h);
        let o = b.bin(BinaryOperator::Add, first, lidx_i);
        let outputs_i = b.int(outputs as i64)?;
        let storing = b.bin(BinaryOperator::Less, o, outputs_i);
        b.if_(storing, |b| {
            let acc = accs[0];
            let zero = b.float(0.0)?;
            b.push(Statement::Store { pointer: acc, value: zero });
            let n = b.cast(subgroups, naga::ScalarKind::Sint, false);
            b.loop_to("subgroup_partial".into(), n, |b, s| {
                let base = b.bin(BinaryOperator::Multiply, s, outputs_i);
                let slot = b.bin(BinaryOperator::Add, base, o);
                let at = b.emit(Expression::Access { base: partial_g, index: slot });
                let theirs = b.emit(Expression::Load { pointer: at });
                let old = b.emit(Expression::Load { pointer: acc });
                let new = b.bin(BinaryOperator::Add, old, theirs);
                b.push(Statement::Store { pointer: acc, value: new });
                Ok(())
            })?;
            let m_h = b.int(m_rows)?;
            let r = b.bin(BinaryOperator::Divide, o, m_h);
            let m = b.bin(BinaryOperator::Modulo, o, m_h);
            let row = b.bin(BinaryOperator::Add, row0, r);
            let n_h = b.int(g.n)?;
            let real = b.bin(BinaryOperator::Less, row, n_h);
            b.if_(real, |b| {
                let mn = b.bin(BinaryOperator::Multiply, m, n_h);
                let index = b.bin(BinaryOperator::Add, mn, row);
                let at = b.emit(Expression::Access { base: out_g, index });
                let mut v = b.emit(Expression::Load { pointer: acc });
                if let Some((op, rest)) = &epilogue {
                    // read at the output's point: (row of x, row of w)
                    b.bind(0, m);
                    b.bind(1, row);
                    let r = b.value(rest)?;
                    let r = b.to_float(r);
                    let op = if *op == BinOp::Sub { BinaryOperator::Subtract } else { BinaryOperator::Add };
                    v = b.bin(op, v, r);
                }
                b.push(Statement::Store { pointer: at, value: v });
                Ok(())
            })
        })
    })?;
    b.push(Statement::Return { value: None });
    let workgroup_size = [lanes, 1, 1];
    let info = b.finish(&mut module, workgroup_size)?;
    let grid = [Expr::Int((g.n + rows as i64 - 1) / rows as i64), Expr::Int(1)];
    // x and w in bounds by construction; the epilogue's loads where the
    // stage's are, at its output points
    let bounds_proof = if epilogue.is_some() { nest.bounds_proof().map_err(String::from) } else { Ok(()) };
    Ok(GpuKernel { name: kernel, module, info, symbols, grid, workgroup_size, sources: sources.len(), ranges, vector_views: if vectors { vec![g.w as usize] } else { Vec::new() }, target: *target, nest: v.to_string(), bounds_proof })
}

/// The four bytes of `nibbles`' low 16 bits (four nibbles, in order) as
/// signed bytes `q - 8`: the nibbles spread one to a byte, then each byte
/// `u` made `(u + 120) ^ 128` (u - 8 in two's complement, without carries
/// between bytes).
fn signed_bytes(b: &mut Builder, nibbles: Handle<Expression>) -> Handle<Expression> {
    let spread = |b: &mut Builder, v: Handle<Expression>, shift: u32, mask: u32| {
        let s = b.uint(shift);
        let moved = b.bin(BinaryOperator::ShiftLeft, v, s);
        let both = b.bin(BinaryOperator::InclusiveOr, v, moved);
        let mask = b.uint(mask);
        b.bin(BinaryOperator::And, both, mask)
    };
    let pairs = spread(b, nibbles, 8, 0x00FF_00FF);
    let bytes = spread(b, pairs, 4, 0x0F0F_0F0F);
    let offset = b.uint(0x7878_7878);
    let biased = b.bin(BinaryOperator::Add, bytes, offset);
    let sign = b.uint(0x8080_8080);
    b.bin(BinaryOperator::ExclusiveOr, biased, sign)
}

/// Block `at` of Q8_0 source `src` of `blocks` blocks (the activations,
/// or Q8_0 weights): its scale (f32) and its 32 values as 8 words of 4
/// signed bytes, in order. A block is 34 bytes (scale, values), so every
/// other block's values are 2 bytes off a word and are joined from two
/// words (the word after the last block's clamped to the buffer).
fn q8_0_block(b: &mut Builder, src: u32, at: Expr, blocks: i64) -> Result<(Handle<Expression>, Vec<Handle<Expression>>), CodegenError> {
    let int = kiln_dsl::int;
    let block_bytes = DType::Q8_0.block_bytes() as i64;
    let (scale, _) = b.value(&Expr::LoadHalf { src, offset: Box::new(at.clone().mul(int(block_bytes))) })?;
    let first = at.mul(int(block_bytes)).add(int(2));
    let last_word = (blocks * block_bytes + 3) / 4 - 1;
    let word_at = |i: i64| first.clone().div(int(4)).add(int(i));
    let raw: Vec<Handle<Expression>> = (0..9)
        .map(|i| {
            let index = if i == 8 { Expr::Binary(BinOp::Min, Box::new(word_at(i)), Box::new(int(last_word))) } else { word_at(i) };
            b.word(src, &index)
        })
        .collect::<Result<_, _>>()?;
    let (misaligned, _) = b.value(&first.rem(int(4)))?;
    let zero = b.int(0)?;
    let misaligned = b.bin(BinaryOperator::NotEqual, misaligned, zero);
    let sixteen = b.uint(16);
    let words = (0..8)
        .map(|i| {
            let low = b.bin(BinaryOperator::ShiftRight, raw[i], sixteen);
            let high = b.bin(BinaryOperator::ShiftLeft, raw[i + 1], sixteen);
            let joined = b.bin(BinaryOperator::InclusiveOr, low, high);
            b.emit(Expression::Select { condition: misaligned, accept: joined, reject: raw[i] })
        })
        .collect();
    Ok((scale, words))
}
