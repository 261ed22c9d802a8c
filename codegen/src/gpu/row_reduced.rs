//! A stage and the reduction over each of its rows that it reads
//! ([`kiln_dsl::ops::RowReduced`]: an RMSNorm's mean of squares and the
//! scaling, or the quantization, of the normed rows) as one kernel, each
//! workgroup computing its row's value itself before it writes: its
//! invocations each reduce every `lanes`-th point of the row, up to 32
//! independent loads a step, and a barrier tree in workgroup memory
//! combines them. A row is read once more per workgroup (from cache)
//! instead of a kernel launched for the reduction.
//!
//! A quantize stage keeps its own kernel (`quantize`), each workgroup a
//! span of the row. An f32 stage is built here: a workgroup per row, of
//! 256 invocations where the row is whole spans of 256 values, else 64,
//! each writing every `lanes`-th value of the row (consecutive invocations
//! at consecutive values).

use super::*;

/// Most points of the row each invocation loads per step of a row
/// reduction: independent loads in flight, since each step waits for its
/// loads (a row of 4096 takes 2 steps at 64 invocations).
const MAX_REDUCE_UNROLL: i64 = 32;

/// Most values each invocation of an f32 stage writes per step.
const MAX_WRITE_UNROLL: i64 = 16;

/// The kernel of `stage` (a quantize or f32 stage, its naive nest
/// scheduled) that reads, as its source `n_inputs`, the reduction
/// `reduction` over each of its rows ([`kiln_dsl::ops::RowReduced`]), as
/// one kernel binding the other sources (see the module docs).
pub fn lower_row_reduced(stage: &Validated, reduction: &kiln_schedule::LoopNest, n_inputs: usize, target: &GpuTarget) -> Result<GpuKernel, CodegenError> {
    match stage.nest().output.dtype {
        DType::F32 => lower_row_reduced_f32(stage, reduction, n_inputs, target),
        _ => super::quantize::lower_quantize_with(stage, target, Some((reduction, n_inputs))),
    }
}

/// A stage's reads of the reduction over its rows, made ready for a kernel
/// that computes the reduction itself.
pub(super) struct OwnRow<'a> {
    /// The reduction's nest (over the op's inputs).
    pub nest: &'a kiln_schedule::LoopNest,
    /// Which source of the stage the reduction is.
    pub n_inputs: usize,
    /// The reduction's body, quantized loads expanded.
    pub body: Expr,
}

impl<'a> OwnRow<'a> {
    /// `body` (the stage's, reading `n_inputs + 1` or more sources) with its
    /// reads of the reduction at the point's own row (the `outer` axes)
    /// made a load without an index, whose value the kernel computes
    /// first; `None` unless the reduction is one value per row of the
    /// stage, over the op's inputs.
    pub fn of(reduction: &'a kiln_schedule::LoopNest, n_inputs: usize, body: &Expr, outer: &[Dim], all_sources: &[(DType, Vec<Dim>)], target: &GpuTarget) -> Option<(OwnRow<'a>, Expr)> {
        let fits = reduction.reduce.is_some() && reduction.output.shape.as_slice() == outer && reduction.sources.len() == n_inputs && n_inputs < all_sources.len();
        if !fits {
            return None;
        }
        let own = kiln_dsl::load(n_inputs, (0..outer.len()).map(kiln_dsl::ax).collect());
        let body = body.rewrite(&mut |e| (*e == own).then(|| Expr::Load { src: n_inputs as u32, index: Vec::new() }));
        let r_body = kiln_dsl::quant::expand_quant_loads_in(target.quant_layout(), &reduction.body, &all_sources[..n_inputs]);
        Some((OwnRow { nest: reduction, n_inputs, body: r_body }, body))
    }

    /// The reduction's bounds proof (its nest's and its divisors').
    pub fn bounds_proof(&self, dtypes: &[DType]) -> Result<(), String> {
        self.nest.bounds_proof().map_err(|e| format!("{}: {e}", self.nest.name)).and_then(|()| kiln_schedule::prove_divisors(&self.body, dtypes))
    }

