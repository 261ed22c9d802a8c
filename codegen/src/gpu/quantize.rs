//! The quantize kernel: a stage writing Q8_0 or Q8_1 blocks of its f32
//! body (activations for llama.cpp's arithmetic, with whatever producers
//! the graph optimizer fused into it: a norm's scaling, a SwiGLU gate).
//!
//! Built whole: a workgroup of 64 invocations takes 8 consecutive blocks,
//! 8 invocations a block and 4 values each. Each invocation reads its
//! values once and packs their bytes into one word; the block's maximum
//! magnitude (and Q8_1's sum) comes through workgroup memory. A Q8_1 block
//! (36 bytes) starts on a word, so each invocation stores its word. Q8_0
//! blocks (34 bytes) share words with their neighbours, but 8 of them fill
//! 68 whole words: the workgroup assembles its span's words in workgroup
//! memory and stores them, no atomics. The scale is `d = amax / 127`, the
//! values `round(x * 127 / amax)` (half to even, as the interpreter's).
//!
//! An invocation per block, its 32 values in turn, took 10 us for a row of
//! 4096 on the H100 (two workgroups busy, each invocation a long chain of
//! dependent work); two blocks per invocation, to write whole words, 14.
//!
//! With a row reduction (an RMSNorm's mean of squares that the quantized
//! values read), each workgroup first computes its row's value itself
//! (`row_reduced`).

use super::row_reduced::{bind_row, OwnRow};
use super::*;

/// Blocks per workgroup (8 for Q8_0: 272 bytes, whole words).
const BLOCKS: u32 = 8;
/// Invocations per block, 4 values each.
const PER_BLOCK: u32 = 8;

/// The kernel of the quantize stage `v` (see the module docs).
pub(super) fn lower_quantize(v: &Validated, target: &GpuTarget) -> Result<GpuKernel, CodegenError> {
    lower_quantize_with(v, target, None)
}

