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
    /// The text of kernel `kernel`'s `nest`: `how` it computes, then the
    /// attention it computes, its probabilities `probabilities`.
    fn description(&self, kernel: &str, how: &str, probabilities: &str) -> String {
        let at = &self.plan.attention;
        format!(
            "// {kernel}: {how}\n// queries {}\n// keys {} of {}\n// values {}\n// visible {}\n// scale {}, probabilities {probabilities}",
            self.plan.prologue.as_ref().map_or_else(|| at.q.to_string(), |p| format!("{} ({})", p.body, p.dtype)),
            at.keys,
            at.key,
            at.value,
            at.visible.as_ref().map_or_else(|| "every key".to_string(), |v| v.to_string()),
            at.scale,
        )
    }

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

/// What an attention kernel reads, its quantized loads expanded for the
/// target: the query (the prologue's where there is one), key, value and
/// mask elements, the symbols they and the shapes use, and whether its
/// loads are proven in bounds (with their divisors).
struct AttentionExprs {
    query: Expr,
    key: Expr,
    value: Expr,
    visible: Option<Expr>,
    symbols: Vec<String>,
    bounds_proof: Result<(), String>,
}

impl AttentionExprs {
    fn of(a: &FusedAttention, sources: &[(DType, Vec<Dim>)], target: &GpuTarget) -> AttentionExprs {
        let at = &a.plan.attention;
        let layout = target.quant_layout();
        let expand = |e: &Expr| kiln_dsl::quant::expand_quant_loads_in(layout, e, sources);
        let (key, value, visible) = (expand(&at.key), expand(&at.value), at.visible.as_ref().map(&expand));
        let query = match &a.plan.prologue {
            Some(p) => expand(&p.body),
            None => expand(&at.q),
        };
        let symbols = symbols_of([&key, &value, &query].into_iter().chain(visible.as_ref()), sources.iter().flat_map(|(_, s)| s).chain(&a.output).chain([&at.keys, &at.queries]));
        let dtypes: Vec<DType> = sources.iter().map(|s| s.0).collect();
        let divisors = [&key, &value, &query].into_iter().chain(visible.as_ref()).try_for_each(|e| kiln_schedule::prove_divisors(e, &dtypes));
        let bounds_proof = a.bounds_proof.clone().and(divisors);
        AttentionExprs { query, key, value, visible, symbols, bounds_proof }
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
    if part == AttentionPart::Whole && runs_on_matrix_units(a, target) {
        return lower_matrix_attention(a, target);
    }
    let unsupported = |what: &str| CodegenError::Unsupported { kernel: kernel.clone(), target: "gpu", what: what.into() };
    let head_dim = at.head_dim.as_const().filter(|&d| d > 0 && d <= 1024).ok_or_else(|| unsupported("run attention over heads wider than 1024 or of a symbolic width"))?;
    let heads = at.heads.as_const().ok_or_else(|| unsupported("run attention over a symbolic number of heads"))?;
    let sources = a.sources_of(part);
    let AttentionExprs { query, key, value, visible, symbols, bounds_proof } = AttentionExprs::of(a, &sources, target);
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
    let WholeKernelGlobals { ranges, sources: source_vars, out: out_var, dims: dims_var } = whole_kernel_globals(&mut module, &sources, target, Scalar::F32);
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
    let block = b.live_workgroup_index(wid, &grid[0])?;
    let z = b.emit(Expression::AccessIndex { base: wid, index: 2 });
    let z = b.cast(z, naga::ScalarKind::Sint, false);
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
                    b.if_(seen, |b| running_softmax(b, (m, l), x))
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
    let description = a.description(
        &kernel,
        &match part {
            AttentionPart::Whole => format!("one kernel, a workgroup of {ATTENTION_LANES} invocations per query and head"),
            AttentionPart::Scores => format!("every key's score, a workgroup of {ATTENTION_LANES} invocations per {group_keys} keys of a query and head, {key_lanes} per key"),
            AttentionPart::Values { splits } => format!("the weighted values of a query and head's keys split {splits} ways, a workgroup of {ATTENTION_LANES} per split"),
            AttentionPart::Sum { splits } => format!("the {splits} splits' sums added, a workgroup of {ATTENTION_LANES} per query and head"),
        },
        if probs_f16 { "rounded to f16" } else { "f32" },
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

/// A running maximum `m` and sum `l` of exponentials under it (function
/// locals) taking score `x`: the sum rescaled to the new maximum, plus
/// exp(x - maximum).
fn running_softmax(b: &mut Builder, (m, l): (Handle<Expression>, Handle<Expression>), x: Handle<Expression>) -> Res<()> {
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

/// Queries of one head a matrix-unit attention workgroup takes: 16 per
/// subgroup, four subgroups.
const MATRIX_QUERIES: i64 = 64;

/// Keys a matrix-unit attention workgroup scores at a time.
const MATRIX_KEYS: i64 = 64;

/// The largest head a matrix-unit attention takes.
const MATRIX_HEAD_DIM: i64 = 128;

/// The most workgroup memory a matrix-unit kernel declares: a matrix
/// attention's at the largest head (what [`lower_matrix_attention`]
/// allocates: the staged queries, keys or values as f16, a block's scores
/// as f32 and probabilities as f16, each invocation's maximum and sum),
/// more than the matrix GEMM's. The runtime uses the matrix units only on
/// devices that hold it.
pub const MATRIX_WORKGROUP_BYTES: u32 = ((if MATRIX_QUERIES > MATRIX_KEYS { MATRIX_QUERIES } else { MATRIX_KEYS }) * MATRIX_HEAD_DIM * 2 + MATRIX_QUERIES * MATRIX_KEYS * (4 + 2) + MATRIX_INVOCATIONS * 2 * 4) as u32;

/// Whether `a`'s whole attention runs on `target`'s matrix units
/// ([`lower_matrix_attention`]): a prompt's (a symbolic number of queries),
/// heads of a constant width that is a multiple of 16 up to 128, keys and
/// values the same for every query (so a block of them serves 64 queries;
/// a paged cache's, read through each query's page table, are not).
pub fn runs_on_matrix_units(a: &FusedAttention, target: &GpuTarget) -> bool {
    let at = &a.plan.attention;
    target.matrix_units
        && target.native_f16
        && target.subgroups
        && a.key_splits() == 1
        && at.queries.as_const().is_none()
        && at.heads.as_const().is_some()
        && at.head_dim.as_const().is_some_and(|d| d > 0 && d % 16 == 0 && d <= MATRIX_HEAD_DIM)
        // the key's point is (head, query, key, dim), the value's (query, head, dim, key)
        && !crate::lanes::mentions(&at.key, 1)
        && !crate::lanes::mentions(&at.value, 0)
}

/// What a matrix-unit attention stages in workgroup memory.
#[derive(Clone, Copy, PartialEq)]
enum Staged {
    Queries,
    Keys,
    Values,
}

/// The whole attention on the matrix units ([`runs_on_matrix_units`]): a
/// workgroup of four 32-invocation subgroups per 64 queries of a head, each
/// subgroup 16 of them. The queries go to workgroup memory as f16 once and
/// from there into each subgroup's tiles (16 x 16 f16, held through the
/// kernel). Per block of 64 keys the keys are staged as f16 and each
/// subgroup multiplies its queries' tiles by them into its 16 x 64 scores
/// (f32 accumulators, stored to workgroup memory); each pair of invocations
/// takes a query's row of them, scaled and masked as the stages do. A first
/// pass keeps each invocation's running maximum and sum of exponentials,
/// combined per query into the softmax's maximum and sum; a second scores
/// every block again, turns the scores into probabilities (f16, what the
/// tiles multiply; the stages round them so too where `probs_f16`) and adds
/// their products with the block's values (staged as f16) into 16 x 16 f32
/// accumulators, which go through workgroup memory to the queries that
/// exist. Both passes take every block of keys, also one that a causal
/// mask hides from all the workgroup's queries (skipping such blocks gave
/// wrong results on the H100; `benches/RESULTS.md`). Queries past
/// the last are clamped when read and not written; keys past the last are
/// clamped when read and hidden.
///
/// Against the stages in f32 the queries, keys, values and probabilities
/// are rounded to f16 (a relative error near 2^-11 each; the sums stay f32).
fn lower_matrix_attention(a: &FusedAttention, target: &GpuTarget) -> Result<GpuKernel, CodegenError> {
    use naga::{CooperativeData, CooperativeRole, CooperativeSize};
    let at = &a.plan.attention;
    let kernel = a.name.clone();
    let head_dim = at.head_dim.as_const().expect("runs_on_matrix_units checked the width");
    let heads = at.heads.as_const().expect("runs_on_matrix_units checked the heads");
    let sources = a.sources_of(AttentionPart::Whole);
    let AttentionExprs { query, key, value, visible, symbols, bounds_proof } = AttentionExprs::of(a, &sources, target);

    let mut module = Module::default();
    let u32_ty = scalar_type(&mut module.types, Scalar::U32);
    let vec3_u32 = module.types.insert(Type { name: None, inner: TypeInner::Vector { size: VectorSize::Tri, scalar: Scalar::U32 } }, Span::UNDEFINED);
    let WholeKernelGlobals { ranges, sources: source_vars, out: out_var, dims: dims_var } = whole_kernel_globals(&mut module, &sources, target, Scalar::F32);
    let shared = |module: &mut Module, name: &str, s: Scalar, len: i64| {
        let ty = array_type(module, s, Some(u32::try_from(len).expect("a small array")));
        global_variable(module, name.into(), AddressSpace::WorkGroup, None, ty)
    };
    // queries, then each block's keys or values, by rows of head_dim; the
    // block's scores by rows of 64 (later each subgroup's 16 x 16 outputs);
    // its probabilities; each invocation's maximum and sum
    let tile_var = shared(&mut module, "kv_tile", Scalar::F16, MATRIX_QUERIES.max(MATRIX_KEYS) * head_dim);
    let scores_var = shared(&mut module, "scores", Scalar::F32, MATRIX_QUERIES * MATRIX_KEYS);
    let probs_var = shared(&mut module, "probs", Scalar::F16, MATRIX_QUERIES * MATRIX_KEYS);
    let max_var = shared(&mut module, "partial_max", Scalar::F32, MATRIX_INVOCATIONS);
    let sum_var = shared(&mut module, "partial_sum", Scalar::F32, MATRIX_INVOCATIONS);
    let acc_ty = matrix_tile_types(&mut module);
    let (mut f, wid, lidx) = workgroup_entry(vec3_u32, u32_ty);
    let (subgroup, lane_in_subgroup) = subgroup_arguments(&mut f, u32_ty);
    let (globals, out_g) = kernel_sources(&mut f, &source_vars, &sources, out_var, &a.output, target);
    let mut handle = |g| f.expressions.append(Expression::GlobalVariable(g), Span::UNDEFINED);
    let (dims_g, tile_g, scores_g, probs_g, max_g, sum_g) = (handle(dims_var), handle(tile_var), handle(scores_var), handle(probs_var), handle(max_var), handle(sum_var));
    let mut b = Builder::new(&mut module, target, &kernel, f, globals, dims_g, symbols.clone(), (lidx, MATRIX_INVOCATIONS as u32), Vec::new());

    // a workgroup per 64 queries of a head: block = query tile · heads + h
    let query_tiles = Expr::Dim(at.queries.clone()).add(Expr::Int(MATRIX_QUERIES - 1)).div(Expr::Int(MATRIX_QUERIES));
    let grid = [query_tiles.mul(Expr::Int(heads)), Expr::Int(1)];
    let block = b.live_workgroup_index(wid, &grid[0])?;
    let n_heads = b.int(heads)?;
    let h = b.bin(BinaryOperator::Modulo, block, n_heads);
    let query_tile = b.bin(BinaryOperator::Divide, block, n_heads);
    let tile_queries = b.int(MATRIX_QUERIES)?;
    let q0 = b.bin(BinaryOperator::Multiply, query_tile, tile_queries);
    let (queries, _) = b.value(&Expr::Dim(at.queries.clone()))?;
    let (keys, _) = b.value(&Expr::Dim(at.keys.clone()))?;
    let one_i = b.int(1)?;
    let last_query = b.bin(BinaryOperator::Subtract, queries, one_i);
    let last_key = b.bin(BinaryOperator::Subtract, keys, one_i);
    let lane = b.cast(lidx, naga::ScalarKind::Sint, false);
    let subgroup = b.cast(subgroup, naga::ScalarKind::Sint, false);
    let lane_in_subgroup = b.cast(lane_in_subgroup, naga::ScalarKind::Sint, false);
    let d_len = b.int(head_dim)?;
    let invocations = b.int(MATRIX_INVOCATIONS)?;
    let scale = b.float(at.scale)?;
    let minus_inf = b.float(f64::NEG_INFINITY)?;
    let zero = b.float(0.0)?;
    let one = b.float(1.0)?;
    let prologue = a.plan.prologue.as_ref().map(|p| p.dtype);

    // a 64 x head_dim tile of queries, keys or values from row `first`
    // (clamped to the last), element e = lane + 128 j at (e / head_dim,
    // e % head_dim): consecutive invocations read consecutive dims
    let stage = |b: &mut Builder, what: Staged, first: Handle<Expression>| -> Res<()> {
        let per_invocation = b.int(MATRIX_KEYS.max(MATRIX_QUERIES) * head_dim / MATRIX_INVOCATIONS)?;
        b.loop_to("stage".into(), per_invocation, |b, j| {
            let offset = b.bin(BinaryOperator::Multiply, j, invocations);
            let e = b.bin(BinaryOperator::Add, lane, offset);
            let r = b.bin(BinaryOperator::Divide, e, d_len);
            let d = b.bin(BinaryOperator::Modulo, e, d_len);
            let row = b.bin(BinaryOperator::Add, first, r);
            let last = if what == Staged::Queries { last_query } else { last_key };
            let row = b.math(MathFunction::Min, row, Some(last), None);
            // the axes of the row, the head and the dim: the prologue's
            // point is (query, head, dim), `q`'s and the key's (head, query,
            // key, dim), the value's (query, head, dim, key)
            let (element, [row_axis, head_axis, dim_axis]) = match (what, prologue) {
                (Staged::Queries, Some(_)) => (&query, [0, 1, 2]),
                (Staged::Queries, None) => (&query, [1, 0, 3]),
                (Staged::Keys, _) => (&key, [2, 0, 3]),
                (Staged::Values, _) => (&value, [3, 1, 2]),
            };
            b.bind(row_axis, row);
            b.bind(head_axis, h);
            b.bind(dim_axis, d);
            let v = b.value(element)?;
            let v = b.to_float(v);
            let half = b.emit(Expression::As { expr: v, kind: naga::ScalarKind::Float, convert: Some(2) });
            let at = b.emit(Expression::Access { base: tile_g, index: e });
            b.push(Statement::Store { pointer: at, value: half });
            Ok(())
        })
    };
    let load_tile = |b: &mut Builder, g: Handle<Expression>, first: i64, offset: Handle<Expression>, stride: i64, role: CooperativeRole, row_major: bool| -> Res<Handle<Expression>> {
        let first = b.int(first)?;
        let index = b.bin(BinaryOperator::Add, offset, first);
        let pointer = b.emit(Expression::Access { base: g, index });
        let stride = b.uint(stride as u32);
        Ok(b.emit(Expression::CooperativeLoad { columns: CooperativeSize::Sixteen, rows: CooperativeSize::Sixteen, role, data: CooperativeData { pointer, stride, row_major } }))
    };

    // this subgroup's 16 queries as tiles of 16 dims, held through the kernel
    stage(&mut b, Staged::Queries, q0)?;
    b.barrier();
    let sixteen = b.int(16)?;
    let first_query = b.bin(BinaryOperator::Multiply, subgroup, sixteen);
    let own_queries = b.bin(BinaryOperator::Multiply, first_query, d_len);
    let query_tiles: Vec<Handle<Expression>> = (0..head_dim / 16).map(|c| load_tile(&mut b, tile_g, 16 * c, own_queries, head_dim, CooperativeRole::A, true)).collect::<Res<_>>()?;
    let block_keys = b.int(MATRIX_KEYS)?;
    let own_scores = b.bin(BinaryOperator::Multiply, first_query, block_keys);
    // the block of keys from t0 staged, and this subgroup's scores of them
    // (q·k unscaled) in workgroup memory
    let score_block = |b: &mut Builder, t0: Handle<Expression>| -> Res<()> {
        b.barrier();
        stage(b, Staged::Keys, t0)?;
        b.barrier();
        let stride = b.uint(MATRIX_KEYS as u32);
        for j in 0..MATRIX_KEYS / 16 {
            let mut acc = b.pre(Expression::ZeroValue(acc_ty));
            let keys_at = b.int(16 * j * head_dim)?;
            for (c, &q) in query_tiles.iter().enumerate() {
                // element (dim, key) of the keys' tile at key · head_dim + dim
                let k = load_tile(b, tile_g, 16 * c as i64, keys_at, head_dim, CooperativeRole::B, false)?;
                acc = b.emit(Expression::CooperativeMultiplyAdd { a: q, b: k, c: acc });
            }
            let column = b.int(16 * j)?;
            let first = b.bin(BinaryOperator::Add, own_scores, column);
            let pointer = b.emit(Expression::Access { base: scores_g, index: first });
            b.push(Statement::CooperativeStore { target: acc, data: CooperativeData { pointer, stride, row_major: true } });
        }
        b.barrier();
        Ok(())
    };
    // this invocation's query (a row of the scores: two invocations each)
    // and its half of the row's keys
    let two = b.int(2)?;
    let pair = b.bin(BinaryOperator::Divide, lane_in_subgroup, two);
    let row = b.bin(BinaryOperator::Add, first_query, pair);
    let query_of_row = b.bin(BinaryOperator::Add, q0, row);
    let query_of_row = b.math(MathFunction::Min, query_of_row, Some(last_query), None);
    let half = b.bin(BinaryOperator::Modulo, lane_in_subgroup, two);
    let half_keys = b.int(MATRIX_KEYS / 2)?;
    let first_key = b.bin(BinaryOperator::Multiply, half, half_keys);
    let row_at = b.bin(BinaryOperator::Multiply, row, block_keys);
    let my_scores = b.bin(BinaryOperator::Add, row_at, first_key);
    // the scaled score of this invocation's key i of the block from t0
    // (-inf where the mask hides it or past the last key)
    let score = |b: &mut Builder, t0: Handle<Expression>, i: Handle<Expression>| -> Res<Handle<Expression>> {
        let at = b.bin(BinaryOperator::Add, my_scores, i);
        let pa = b.emit(Expression::Access { base: scores_g, index: at });
        let dot = b.emit(Expression::Load { pointer: pa });
        let x = b.bin(BinaryOperator::Multiply, dot, scale);
        let t = b.bin(BinaryOperator::Add, t0, first_key);
        let t = b.bin(BinaryOperator::Add, t, i);
        let mut seen = b.bin(BinaryOperator::Less, t, keys);
        if let Some(v) = &visible {
            let clamped = b.math(MathFunction::Min, t, Some(last_key), None);
            b.bind(0, h);
            b.bind(1, query_of_row);
            b.bind(2, clamped);
            let v = b.value(v)?;
            let v = b.to_bool(v)?;
            seen = b.bin(BinaryOperator::LogicalAnd, seen, v);
        }
        Ok(b.emit(Expression::Select { condition: seen, accept: x, reject: minus_inf }))
    };
    let (blocks_h, _) = b.value(&Expr::Dim(at.keys.clone()).add(Expr::Int(MATRIX_KEYS - 1)).div(Expr::Int(MATRIX_KEYS)))?;
    let zero_i = b.int(0)?;
    // `body(t0)` for each block of keys from t0 = 64 kb
    let key_blocks = |b: &mut Builder, name: &str, body: &mut dyn FnMut(&mut Builder, Handle<Expression>) -> Res<()>| -> Res<()> {
        b.loop_to(name.into(), blocks_h, |b, kb| {
            let t0 = b.bin(BinaryOperator::Multiply, kb, block_keys);
            body(b, t0)
        })
    };

    // pass 1: each invocation's running maximum and sum of exp(score - maximum)
    let m = local(&mut b, "max", f64::NEG_INFINITY)?;
    let l = local(&mut b, "sum", 0.0)?;
    key_blocks(&mut b, "score_blocks", &mut |b, t0| {
        score_block(b, t0)?;
        b.loop_to("key".into(), half_keys, |b, i| {
            let x = score(b, t0, i)?;
            let seen = b.bin(BinaryOperator::Greater, x, minus_inf);
            b.if_(seen, |b| running_softmax(b, (m, l), x))
        })
    })?;
    // the query's maximum and sum: this invocation's and its pair's (an
    // invocation that saw no key has the sum 0 at maximum -inf)
    let my_max = b.emit(Expression::Load { pointer: m });
    let my_sum = b.emit(Expression::Load { pointer: l });
    // (by subgroup and lane: how invocation indices map to subgroups is
    // the implementation's)
    let thirty_two = b.int(32)?;
    let me = b.bin(BinaryOperator::Multiply, subgroup, thirty_two);
    let me = b.bin(BinaryOperator::Add, me, lane_in_subgroup);
    for (g, v) in [(max_g, my_max), (sum_g, my_sum)] {
        let at = b.emit(Expression::Access { base: g, index: me });
        b.push(Statement::Store { pointer: at, value: v });
    }
    b.barrier();
    let partner = b.bin(BinaryOperator::ExclusiveOr, me, one_i);
    let pa = b.emit(Expression::Access { base: max_g, index: partner });
    let other_max = b.emit(Expression::Load { pointer: pa });
    let pa = b.emit(Expression::Access { base: sum_g, index: partner });
    let other_sum = b.emit(Expression::Load { pointer: pa });
    let max = b.math(MathFunction::Max, my_max, Some(other_max), None);
    let mut sum = zero;
    for (mx, s) in [(my_max, my_sum), (other_max, other_sum)] {
        let shift = b.bin(BinaryOperator::Subtract, mx, max);
        let shift = b.math(MathFunction::Exp, shift, None, None);
        let rescaled = b.bin(BinaryOperator::Multiply, s, shift);
        let empty = b.bin(BinaryOperator::Equal, s, zero);
        let rescaled = b.emit(Expression::Select { condition: empty, accept: zero, reject: rescaled });
        sum = b.bin(BinaryOperator::Add, sum, rescaled);
    }
    let inverse = b.bin(BinaryOperator::Divide, one, sum);

    // pass 2: probabilities, then their products with the values
    let outputs: Vec<Handle<Expression>> = (0..head_dim / 16)
        .map(|i| {
            let var = b.f.local_variables.append(LocalVariable { name: Some(format!("out{i}")), ty: acc_ty, init: None }, Span::UNDEFINED);
            b.pre(Expression::LocalVariable(var))
        })
        .collect();
    let zero_acc = b.pre(Expression::ZeroValue(acc_ty));
    for &o in &outputs {
        b.push(Statement::Store { pointer: o, value: zero_acc });
    }
    key_blocks(&mut b, "value_blocks", &mut |b, t0| {
        score_block(b, t0)?;
        b.loop_to("key".into(), half_keys, |b, i| {
            let x = score(b, t0, i)?;
            let e = b.bin(BinaryOperator::Subtract, x, max);
            let w = b.math(MathFunction::Exp, e, None, None);
            let p = b.bin(BinaryOperator::Multiply, w, inverse);
            let seen = b.bin(BinaryOperator::Greater, x, minus_inf);
            let p = b.emit(Expression::Select { condition: seen, accept: p, reject: zero });
            let p = b.emit(Expression::As { expr: p, kind: naga::ScalarKind::Float, convert: Some(2) });
            let at = b.bin(BinaryOperator::Add, my_scores, i);
            let pa = b.emit(Expression::Access { base: probs_g, index: at });
            b.push(Statement::Store { pointer: pa, value: p });
            Ok(())
        })?;
        // (every subgroup is done with the keys: score_block's last barrier)
        stage(b, Staged::Values, t0)?;
        b.barrier();
        let probs: Vec<Handle<Expression>> = (0..MATRIX_KEYS / 16).map(|c| load_tile(b, probs_g, 16 * c, own_scores, MATRIX_KEYS, CooperativeRole::A, true)).collect::<Res<_>>()?;
        for (dj, &o) in outputs.iter().enumerate() {
            let mut acc = b.emit(Expression::Load { pointer: o });
            for (c, &p) in probs.iter().enumerate() {
                // element (key, dim) of the values' tile at key · head_dim + dim
                let v = load_tile(b, tile_g, 16 * c as i64 * head_dim + 16 * dj as i64, zero_i, head_dim, CooperativeRole::B, true)?;
                acc = b.emit(Expression::CooperativeMultiplyAdd { a: p, b: v, c: acc });
            }
            b.push(Statement::Store { pointer: o, value: acc });
        }
        Ok(())
    })?;
    // each 16 x 16 of outputs through this subgroup's 256 of `scores` to
    // the queries that exist: out[(query · heads + h) · head_dim + dim]
    b.barrier();
    let own_tile = b.subgroup_tile(subgroup)?;
    for (dj, &o) in outputs.iter().enumerate() {
        b.store_matrix_tile(o, scores_g, own_tile, lane_in_subgroup, out_g, |b, r, c| {
            let q = b.bin(BinaryOperator::Add, q0, first_query);
            let q = b.bin(BinaryOperator::Add, q, r);
            let inside = b.bin(BinaryOperator::Less, q, queries);
            let qh = b.bin(BinaryOperator::Multiply, q, n_heads);
            let qh = b.bin(BinaryOperator::Add, qh, h);
            let base = b.bin(BinaryOperator::Multiply, qh, d_len);
            let dim = b.int(16 * dj as i64)?;
            let dim = b.bin(BinaryOperator::Add, dim, c);
            Ok((inside, b.bin(BinaryOperator::Add, base, dim)))
        })?;
    }
    b.push(Statement::Return { value: None });
    let workgroup_size = [MATRIX_INVOCATIONS as u32, 1, 1];
    let info = b.finish(&mut module, workgroup_size)?;
    let description = a.description(
        &kernel,
        &format!("one kernel on the matrix units, a workgroup of four subgroups per {MATRIX_QUERIES} queries of a head, keys in blocks of {MATRIX_KEYS}, f16 tiles"),
        if at.probs_f16 { "rounded to f16" } else { "f32, rounded to f16 for the tiles" },
    );
    Ok(GpuKernel { name: kernel, module, info, symbols, grid, workgroup_size, sources: sources.len(), ranges, vector_views: Vec::new(), target: *target, nest: description, bounds_proof })
}