    /// Compute the workgroup's row's value (its row axes bound) in `b`:
    /// invocation `lane` (i32) of `lanes` (a power of two dividing
    /// `row_len`) combines every `lanes`-th point, then a barrier tree in
    /// the workgroup array `scratch` of `lanes` values; remembered as the
    /// value of the stage's read of it. Every invocation must run it.
    pub fn reduce(&self, b: &mut Builder, row_len: i64, last_axis: u32, lane: Handle<Expression>, lanes: u32, scratch: Handle<Expression>) -> Res<()> {
        let op = self.nest.reduce.expect("a reduction (checked by `of`)");
        let identity = b.float(op.identity(kiln_dsl::ScalarKind::Float))?;
        let var = b.f.local_variables.append(LocalVariable { name: Some("partial".into()), ty: b.f32_ty, init: None }, Span::UNDEFINED);
        let partial = b.pre(Expression::LocalVariable(var));
        b.push(Statement::Store { pointer: partial, value: identity });
        let per_lane = row_len / lanes as i64;
        let unroll = (1..=MAX_REDUCE_UNROLL.min(per_lane)).rev().find(|u| per_lane % u == 0).expect("1 divides");
        let steps = b.int(per_lane / unroll)?;
        let stride = b.int(unroll * lanes as i64)?;
        b.loop_to("reduce".into(), steps, |b, step| {
            let first = b.bin(BinaryOperator::Multiply, step, stride);
            let first = b.bin(BinaryOperator::Add, first, lane);
            let mut points = Vec::new();
            for u in 0..unroll {
                let offset = b.int(u * lanes as i64)?;
                let k = b.bin(BinaryOperator::Add, first, offset);
                b.bind(last_axis, k);
                let v = b.value(&self.body)?;
                points.push(b.to_float(v));
            }
            let mut acc = b.emit(Expression::Load { pointer: partial });
            for v in points {
                acc = b.combine(op, acc, v);
            }
            b.push(Statement::Store { pointer: partial, value: acc });
            Ok(())
        })?;
        let acc = b.emit(Expression::Load { pointer: partial });
        // (every invocation has it before the array is reused)
        let value = b.workgroup_tree(scratch, lane, lanes, acc, op)?;
        let key = known_key(&Expr::Load { src: self.n_inputs as u32, index: Vec::new() });
        b.remembered(key, |_| Ok((value, Kind::Float)))?;
        Ok(())
    }
}

/// Bind the `outer` axes (all but the last) of a flat row number `row`
/// (i32; the last axis fastest).
pub(super) fn bind_row(b: &mut Builder, outer: &[Dim], mut row: Handle<Expression>) -> Res<()> {
    for (axis, d) in outer.iter().enumerate().rev() {
        let (len, _) = b.value(&Expr::Dim(d.clone()))?;
        let i = if axis == 0 { row } else { b.bin(BinaryOperator::Modulo, row, len) };
        b.bind(axis as u32, i);
        if axis > 0 {
            row = b.bin(BinaryOperator::Divide, row, len);
        }
    }
    Ok(())
}

