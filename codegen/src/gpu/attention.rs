//! Attention kernels built whole: an attention op's stages (and the stage
//! computing its queries, if fused into it) as one kernel of a workgroup per
//! query and head ([`AttentionPart::Whole`]), or, where the queries are
//! too few to fill the GPU (decode: one query per sequence), as three
//! kernels that split each query's keys over several workgroups
//! ([`FusedAttention::parts`]).
//!
//! The split computes what the stages' rule says, the probabilities from
//! the softmax's maximum and sum over *every* key: the first kernel writes
//! every key's score, the second has each of its workgroups reduce the
//! maximum and sum of its query's scores (all of them, in the same order
//! in every workgroup, so the same values) before it weights its share of
//! the values, and the third adds the shares in order. With f16
//! probabilities (llama.cpp's arithmetic) a split of the usual kind, a
//! running maximum per share rescaled at the end, would round different
//! numbers to f16; this one rounds the same ones.

use super::*;

/// An attention op's stages as the kernels [`lower_attention`] writes
/// ([`AttentionPlan`]: the attention, and the stage computing its queries
/// if fused into it).
#[derive(Clone, Debug)]
pub struct FusedAttention {
    /// Kernel name.
    pub name: String,
    /// What it computes.
    pub plan: AttentionPlan,
    /// The op's sources (element type, shape), which the kernels bind.
    pub sources: Vec<(DType, Vec<Dim>)>,
    /// The output's shape (f32).
    pub output: Vec<Dim>,
    /// `Ok` when every stage's loads are proven in bounds (what not, else):
    /// the kernels read what they read, at their points.
    pub bounds_proof: Result<(), String>,
    /// Whether a few queries split their keys ([`FusedAttention::key_splits`]).
    pub split_keys: bool,
}

/// One kernel of an attention: the whole of it, or one of the three that
/// split each query's keys over `splits` workgroups. Each kernel binds the
/// op's sources, then the results of the kernels before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttentionPart {
    /// A workgroup per query and head computes its output.
    Whole,
    /// Every key's scaled score (-inf where hidden): f32
    /// `[queries · heads, keys]`, a workgroup of 256 invocations per query,
    /// head and `256 / lanes_per_key(head_dim)` keys, each key's dims split
    /// over `lanes_per_key` invocations (consecutive dims each, their
    /// partial sums then added in order).
    Scores,
    /// The values weighted by their probabilities, each split's sum: f32
    /// `[queries · heads, splits, head_dim]`, a workgroup per query, head
    /// and split (consecutive keys, the last split shorter or empty).
    Values {
        /// Workgroups per query and head.
        splits: i64,
    },
    /// The output: the splits' sums added in order, a workgroup per query
    /// and head.
    Sum {
        /// Splits of the values' part.
        splits: i64,
    },
}

/// Invocations of a workgroup of the whole attention (and of the split
/// values' and sum's kernels): one query of one head.
const ATTENTION_LANES: u32 = 256;

/// Invocations that share a key's q·k in the split scores' kernel, each
/// summing `head_dim / lanes` consecutive dims: 16, or the largest power of
/// two below it dividing the head's width. A lane per key, every key's
/// dims in turn (the whole kernel's way), left the H100 mostly idle
/// waiting on its loads: 16 us for 512 keys of Llama-2-7B's 32 heads.
fn lanes_per_key(head_dim: i64) -> i64 {
    [16, 8, 4, 2].into_iter().find(|l| head_dim % l == 0).unwrap_or(1)
}

/// Scores an attention kernel keeps in workgroup memory (8 KiB): a
/// context up to this long is scored once, a longer one block by block,
/// twice.
const ATTENTION_SCORES: i64 = 2048;

impl FusedAttention {
    /// Workgroups each query's keys are split over: the plan's
    /// ([`AttentionPlan::key_splits`]) where `split_keys` is on, else 1.
    pub fn key_splits(&self) -> i64 {
        if self.split_keys {
            self.plan.key_splits()
        } else {
            1
        }
    }

    /// The kernels it runs as, in launch order.
    pub fn parts(&self) -> Vec<AttentionPart> {
        match self.key_splits() {
            1 => vec![AttentionPart::Whole],
            splits => vec![AttentionPart::Scores, AttentionPart::Values { splits }, AttentionPart::Sum { splits }],
        }
    }

    /// The type and shape of what `part` writes for the parts after it
    /// (`None` for the output).
    pub fn scratch(&self, part: AttentionPart) -> Option<(DType, Vec<Dim>)> {
        let at = &self.plan.attention;
        let rows = &at.queries * &at.heads;
        match part {
            AttentionPart::Whole | AttentionPart::Sum { .. } => None,
            AttentionPart::Scores => Some((DType::F32, vec![rows, at.keys.clone()])),
            AttentionPart::Values { splits } => Some((DType::F32, vec![rows, Dim::new(splits), at.head_dim.clone()])),
        }
    }