/// The quantize kernel, with the reduction over each row that it reads
/// (source `n_inputs`, [`super::lower_row_reduced`]) computed by each
/// workgroup first.
pub(super) fn lower_quantize_with(v: &Validated, target: &GpuTarget, row_reduction: Option<(&kiln_schedule::LoopNest, usize)>) -> Result<GpuKernel, CodegenError> {
    let nest = v.nest();
    let kernel = nest.name.clone();
    let unsupported = |what: &str| CodegenError::Unsupported { kernel: kernel.clone(), target: "gpu", what: what.into() };
    let dtype = nest.output.dtype;
    if !matches!(dtype, DType::Q8_0 | DType::Q8_1) || nest.reduce.is_some() {
        return Err(unsupported(&format!("quantize to {dtype}")));
    }
    let Some((last, outer)) = nest.output.shape.split_last() else { return Err(unsupported("quantize a scalar")) };
    let row_len = last.as_const().filter(|k| k % 32 == 0 && *k > 0).ok_or_else(|| unsupported("quantize rows that are not whole 32-value blocks"))?;
    let row_blocks = row_len / 32;
    let rank = nest.output.shape.len() as u32;
    let all_sources: Vec<(DType, Vec<Dim>)> = nest.sources.iter().map(|b| (b.dtype, b.shape.clone())).collect();
    let all_dtypes: Vec<DType> = all_sources.iter().map(|s| s.0).collect();
    let mut body = kiln_dsl::quant::expand_quant_loads_in(target.quant_layout(), &nest.body, &all_sources);
    // a row reduction: its body over the op's inputs, and the quantize
    // body's reads of its value (at the row, which is the workgroup's)
    // as a load without an index, which the kernel knows before it quantizes
    let reduced = match row_reduction {
        Some((r, n_inputs)) => {
            let own_row = OwnRow::of(r, n_inputs, &body, outer, &all_sources, target).filter(|_| row_blocks % BLOCKS as i64 == 0);
            let Some((own_row, own_body)) = own_row else { return Err(unsupported("reduce rows that are not whole spans of the quantized rows")) };
            body = own_body;
            Some(own_row)
        }
        None => None,
    };
    // the sources the kernel binds: all, or the op's inputs (the reduction's
    // value is computed, not read)
    let bound = reduced.as_ref().map_or(all_sources.len(), |r| r.n_inputs);
    let sources = all_sources[..bound].to_vec();
    let dtypes = all_dtypes[..bound].to_vec();
    let all_blocks = Expr::Dim(kiln_dsl::product(outer)).mul(Expr::Int(row_blocks));
    let grid = [all_blocks.clone().add(Expr::Int(BLOCKS as i64 - 1)).div(Expr::Int(BLOCKS as i64)), Expr::Int(1)];
    let symbols = symbols_of([&body, &grid[0]].into_iter().chain(reduced.as_ref().map(|r| &r.body)), nest.sources.iter().chain([&nest.output]).flat_map(|b| &b.shape));
    let mut bounds_proof = nest.bounds_proof().map_err(String::from).and_then(|()| kiln_schedule::prove_divisors(&body, &all_dtypes));
    if let Some(r) = &reduced {
        bounds_proof = bounds_proof.and_then(|()| r.bounds_proof(&dtypes));
    }

    let mut module = Module::default();
    let u32_ty = scalar_type(&mut module.types, Scalar::U32);
    let vec3_u32 = module.types.insert(Type { name: None, inner: TypeInner::Vector { size: VectorSize::Tri, scalar: Scalar::U32 } }, Span::UNDEFINED);
    let WholeKernelGlobals { ranges, sources: source_vars, out: out_var, dims: dims_var } = whole_kernel_globals(&mut module, &sources, target, Scalar::U32);
    let lanes = BLOCKS * PER_BLOCK;
    let shared = |module: &mut Module, name: &str, s: Scalar, len: u32| {
        let ty = array_type(module, s, Some(len));
        global_variable(module, name.into(), AddressSpace::WorkGroup, None, ty)
    };
    let amax_var = shared(&mut module, "amax", Scalar::F32, lanes);
    // Q8_0: each invocation's word and each block's scale bits; Q8_1: each
    // invocation's sum of its 4 values
    let q8_0 = dtype == DType::Q8_0;
    let word_var = q8_0.then(|| shared(&mut module, "words", Scalar::U32, lanes));
    let scale_var = q8_0.then(|| shared(&mut module, "scales", Scalar::U32, BLOCKS));
    let sum_var = (!q8_0).then(|| shared(&mut module, "sums", Scalar::I32, lanes));

    let (mut f, wid, lidx) = workgroup_entry(vec3_u32, u32_ty);
    let (globals, out_g) = kernel_sources(&mut f, &source_vars, &sources, out_var, &nest.output.shape, target);
    let mut handle = |g| f.expressions.append(Expression::GlobalVariable(g), Span::UNDEFINED);
    let (dims_g, amax_g) = (handle(dims_var), handle(amax_var));
    let (word_g, scale_g, sum_g) = (word_var.map(&mut handle), scale_var.map(&mut handle), sum_var.map(&mut handle));
    let mut b = Builder::new(&mut module, target, &kernel, f, globals, dims_g, symbols.clone(), (lidx, lanes), Vec::new());
    let int = |b: &mut Builder, v: i64| b.int(v);
    let at = |b: &mut Builder, base: Handle<Expression>, index: Handle<Expression>| b.emit(Expression::Access { base, index });
    let load = |b: &mut Builder, pointer: Handle<Expression>| b.emit(Expression::Load { pointer });

    // this invocation's block (flat: rows of `row_blocks`) and its 4 values
    let group = b.workgroup_index(wid);
    let lane = b.cast(lidx, naga::ScalarKind::Sint, false);
    let per_block = int(&mut b, PER_BLOCK as i64)?;
    let local_block = b.bin(BinaryOperator::Divide, lane, per_block);
    let quarter = b.bin(BinaryOperator::Modulo, lane, per_block);
    let blocks_h = int(&mut b, BLOCKS as i64)?;
    let first_block = b.bin(BinaryOperator::Multiply, group, blocks_h);
    let block = b.bin(BinaryOperator::Add, first_block, local_block);
    let (total, _) = b.value(&all_blocks)?;
    let inside = b.bin(BinaryOperator::Less, block, total);
    let row_blocks_h = int(&mut b, row_blocks)?;
    let zero = b.float(0.0)?;
    let zero_i = int(&mut b, 0)?;
    let zero_u = b.uint(0);
    let f32_ty = b.f32_ty;
    let var = |b: &mut Builder, name: &str, ty: Handle<Type>, init: Handle<Expression>| {
        let v = b.f.local_variables.append(LocalVariable { name: Some(name.into()), ty, init: None }, Span::UNDEFINED);
        let ptr = b.pre(Expression::LocalVariable(v));
        b.push(Statement::Store { pointer: ptr, value: init });
        ptr
    };
    if let Some(r) = &reduced {
        // the workgroup's row (its blocks all lie in one)
        let row = b.bin(BinaryOperator::Divide, first_block, row_blocks_h);
        bind_row(&mut b, outer, row)?;
        r.reduce(&mut b, row_len, rank - 1, lane, lanes, amax_g)?;
    }
    let values: Vec<Handle<Expression>> = (0..4).map(|e| var(&mut b, &format!("x{e}"), f32_ty, zero)).collect();
    b.if_(inside, |b| {
        let row = b.bin(BinaryOperator::Divide, block, row_blocks_h);
        bind_row(b, outer, row)?;
        let in_row = b.bin(BinaryOperator::Modulo, block, row_blocks_h);
        let thirty_two = b.int(32)?;
        let four = b.int(4)?;
        let start = b.bin(BinaryOperator::Multiply, in_row, thirty_two);
        let offset = b.bin(BinaryOperator::Multiply, quarter, four);
        let start = b.bin(BinaryOperator::Add, start, offset);
        for (e, &x) in values.iter().enumerate() {
            let e_h = b.int(e as i64)?;
            let k = b.bin(BinaryOperator::Add, start, e_h);
            b.bind(rank - 1, k);
            let v = b.value(&body)?;
            let v = b.to_float(v);
            b.push(Statement::Store { pointer: x, value: v });
        }
        Ok(())
    })?;
    let values: Vec<Handle<Expression>> = values.into_iter().map(|x| load(&mut b, x)).collect();
    let mut amax = zero;
    for &v in &values {
        let a = b.math(MathFunction::Abs, v, None, None);
        amax = b.math(MathFunction::Max, amax, Some(a), None);
    }
    let mine = at(&mut b, amax_g, lane);
    b.push(Statement::Store { pointer: mine, value: amax });
    b.barrier();
    // the block's: its 8 invocations' maxima
    let first_lane = b.bin(BinaryOperator::Multiply, local_block, per_block);
    let mut amax = zero;
    for i in 0..PER_BLOCK {
        let i = int(&mut b, i as i64)?;
        let l = b.bin(BinaryOperator::Add, first_lane, i);
        let p = at(&mut b, amax_g, l);
        let m = load(&mut b, p);
        amax = b.math(MathFunction::Max, amax, Some(m), None);
    }
    let c127 = b.float(127.0)?;
    let d = b.bin(BinaryOperator::Divide, amax, c127);
    let inv = b.bin(BinaryOperator::Divide, c127, amax);
    let nonzero = b.bin(BinaryOperator::NotEqual, amax, zero);
    let id = b.emit(Expression::Select { condition: nonzero, accept: inv, reject: zero });
    // the 4 values as signed bytes of one word, in order, and their sum
    let mut word = zero_u;
    let mut sum = zero_i;
    for (i, &v) in values.iter().enumerate() {
        let scaled = b.bin(BinaryOperator::Multiply, v, id);
        let r = b.math(MathFunction::Round, scaled, None, None);
        let q = b.cast(r, naga::ScalarKind::Sint, true);
        sum = b.bin(BinaryOperator::Add, sum, q);
        let bits = b.cast(q, naga::ScalarKind::Uint, false);
        let byte = b.uint(0xff);
        let bits = b.bin(BinaryOperator::And, bits, byte);
        let shift = b.uint(8 * i as u32);
        let bits = b.bin(BinaryOperator::ShiftLeft, bits, shift);
        word = b.bin(BinaryOperator::InclusiveOr, word, bits);
    }
    let d_bits = b.f32_to_f16(d)?;
    let low16 = b.uint(0xffff);
    let d_bits = b.bin(BinaryOperator::And, d_bits, low16);
    let leads = b.bin(BinaryOperator::Equal, quarter, zero_i);
    if let Some(sum_g) = sum_g {
        // Q8_1: every block on a word: the header (d, then d · sum) and 8 words
        let mine = at(&mut b, sum_g, lane);
        b.push(Statement::Store { pointer: mine, value: sum });
        b.barrier();
        let nine = int(&mut b, 9)?;
        let base = b.bin(BinaryOperator::Multiply, block, nine);
        b.if_(inside, |b| {
            let one = b.int(1)?;
            let w = b.bin(BinaryOperator::Add, base, one);
            let w = b.bin(BinaryOperator::Add, w, quarter);
            let to = b.emit(Expression::Access { base: out_g, index: w });
            b.push(Statement::Store { pointer: to, value: word });
            b.if_(leads, |b| {
                let mut total = b.int(0)?;
                for i in 0..PER_BLOCK {
                    let i = b.int(i as i64)?;
                    let l = b.bin(BinaryOperator::Add, first_lane, i);
                    let p = b.emit(Expression::Access { base: sum_g, index: l });
                    let s = b.emit(Expression::Load { pointer: p });
                    total = b.bin(BinaryOperator::Add, total, s);
                }
                let total = b.cast(total, naga::ScalarKind::Float, true);
                let s = b.bin(BinaryOperator::Multiply, d, total);
                let s_bits = b.f32_to_f16(s)?;
                let sixteen = b.uint(16);
                let s_bits = b.bin(BinaryOperator::ShiftLeft, s_bits, sixteen);
                let header = b.bin(BinaryOperator::InclusiveOr, d_bits, s_bits);
                let to = b.emit(Expression::Access { base: out_g, index: base });
                b.push(Statement::Store { pointer: to, value: header });
                Ok(())
            })
        })?;
    } else if let (Some(word_g), Some(scale_g)) = (word_g, scale_g) {
        // Q8_0: the words and scales into workgroup memory, then the span's
        // 68 words (bytes 34 · block + 0..2 the scale, + 2.. the values)
        // assembled from them, those holding any of the valid blocks' bytes
        let mine = at(&mut b, word_g, lane);
        b.push(Statement::Store { pointer: mine, value: word });
        b.if_(leads, |b| {
            let to = b.emit(Expression::Access { base: scale_g, index: local_block });
            b.push(Statement::Store { pointer: to, value: d_bits });
            Ok(())
        })?;
        b.barrier();
        let left = b.bin(BinaryOperator::Subtract, total, first_block);
        let valid = b.math(MathFunction::Min, left, Some(blocks_h), None);
        let c34 = int(&mut b, 34)?;
        let valid_bytes = b.bin(BinaryOperator::Multiply, valid, c34);
        let span_words = (BLOCKS * 34 / 4) as i64;
        let span = int(&mut b, span_words)?;
        let first_word = b.bin(BinaryOperator::Multiply, group, span);
        for pass in 0..(span_words + lanes as i64 - 1) / lanes as i64 {
            let offset = int(&mut b, pass * lanes as i64)?;
            let w = b.bin(BinaryOperator::Add, lane, offset);
            let four = int(&mut b, 4)?;
            let first_byte = b.bin(BinaryOperator::Multiply, w, four);
            let holds = b.bin(BinaryOperator::Less, first_byte, valid_bytes);
            b.if_(holds, |b| {
                let mut out_word = b.uint(0);
                for i in 0..4u32 {
                    let i_h = b.int(i as i64)?;
                    let p = b.bin(BinaryOperator::Add, first_byte, i_h);
                    let blk = b.bin(BinaryOperator::Divide, p, c34);
                    // (a byte past the last valid block, in the tensor's
                    // last word: 0, from block 7 at most)
                    let last_blk = b.int(BLOCKS as i64 - 1)?;
                    let blk = b.math(MathFunction::Min, blk, Some(last_blk), None);
                    let off = b.bin(BinaryOperator::Modulo, p, c34);
                    let two = b.int(2)?;
                    let in_header = b.bin(BinaryOperator::Less, off, two);
                    // the scale's byte `off`, or byte `v % 4` of word `v / 4` of the values
                    let sp = b.emit(Expression::Access { base: scale_g, index: blk });
                    let scale_bits = b.emit(Expression::Load { pointer: sp });
                    let v = b.bin(BinaryOperator::Subtract, off, two);
                    let v = b.math(MathFunction::Max, v, Some(zero_i), None);
                    let four = b.int(4)?;
                    let wi = b.bin(BinaryOperator::Divide, v, four);
                    let eight = b.int(8)?;
                    let l = b.bin(BinaryOperator::Multiply, blk, eight);
                    let l = b.bin(BinaryOperator::Add, l, wi);
                    let wp = b.emit(Expression::Access { base: word_g, index: l });
                    let value_word = b.emit(Expression::Load { pointer: wp });
                    let byte_in = b.bin(BinaryOperator::Modulo, v, four);
                    let source = b.emit(Expression::Select { condition: in_header, accept: scale_bits, reject: value_word });
                    let byte_at = b.emit(Expression::Select { condition: in_header, accept: off, reject: byte_in });
                    let byte_at = b.cast(byte_at, naga::ScalarKind::Uint, false);
                    let eight_u = b.uint(8);
                    let shift = b.bin(BinaryOperator::Multiply, byte_at, eight_u);
                    let byte = b.bin(BinaryOperator::ShiftRight, source, shift);
                    let ff = b.uint(0xff);
                    let byte = b.bin(BinaryOperator::And, byte, ff);
                    let past = b.bin(BinaryOperator::GreaterEqual, p, valid_bytes);
                    let byte = b.emit(Expression::Select { condition: past, accept: zero_u, reject: byte });
                    let to = b.uint(8 * i);
                    let byte = b.bin(BinaryOperator::ShiftLeft, byte, to);
                    out_word = b.bin(BinaryOperator::InclusiveOr, out_word, byte);
                }
                let index = b.bin(BinaryOperator::Add, first_word, w);
                let to = b.emit(Expression::Access { base: out_g, index });
                b.push(Statement::Store { pointer: to, value: out_word });
                Ok(())
            })?;
        }
    }
    b.push(Statement::Return { value: None });
    let workgroup_size = [lanes, 1, 1];
    let info = b.finish(&mut module, workgroup_size)?;
    let reduction = reduced.as_ref().map_or(String::new(), |r| format!("\n// source {}, each workgroup's row's value, computed first:\n{}", r.n_inputs, r.nest));
    let description = format!("{v}{reduction}\n// run as one kernel instead: {BLOCKS} blocks a workgroup of {lanes}, {PER_BLOCK} invocations a block, 4 values each");
    Ok(GpuKernel { name: kernel, module, info, symbols, grid, workgroup_size, sources: sources.len(), ranges, vector_views: Vec::new(), target: *target, nest: description, bounds_proof })
}