/// The f32 stage's kernel (see the module docs).
fn lower_row_reduced_f32(v: &Validated, reduction: &kiln_schedule::LoopNest, n_inputs: usize, target: &GpuTarget) -> Result<GpuKernel, CodegenError> {
    let nest = v.nest();
    let kernel = nest.name.clone();
    let unsupported = |what: &str| CodegenError::Unsupported { kernel: kernel.clone(), target: "gpu", what: what.into() };
    if nest.reduce.is_some() {
        return Err(unsupported("a row reduction read by a reduction"));
    }
    let Some((last, outer)) = nest.output.shape.split_last() else { return Err(unsupported("a row reduction of a scalar")) };
    let row_len = last.as_const().filter(|k| *k > 0 && k % kiln_dsl::ops::F32_ROW_SPAN == 0).ok_or_else(|| unsupported("rows that are not whole spans of the workgroup"))?;
    let lanes: u32 = if row_len % 256 == 0 { 256 } else { kiln_dsl::ops::F32_ROW_SPAN as u32 };
    let rank = nest.output.shape.len() as u32;
    let all_sources: Vec<(DType, Vec<Dim>)> = nest.sources.iter().map(|b| (b.dtype, b.shape.clone())).collect();
    let all_dtypes: Vec<DType> = all_sources.iter().map(|s| s.0).collect();
    let body = kiln_dsl::quant::expand_quant_loads_in(target.quant_layout(), &nest.body, &all_sources);
    let (own_row, body) = OwnRow::of(reduction, n_inputs, &body, outer, &all_sources, target).ok_or_else(|| unsupported("a reduction that is not one value per row over the op's inputs"))?;
    // the sources the kernel binds: the op's inputs (the reduction's value
    // is computed, not read)
    let sources = all_sources[..n_inputs].to_vec();
    let rows = Expr::Dim(kiln_dsl::product(outer));
    let grid = [rows.clone(), Expr::Int(1)];
    let symbols = symbols_of([&body, &grid[0], &own_row.body], nest.sources.iter().chain([&nest.output]).flat_map(|b| &b.shape));
    let bounds_proof = nest.bounds_proof().map_err(String::from).and_then(|()| kiln_schedule::prove_divisors(&body, &all_dtypes)).and_then(|()| own_row.bounds_proof(&all_dtypes[..n_inputs]));

    let mut module = Module::default();
    let u32_ty = scalar_type(&mut module.types, Scalar::U32);
    let vec3_u32 = module.types.insert(Type { name: None, inner: TypeInner::Vector { size: VectorSize::Tri, scalar: Scalar::U32 } }, Span::UNDEFINED);
    let WholeKernelGlobals { ranges, sources: source_vars, out: out_var, dims: dims_var } = whole_kernel_globals(&mut module, &sources, target, Scalar::F32);
    let ty = array_type(&mut module, Scalar::F32, Some(lanes));
    let scratch_var = global_variable(&mut module, "partials".into(), AddressSpace::WorkGroup, None, ty);

    let (mut f, wid, lidx) = workgroup_entry(vec3_u32, u32_ty);
    let (globals, out_g) = kernel_sources(&mut f, &source_vars, &sources, out_var, &nest.output.shape, target);
    let mut handle = |g| f.expressions.append(Expression::GlobalVariable(g), Span::UNDEFINED);
    let (dims_g, scratch_g) = (handle(dims_var), handle(scratch_var));
    let mut b = Builder::new(&mut module, target, &kernel, f, globals, dims_g, symbols.clone(), (lidx, lanes), Vec::new());
    // the workgroup's row (past the last: a grid spilling into y, returns)
    let row = b.live_workgroup_index(wid, &rows)?;
    let lane = b.cast(lidx, naga::ScalarKind::Sint, false);
    bind_row(&mut b, outer, row)?;
    own_row.reduce(&mut b, row_len, rank - 1, lane, lanes, scratch_g)?;
    // the row's values: invocation `lane` takes every `lanes`-th from `lane`
    let per_lane = row_len / lanes as i64;
    let unroll = (1..=MAX_WRITE_UNROLL.min(per_lane)).rev().find(|u| per_lane % u == 0).expect("1 divides");
    let steps = b.int(per_lane / unroll)?;
    let stride = b.int(unroll * lanes as i64)?;
    let row_len_h = b.int(row_len)?;
    let row_start = b.bin(BinaryOperator::Multiply, row, row_len_h);
    b.loop_to("write".into(), steps, |b, step| {
        let first = b.bin(BinaryOperator::Multiply, step, stride);
        let first = b.bin(BinaryOperator::Add, first, lane);
        for u in 0..unroll {
            let offset = b.int(u * lanes as i64)?;
            let k = b.bin(BinaryOperator::Add, first, offset);
            b.bind(rank - 1, k);
            let value = b.value(&body)?;
            let value = b.to_float(value);
            let index = b.bin(BinaryOperator::Add, row_start, k);
            let to = b.emit(Expression::Access { base: out_g, index });
            b.push(Statement::Store { pointer: to, value });
        }
        Ok(())
    })?;
    b.push(Statement::Return { value: None });
    let workgroup_size = [lanes, 1, 1];
    let info = b.finish(&mut module, workgroup_size)?;
    let description = format!("{v}\n// source {n_inputs}, each workgroup's row's value, computed first:\n{reduction}\n// run as one kernel instead: a workgroup of {lanes} a row, every {lanes}th value each");
    Ok(GpuKernel { name: kernel, module, info, symbols, grid, workgroup_size, sources: sources.len(), ranges, vector_views: Vec::new(), target: *target, nest: description, bounds_proof })
}