    /// The sources `part` binds: the op's, then what the parts before it wrote.
    fn sources_of(&self, part: AttentionPart) -> Vec<(DType, Vec<Dim>)> {
        let before: Vec<AttentionPart> = self.parts().into_iter().take_while(|&p| p != part).collect();
        self.sources.iter().cloned().chain(before.into_iter().filter_map(|p| self.scratch(p))).collect()
    }
}

/// The kernel `part` of attention `a` (see [`AttentionPart`]).
///
/// The whole attention: a workgroup of 256 invocations per query and head.
/// The query (computed by the prologue where there is one, rounded to its
/// type) goes to workgroup memory once. A first pass scores every key
/// (each lane every 256th, its q·k summed in order) into workgroup memory
/// (2048 at a time), keeping each lane's running maximum and sum of
/// exponentials under it, which the workgroup combines into the softmax's
/// maximum and sum. A second pass turns the scores into probabilities
/// (rounded to f16 where the stages round them; a context longer than the
/// scores kept is scored again, block by block) and each lane adds their
/// products with its dim of the values (lanes sharing a dim split the
/// keys). Scores and probabilities never leave the workgroup; only
/// barriers between the passes and blocks.
///
/// Split: the scores' kernel scores a key per invocation as the first
/// pass does; the values' kernel reduces its query's maximum and sum from
/// the stored scores (a lane's keys in order, then a tree) and weights its
/// split's keys as the second pass does; the sum's adds the splits.
pub fn lower_attention(a: &FusedAttention, part: AttentionPart, target: &GpuTarget) -> Result<GpuKernel, CodegenError> {
    let at = &a.plan.attention;
    let kernel = match part {
        AttentionPart::Whole => a.name.clone(),
        AttentionPart::Scores => format!("{}_split_scores", a.name),
        AttentionPart::Values { .. } => format!("{}_split_values", a.name),
        AttentionPart::Sum { .. } => format!("{}_split_sum", a.name),
    };
    let unsupported = |what: &str| CodegenError::Unsupported { kernel: kernel.clone(), target: "gpu", what: what.into() };
    let head_dim = at.head_dim.as_const().filter(|&d| d > 0 && d <= 1024).ok_or_else(|| unsupported("run attention over heads wider than 1024 or of a symbolic width"))?;
    let heads = at.heads.as_const().ok_or_else(|| unsupported("run attention over a symbolic number of heads"))?;
    let sources = a.sources_of(part);
    let layout = target.quant_layout();
    let expand = |e: &Expr| kiln_dsl::quant::expand_quant_loads_in(layout, e, &sources);
    let (key, value, visible) = (expand(&at.key), expand(&at.value), at.visible.as_ref().map(&expand));
    let query = match &a.plan.prologue {
        Some(p) => expand(&p.body),
        None => expand(&at.q),
    };
    let symbols = symbols_of([&key, &value, &query].into_iter().chain(visible.as_ref()), sources.iter().flat_map(|(_, s)| s).chain(&a.output).chain([&at.keys, &at.queries]));
    let dtypes: Vec<DType> = sources.iter().map(|s| s.0).collect();
    let divisors = [&key, &value, &query].into_iter().chain(visible.as_ref()).try_for_each(|e| kiln_schedule::prove_divisors(e, &dtypes));
    let bounds_proof = a.bounds_proof.clone().and(divisors);
    // what the parts before wrote, after the op's sources
    let (scores_src, partials_src) = (a.sources.len() as u32, a.sources.len() as u32 + 1);
    let (lanes_n, out_shape) = match part {
        AttentionPart::Scores | AttentionPart::Values { .. } => (ATTENTION_LANES as i64, a.scratch(part).map(|s| s.1).unwrap_or_default()),
        AttentionPart::Whole | AttentionPart::Sum { .. } => (ATTENTION_LANES as i64, a.output.clone()),
    };
    let needs_query = matches!(part, AttentionPart::Whole | AttentionPart::Scores);
    let needs_probabilities = matches!(part, AttentionPart::Whole | AttentionPart::Values { .. });
    // (lanes per key, keys per workgroup) of the split scores
    let key_lanes = lanes_per_key(head_dim);
    let group_keys = ATTENTION_LANES as i64 / key_lanes;

    let mut module = Module::default();
    let u32_ty = scalar_type(&mut module.types, Scalar::U32);
    let vec3_u32 = module.types.insert(Type { name: None, inner: TypeInner::Vector { size: VectorSize::Tri, scalar: Scalar::U32 } }, Span::UNDEFINED);
    let (array, global) = (array_type, global_variable);
    let ranges = source_ranges(&sources, target);
    let source_vars = source_globals(&mut module, &dtypes, &ranges, target);
    let binding = ranges.iter().sum::<u32>() as usize;
    let out_var = storage_global(&mut module, "out".into(), binding, Scalar::F32, StorageAccess::LOAD | StorageAccess::STORE);
    let dims_var = storage_global(&mut module, "dims".into(), binding + 1, Scalar::I32, StorageAccess::LOAD);
    // lanes per output dim (each takes every `groups`-th key), or dims per
    // lane where the head is wider than the workgroup
    let groups = if head_dim <= lanes_n && lanes_n % head_dim == 0 { lanes_n / head_dim } else { 1 };
    let per_lane = if groups > 1 { 1 } else { (head_dim + lanes_n - 1) / lanes_n };
    let q_var = needs_query.then(|| {
        let ty = array(&mut module, Scalar::F32, Some(head_dim as u32));
        global(&mut module, "query".into(), AddressSpace::WorkGroup, None, ty)
    });
    let red_var = (needs_probabilities || part == AttentionPart::Scores).then(|| {
        let ty = array(&mut module, Scalar::F32, Some(ATTENTION_LANES));
        global(&mut module, "partial".into(), AddressSpace::WorkGroup, None, ty)
    });
    let p_var = needs_probabilities.then(|| {
        let ty = array(&mut module, Scalar::F32, Some(ATTENTION_SCORES as u32));
        global(&mut module, "scores".into(), AddressSpace::WorkGroup, None, ty)
    });

    let (mut f, wid, lidx) = workgroup_entry(vec3_u32, u32_ty);
    let (globals, out_g) = kernel_sources(&mut f, &source_vars, &sources, out_var, &out_shape, target);
    let mut handle = |g| f.expressions.append(Expression::GlobalVariable(g), Span::UNDEFINED);
    let dims_g = handle(dims_var);
    let q_g = q_var.map(&mut handle);
    let (red_g, p_g) = (red_var.map(&mut handle), p_var.map(&mut handle));
    let mut b = Builder::new(&mut module, target, &kernel, f, globals, dims_g, symbols.clone(), (lidx, lanes_n as u32), Vec::new());

    // the axes the expressions are read at (see `AttentionStages`)
    const HEAD: u32 = 0;
    let rows = Expr::Dim(&at.queries * &Dim::new(heads));
    let grid = match part {
        AttentionPart::Whole | AttentionPart::Sum { .. } => [rows, Expr::Int(1)],
        AttentionPart::Scores => [rows, Expr::Dim(at.keys.clone()).add(Expr::Int(group_keys - 1)).div(Expr::Int(group_keys))],
        AttentionPart::Values { splits } => [rows, Expr::Int(splits)],
    };
    // the query and head (`block = s · heads + h`), and the grid's z
    let block = b.workgroup_index(wid);
    let z = b.emit(Expression::AccessIndex { base: wid, index: 2 });
    let z = b.cast(z, naga::ScalarKind::Sint, false);
    let (blocks, _) = b.value(&grid[0])?;
    let idle = b.bin(BinaryOperator::GreaterEqual, block, blocks);
    b.if_(idle, |b| {
        b.push(Statement::Return { value: None });
        Ok(())
    })?;
    let n_heads = b.int(heads)?;
    let h = b.bin(BinaryOperator::Modulo, block, n_heads);
    let s = b.bin(BinaryOperator::Divide, block, n_heads);
    let lane = b.cast(lidx, naga::ScalarKind::Sint, false);
    let d_len = b.int(head_dim)?;
    let (keys, _) = b.value(&Expr::Dim(at.keys.clone()))?;
    let lanes = b.int(lanes_n)?;
    let scale = b.float(at.scale)?;
    let minus_inf = b.float(f64::NEG_INFINITY)?;
    let zero_i = b.int(0)?;
    let zero = b.float(0.0)?;
    let one = b.float(1.0)?;

    if needs_query {
        load_query(&mut b, a, &query, q_g.expect("declared"), (s, h, lane), head_dim, lanes_n)?;
    }
    // key t's score from its q·k: scaled, -inf where hidden
    let scaled = |b: &mut Builder, dot: Handle<Expression>, t: Handle<Expression>| -> Res<Handle<Expression>> {
        let x = b.bin(BinaryOperator::Multiply, dot, scale);
        Ok(match &visible {
            Some(v) => {
                b.bind(HEAD, h);
                b.bind(1, s);
                b.bind(2, t);
                let v = b.value(v)?;
                let seen = b.to_bool(v)?;
                b.emit(Expression::Select { condition: seen, accept: x, reject: minus_inf })
            }
            None => x,
        })
    };
    // the scaled score of key t (-inf where hidden): q·k summed in order
    let score_of = |b: &mut Builder, t: Handle<Expression>| -> Res<Handle<Expression>> {
        let q_g = q_g.expect("declared");
        b.bind(HEAD, h);
        b.bind(1, s);
        b.bind(2, t);
        let dot = local(b, "dot", 0.0)?;
        let term = |b: &mut Builder, d: Handle<Expression>| -> Res<()> {
            b.bind(3, d);
            let k = b.value(&key)?;
            let k = b.to_float(k);
            let qa = b.emit(Expression::Access { base: q_g, index: d });
            let q = b.emit(Expression::Load { pointer: qa });
            let prod = b.bin(BinaryOperator::Multiply, q, k);
            add_to(b, dot, prod);
            Ok(())
        };
        if head_dim <= 128 {
            for d in 0..head_dim {
                let d = b.int(d)?;
                term(b, d)?;
            }
        } else {
            b.loop_to("dim".into(), d_len, term)?;
        }
        let x = b.emit(Expression::Load { pointer: dot });
        scaled(b, x, t)
    };
    // `body(i)` for this lane's `i` below `n` (lane, lane + lanes, ...)
    let my_keys = |b: &mut Builder, n: Handle<Expression>, body: &mut dyn FnMut(&mut Builder, Handle<Expression>) -> Res<()>| -> Res<()> {
        let rest = b.bin(BinaryOperator::Subtract, n, lane);
        let last_lane = b.int(lanes_n - 1)?;
        let rest = b.bin(BinaryOperator::Add, rest, last_lane);
        let rounds = b.bin(BinaryOperator::Divide, rest, lanes);
        b.loop_to("round".into(), rounds, |b, r| {
            let first = b.bin(BinaryOperator::Multiply, r, lanes);
            let i = b.bin(BinaryOperator::Add, first, lane);
            body(b, i)
        })
    };
    // the workgroup's: a tree over the lanes' partials
    let tree = |b: &mut Builder, value: Handle<Expression>, op: ReduceOp| -> Res<Handle<Expression>> { b.workgroup_tree(red_g.expect("declared"), lane, ATTENTION_LANES, value, op) };
    // the score of key t of this query and head, as the scores' kernel stored it
    let stored_score = |b: &mut Builder, t: Handle<Expression>| -> Res<Handle<Expression>> {
        let row = b.bin(BinaryOperator::Multiply, block, keys);
        let at = b.bin(BinaryOperator::Add, row, t);
        b.element(scores_src, at)
    };
    let capacity = b.int(ATTENTION_SCORES)?;
    // the keys from k0 in blocks of the scores kept: `body(b0, n)` for
    // each block's first key and length, `first` the block first taken
    let key_blocks = |b: &mut Builder, name: &str, k0: Handle<Expression>, len: Handle<Expression>, last_first: bool, body: &mut dyn FnMut(&mut Builder, Handle<Expression>, Handle<Expression>, Handle<Expression>) -> Res<()>| -> Res<()> {
        let last = b.int(ATTENTION_SCORES - 1)?;
        let padded = b.bin(BinaryOperator::Add, len, last);
        let count = b.bin(BinaryOperator::Divide, padded, capacity);
        let one_i = b.int(1)?;
        let last_block = b.bin(BinaryOperator::Subtract, count, one_i);
        b.loop_to(name.into(), count, |b, c| {
            let blk = if last_first { b.bin(BinaryOperator::Subtract, last_block, c) } else { c };
            let offset = b.bin(BinaryOperator::Multiply, blk, capacity);
            let b0 = b.bin(BinaryOperator::Add, k0, offset);
            let left = b.bin(BinaryOperator::Subtract, len, offset);
            let n = b.math(MathFunction::Min, left, Some(capacity), None);
            body(b, b0, n, c)
        })
    };
    // each lane's sums of probability times value over `n` keys from b0
    // whose probabilities the lanes have just written to workgroup memory
    // (barriers before and after): `accs[j]` for dim `lane + 256 j`, or
    // with `groups` lanes per dim each its group's keys
    let accs: Vec<Handle<Expression>> = if needs_probabilities { (0..per_lane).map(|j| local(&mut b, &format!("acc{j}"), 0.0)).collect::<Res<_>>()? } else { Vec::new() };
    let probs_f16 = at.probs_f16;
    let groups_h = b.int(groups)?;
    let value_dim = b.bin(BinaryOperator::Modulo, lane, d_len);
    let group = b.bin(BinaryOperator::Divide, lane, d_len);
    let weigh_values = |b: &mut Builder, b0: Handle<Expression>, n: Handle<Expression>, sum: Handle<Expression>| -> Res<()> {
        let p_g = p_g.expect("declared");
        b.barrier();
        // the value's point is (query, head, dim, key)
        let add_value = |b: &mut Builder, i: Handle<Expression>, d: Handle<Expression>, acc: Handle<Expression>| -> Res<()> {
            let pa = b.emit(Expression::Access { base: p_g, index: i });
            let p = b.emit(Expression::Load { pointer: pa });
            let t = b.bin(BinaryOperator::Add, b0, i);
            b.bind(0, s);
            b.bind(1, h);
            b.bind(2, d);
            b.bind(3, t);
            let v = b.value(&value)?;
            let v = b.to_float(v);
            let term = b.bin(BinaryOperator::Multiply, p, v);
            let term = if probs_f16 { term } else { b.bin(BinaryOperator::Divide, term, sum) };
            add_to(b, acc, term);
            Ok(())
        };
        if groups > 1 {
            // keys group, group + groups, ... below n
            let rest = b.bin(BinaryOperator::Subtract, n, group);
            let last = b.int(groups - 1)?;
            let rest = b.bin(BinaryOperator::Add, rest, last);
            let count = b.bin(BinaryOperator::Divide, rest, groups_h);
            b.loop_to("key".into(), count, |b, k| {
                let stride = b.bin(BinaryOperator::Multiply, k, groups_h);
                let i = b.bin(BinaryOperator::Add, group, stride);
                add_value(b, i, value_dim, accs[0])
            })?;
        } else {
            b.loop_to("key".into(), n, |b, i| {
                for (j, &acc) in accs.iter().enumerate() {
                    let offset = b.int(j as i64 * lanes_n)?;
                    let d = b.bin(BinaryOperator::Add, lane, offset);
                    let inside = b.bin(BinaryOperator::Less, d, d_len);
                    b.if_(inside, |b| add_value(b, i, d, acc))?;
                }
                Ok(())
            })?;
        }
        // every lane is done with the block's probabilities
        b.barrier();
        Ok(())
    };
    // the probability of a score under the softmax's maximum and sum (its
    // inverse): exp(x - max), rounded to f16 after dividing where the
    // stages round (else the division comes with the value)
    let probability = |b: &mut Builder, x: Handle<Expression>, max: Handle<Expression>, inverse: Handle<Expression>| -> Res<Handle<Expression>> {
        let e = b.bin(BinaryOperator::Subtract, x, max);
        let w = b.math(MathFunction::Exp, e, None, None);
        Ok(if probs_f16 {
            let normalized = b.bin(BinaryOperator::Multiply, w, inverse);
            let bits = b.f32_to_f16(normalized)?;
            b.f16_to_f32(bits)?
        } else {
            w
        })
    };
    // out[row, d] for `row` of `head_dim` outputs: each lane's sums (with
    // groups, added in order by the first group's lanes)
    let store_accs = |b: &mut Builder, row: Handle<Expression>| -> Res<()> {
        let base = b.bin(BinaryOperator::Multiply, row, d_len);
        let store = |b: &mut Builder, d: Handle<Expression>, value: Handle<Expression>| {
            let index = b.bin(BinaryOperator::Add, base, d);
            let to = b.emit(Expression::Access { base: out_g, index });
            b.push(Statement::Store { pointer: to, value });
        };
        if groups > 1 {
            let red_g = red_g.expect("declared");
            let mine = b.emit(Expression::Access { base: red_g, index: lane });
            let acc = b.emit(Expression::Load { pointer: accs[0] });
            b.push(Statement::Store { pointer: mine, value: acc });
            b.barrier();
            let first = b.bin(BinaryOperator::Equal, group, zero_i);
            b.if_(first, |b| {
                let pa = b.emit(Expression::Access { base: red_g, index: lane });
                let mut total = b.emit(Expression::Load { pointer: pa });
                for g in 1..groups {
                    let offset = b.int(g * head_dim)?;
                    let at = b.bin(BinaryOperator::Add, lane, offset);
                    let pa = b.emit(Expression::Access { base: red_g, index: at });
                    let p = b.emit(Expression::Load { pointer: pa });
                    total = b.bin(BinaryOperator::Add, total, p);
                }
                store(b, lane, total);
                Ok(())
            })
        } else {
            for (j, &acc) in accs.iter().enumerate() {
                let offset = b.int(j as i64 * lanes_n)?;
                let d = b.bin(BinaryOperator::Add, lane, offset);
                let inside = b.bin(BinaryOperator::Less, d, d_len);
                b.if_(inside, |b| {
                    let v = b.emit(Expression::Load { pointer: acc });
                    store(b, d, v);
                    Ok(())
                })?;
            }
            Ok(())
        }
    };

    match part {
        AttentionPart::Whole => {
            let p_g = p_g.expect("declared");
            // pass 1: every key's score into workgroup memory (the last
            // block's stay), each lane's running maximum and sum of
            // exp(score - maximum)
            let m = local(&mut b, "max", f64::NEG_INFINITY)?;
            let l = local(&mut b, "sum", 0.0)?;
            key_blocks(&mut b, "score_blocks", zero_i, keys, false, &mut |b, b0, n, _| {
                my_keys(b, n, &mut |b, i| {
                    let t = b.bin(BinaryOperator::Add, b0, i);
                    let x = score_of(b, t)?;
                    let at = b.emit(Expression::Access { base: p_g, index: i });
                    b.push(Statement::Store { pointer: at, value: x });
                    let seen = b.bin(BinaryOperator::Greater, x, minus_inf);
                    b.if_(seen, |b| {
                        let old = b.emit(Expression::Load { pointer: m });
                        let new = b.math(MathFunction::Max, old, Some(x), None);
                        let drop = b.bin(BinaryOperator::Subtract, old, new);
                        let drop = b.math(MathFunction::Exp, drop, None, None);
                        let sum = b.emit(Expression::Load { pointer: l });
                        let kept = b.bin(BinaryOperator::Multiply, sum, drop);
                        let e = b.bin(BinaryOperator::Subtract, x, new);
                        let e = b.math(MathFunction::Exp, e, None, None);
                        let sum = b.bin(BinaryOperator::Add, kept, e);
                        b.push(Statement::Store { pointer: l, value: sum });
                        b.push(Statement::Store { pointer: m, value: new });
                        Ok(())
                    })
                })
            })?;
            let my_max = b.emit(Expression::Load { pointer: m });
            let max = tree(&mut b, my_max, ReduceOp::Max)?;
            // a lane that saw no key has the sum 0 at maximum -inf
            let my_sum = b.emit(Expression::Load { pointer: l });
            let shift = b.bin(BinaryOperator::Subtract, my_max, max);
            let shift = b.math(MathFunction::Exp, shift, None, None);
            let rescaled = b.bin(BinaryOperator::Multiply, my_sum, shift);
            let empty = b.bin(BinaryOperator::Equal, my_sum, zero);
            let rescaled = b.emit(Expression::Select { condition: empty, accept: zero, reject: rescaled });
            let sum = tree(&mut b, rescaled, ReduceOp::Sum)?;
            let inverse = b.bin(BinaryOperator::Divide, one, sum);
            // pass 2, per block, the last first (its scores are still in
            // workgroup memory): each lane turns its keys' scores into
            // probabilities (scoring them again unless they are the last
            // block's), then the values are weighted
            key_blocks(&mut b, "value_blocks", zero_i, keys, true, &mut |b, b0, n, c| {
                let kept = b.bin(BinaryOperator::Equal, c, zero_i);
                my_keys(b, n, &mut |b, i| {
                    let at = b.emit(Expression::Access { base: p_g, index: i });
                    let stored = b.emit(Expression::Load { pointer: at });
                    let x = local(b, "x", 0.0)?;
                    b.push(Statement::Store { pointer: x, value: stored });
                    let scored_again = b.emit(Expression::Unary { op: UnaryOperator::LogicalNot, expr: kept });
                    b.if_(scored_again, |b| {
                        let t = b.bin(BinaryOperator::Add, b0, i);
                        let v = score_of(b, t)?;
                        b.push(Statement::Store { pointer: x, value: v });
                        Ok(())
                    })?;
                    let x = b.emit(Expression::Load { pointer: x });
                    let w = probability(b, x, max, inverse)?;
                    b.push(Statement::Store { pointer: at, value: w });
                    Ok(())
                })?;
                weigh_values(b, b0, n, sum)
            })?;
            store_accs(&mut b, block)?;
        }
        AttentionPart::Scores => {
            // key z · group_keys + lane / key_lanes; this lane's dims from
            // (lane % key_lanes) · dims, its partial q·k into workgroup memory
            let (q_g, red_g) = (q_g.expect("declared"), red_g.expect("declared"));
            let key_lanes_h = b.int(key_lanes)?;
            let group_keys_h = b.int(group_keys)?;
            let first = b.bin(BinaryOperator::Multiply, z, group_keys_h);
            let own = b.bin(BinaryOperator::Divide, lane, key_lanes_h);
            let t = b.bin(BinaryOperator::Add, first, own);
            let part_of_key = b.bin(BinaryOperator::Modulo, lane, key_lanes_h);
            let dims = head_dim / key_lanes;
            let dims_h = b.int(dims)?;
            let d0 = b.bin(BinaryOperator::Multiply, part_of_key, dims_h);
            let inside = b.bin(BinaryOperator::Less, t, keys);
            let dot = local(&mut b, "dot", 0.0)?;
            b.if_(inside, |b| {
                b.bind(HEAD, h);
                b.bind(1, s);
                b.bind(2, t);
                for j in 0..dims {
                    let j = b.int(j)?;
                    let d = b.bin(BinaryOperator::Add, d0, j);
                    b.bind(3, d);
                    let k = b.value(&key)?;
                    let k = b.to_float(k);
                    let qa = b.emit(Expression::Access { base: q_g, index: d });
                    let q = b.emit(Expression::Load { pointer: qa });
                    let prod = b.bin(BinaryOperator::Multiply, q, k);
                    add_to(b, dot, prod);
                }
                Ok(())
            })?;
            let mine = b.emit(Expression::Access { base: red_g, index: lane });
            let partial = b.emit(Expression::Load { pointer: dot });
            b.push(Statement::Store { pointer: mine, value: partial });
            b.barrier();
            // the key's first lane adds the partials in order
            let leads = b.bin(BinaryOperator::Equal, part_of_key, zero_i);
            let writes = b.bin(BinaryOperator::LogicalAnd, leads, inside);
            b.if_(writes, |b| {
                let mut total = b.emit(Expression::Load { pointer: mine });
                for i in 1..key_lanes {
                    let i = b.int(i)?;
                    let at = b.bin(BinaryOperator::Add, lane, i);
                    let pa = b.emit(Expression::Access { base: red_g, index: at });
                    let p = b.emit(Expression::Load { pointer: pa });
                    total = b.bin(BinaryOperator::Add, total, p);
                }
                let x = scaled(b, total, t)?;
                let row = b.bin(BinaryOperator::Multiply, block, keys);
                let index = b.bin(BinaryOperator::Add, row, t);
                let to = b.emit(Expression::Access { base: out_g, index });
                b.push(Statement::Store { pointer: to, value: x });
                Ok(())
            })?;
        }
        AttentionPart::Values { splits } => {
            let p_g = p_g.expect("declared");
            // the softmax's maximum and sum over every key of the query
            let m = local(&mut b, "max", f64::NEG_INFINITY)?;
            my_keys(&mut b, keys, &mut |b, t| {
                let x = stored_score(b, t)?;
                let old = b.emit(Expression::Load { pointer: m });
                let new = b.math(MathFunction::Max, old, Some(x), None);
                b.push(Statement::Store { pointer: m, value: new });
                Ok(())
            })?;
            let my_max = b.emit(Expression::Load { pointer: m });
            let max = tree(&mut b, my_max, ReduceOp::Max)?;
            let l = local(&mut b, "sum", 0.0)?;
            my_keys(&mut b, keys, &mut |b, t| {
                let x = stored_score(b, t)?;
                let seen = b.bin(BinaryOperator::Greater, x, minus_inf);
                b.if_(seen, |b| {
                    let e = b.bin(BinaryOperator::Subtract, x, max);
                    let e = b.math(MathFunction::Exp, e, None, None);
                    add_to(b, l, e);
                    Ok(())
                })
            })?;
            let my_sum = b.emit(Expression::Load { pointer: l });
            let sum = tree(&mut b, my_sum, ReduceOp::Sum)?;
            let inverse = b.bin(BinaryOperator::Divide, one, sum);
            // this split's keys: `len` from z · len, where len = ⌈keys / splits⌉
            let splits_h = b.int(splits)?;
            let less = b.int(splits - 1)?;
            let padded = b.bin(BinaryOperator::Add, keys, less);
            let len = b.bin(BinaryOperator::Divide, padded, splits_h);
            let k0 = b.bin(BinaryOperator::Multiply, z, len);
            let left = b.bin(BinaryOperator::Subtract, keys, k0);
            let left = b.math(MathFunction::Max, left, Some(zero_i), None);
            let n = b.math(MathFunction::Min, left, Some(len), None);
            key_blocks(&mut b, "value_blocks", k0, n, false, &mut |b, b0, n, _| {
                my_keys(b, n, &mut |b, i| {
                    let t = b.bin(BinaryOperator::Add, b0, i);
                    let x = stored_score(b, t)?;
                    let w = probability(b, x, max, inverse)?;
                    let at = b.emit(Expression::Access { base: p_g, index: i });
                    b.push(Statement::Store { pointer: at, value: w });
                    Ok(())
                })?;
                weigh_values(b, b0, n, sum)
            })?;
            // partials[block, z, d]
            let row = b.bin(BinaryOperator::Multiply, block, splits_h);
            let row = b.bin(BinaryOperator::Add, row, z);
            store_accs(&mut b, row)?;
        }
        AttentionPart::Sum { splits } => {
            let splits_h = b.int(splits)?;
            for j in 0..(head_dim + lanes_n - 1) / lanes_n {
                let offset = b.int(j * lanes_n)?;
                let d = b.bin(BinaryOperator::Add, lane, offset);
                let inside = b.bin(BinaryOperator::Less, d, d_len);
                b.if_(inside, |b| {
                    let total = local(b, "total", 0.0)?;
                    let first = b.bin(BinaryOperator::Multiply, block, splits_h);
                    b.loop_to("split".into(), splits_h, |b, c| {
                        let row = b.bin(BinaryOperator::Add, first, c);
                        let at = b.bin(BinaryOperator::Multiply, row, d_len);
                        let at = b.bin(BinaryOperator::Add, at, d);
                        let v = b.element(partials_src, at)?;
                        add_to(b, total, v);
                        Ok(())
                    })?;
                    let base = b.bin(BinaryOperator::Multiply, block, d_len);
                    let index = b.bin(BinaryOperator::Add, base, d);
                    let to = b.emit(Expression::Access { base: out_g, index });
                    let v = b.emit(Expression::Load { pointer: total });
                    b.push(Statement::Store { pointer: to, value: v });
                    Ok(())
                })?;
            }
        }
    }
    b.push(Statement::Return { value: None });
    let workgroup_size = [lanes_n as u32, 1, 1];
    let info = b.finish(&mut module, workgroup_size)?;
    let description = format!(
        "// {kernel}: {}\n// queries {}\n// keys {} of {}\n// values {}\n// visible {}\n// scale {}, probabilities {}",
        match part {
            AttentionPart::Whole => format!("one kernel, a workgroup of {ATTENTION_LANES} invocations per query and head"),
            AttentionPart::Scores => format!("every key's score, a workgroup of {ATTENTION_LANES} invocations per {group_keys} keys of a query and head, {key_lanes} per key"),
            AttentionPart::Values { splits } => format!("the weighted values of a query and head's keys split {splits} ways, a workgroup of {ATTENTION_LANES} per split"),
            AttentionPart::Sum { splits } => format!("the {splits} splits' sums added, a workgroup of {ATTENTION_LANES} per query and head"),
        },
        a.plan.prologue.as_ref().map_or_else(|| at.q.to_string(), |p| format!("{} ({})", p.body, p.dtype)),
        at.keys,
        at.key,
        at.value,
        at.visible.as_ref().map_or_else(|| "every key".to_string(), |v| v.to_string()),
        at.scale,
        if probs_f16 { "rounded to f16" } else { "f32" }
    );
    Ok(GpuKernel { name: kernel, module, info, symbols, grid, workgroup_size, sources: sources.len(), ranges, vector_views: Vec::new(), target: *target, nest: description, bounds_proof })
}

/// The query of `(s, h)` (computed by the prologue where there is one,
/// rounded to its type) into workgroup memory `q_g`, dim `lane + lanes j`
/// by each lane, and a barrier.
fn load_query(b: &mut Builder, a: &FusedAttention, query: &Expr, q_g: Handle<Expression>, (s, h, lane): (Handle<Expression>, Handle<Expression>, Handle<Expression>), head_dim: i64, lanes_n: i64) -> Res<()> {
    let d_len = b.int(head_dim)?;
    let prologue = a.plan.prologue.as_ref().map(|p| p.dtype);
    for j in 0..(head_dim + lanes_n - 1) / lanes_n {
        let offset = b.int(j * lanes_n)?;
        let d = b.bin(BinaryOperator::Add, lane, offset);
        let inside = b.bin(BinaryOperator::Less, d, d_len);
        b.if_(inside, |b| {
            let q = match prologue {
                // the prologue's point is (query, head, dim)
                Some(dtype) => {
                    b.bind(0, s);
                    b.bind(1, h);
                    b.bind(2, d);
                    let v = b.value(query)?;
                    let v = b.to_float(v);
                    if dtype == DType::F16 {
                        let bits = b.f32_to_f16(v)?;
                        b.f16_to_f32(bits)?
                    } else {
                        v
                    }
                }
                // `q`'s is (head, query, key, dim)
                None => {
                    b.bind(0, h);
                    b.bind(1, s);
                    b.bind(3, d);
                    let v = b.value(query)?;
                    b.to_float(v)
                }
            };
            let at = b.emit(Expression::Access { base: q_g, index: d });
            b.push(Statement::Store { pointer: at, value: q });
            Ok(())
        })?;
    }
    b.barrier();
    Ok(())
}

/// A function-local f32 set to `init`.
fn local(b: &mut Builder, name: &str, init: f64) -> Res<Handle<Expression>> {
    let var = b.f.local_variables.append(LocalVariable { name: Some(name.into()), ty: b.f32_ty, init: None }, Span::UNDEFINED);
    let ptr = b.pre(Expression::LocalVariable(var));
    let v = b.float(init)?;
    b.push(Statement::Store { pointer: ptr, value: v });
    Ok(ptr)
}

/// `*pointer += v`.
fn add_to(b: &mut Builder, pointer: Handle<Expression>, v: Handle<Expression>) {
    let old = b.emit(Expression::Load { pointer });
    let new = b.bin(BinaryOperator::Add, old, v);
    b.push(Statement::Store { pointer, value: new });
}
