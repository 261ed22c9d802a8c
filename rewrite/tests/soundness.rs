//! Every rewrite rule is sound: on random graphs matching its left side,
//! the function before and after rewriting with that rule alone gives the
//! same results on the f64 reference interpreter, for fresh random inputs.
//! Each check also requires the rule to have fired, so none passes by not
//! applying. `KILN_TEST_SEED` replays a run; `KILN_PROPTEST_CASES` sets the
//! graphs per rule (default 24).

use kiln_dsl::ops::{OpDef, TensorType};
use kiln_dsl::{ax, interpret, load, rel_l2_error, Bindings, DType, Dim, Function, FunctionBuilder, HostTensor, KernelClass, NodeKind, ReduceOp, Stage, Tensor};
use kiln_rewrite::{rules, CostModel, Optimizer, Rule};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::sync::Arc;

/// Largest relative L2 error between a function and its rewrite on the f64
/// interpreter. Rules compute the same values, but not always in the same
/// order: a matmul epilogue adds the residual at the sum's first step, not
/// its last, so results agree to f64 rounding, not bit for bit, and a
/// residual stream that nearly cancels amplifies that through a few layers
/// (2e-10 seen in a random two-layer block). A wrong rule is off by far
/// more than this, which is still a tenth of f32's precision.
const TOLERANCE: f64 = 1e-8;

fn rng() -> StdRng {
    let seed = std::env::var("KILN_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random::<u64>);
    eprintln!("KILN_TEST_SEED={seed}");
    StdRng::seed_from_u64(seed)
}

fn cases() -> usize {
    std::env::var("KILN_PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(24)
}

fn d(shape: &[usize]) -> Vec<Dim> {
    shape.iter().map(|&n| Dim::new(n as i64)).collect()
}

/// Rewrite `func` with `rule` alone (cost model: a GPU's, which fuses
/// eagerly), check the result on random inputs against the original, and
/// return how often the rule fired.
fn check_rule(rule: &Rule, func: &Function, r: &mut StdRng) -> usize {
    let optimizer = Optimizer { rules: vec![rule.clone()], ..Optimizer::new(CostModel::gpu()) };
    let (rewritten, report) = optimizer.optimize(func).unwrap_or_else(|e| panic!("{}: {e}\n{func}", rule.name));
    assert_eq!(rewritten.inputs().len(), func.inputs().len());
    let inputs = random_inputs(func, r);
    let none = HashMap::new();
    let want = interpret(func, &inputs, &none, &Bindings::new()).unwrap();
    let got = interpret(&rewritten, &inputs, &none, &Bindings::new()).unwrap_or_else(|e| panic!("{}: the rewritten function fails: {e}\n{rewritten}", rule.name));
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.shape, w.shape);
        let err = rel_l2_error(&g.data, &w.data);
        assert!(err <= TOLERANCE, "{}: relative L2 error {err:e}\nbefore:\n{func}\nafter:\n{rewritten}", rule.name);
    }
    report.rules[0].applied
}

/// Random values for `func`'s inputs (all of constant shape).
fn random_inputs(func: &Function, r: &mut StdRng) -> Vec<HostTensor> {
    func.inputs().iter().map(|(_, _, t)| HostTensor::random(t.dtype, &t.shape.iter().map(|d| d.as_const().unwrap() as usize).collect::<Vec<_>>(), 4, r)).collect()
}

fn rule(name: &str) -> Rule {
    rules::all().into_iter().find(|r| r.name == name).unwrap_or_else(|| panic!("no rule {name}"))
}

/// A random unary elementwise op that keeps values in range (chains of
/// them feed matmuls: an `exp` of an `exp` would overflow).
fn random_unary(r: &mut StdRng, x: &Tensor) -> Tensor {
    match r.random_range(0..5) {
        0 => x.silu(),
        1 => x.tanh(),
        2 => x.mul_scalar(r.random_range(-2.0..2.0)),
        3 => x.add_scalar(r.random_range(-2.0..2.0)),
        _ => x.sin(),
    }
}

fn random_shape(r: &mut StdRng) -> Vec<usize> {
    (0..r.random_range(1..=3)).map(|_| r.random_range(1..=6)).collect()
}

#[test]
fn scalar_identities_are_sound() {
    let mut r = rng();
    let (rule, mut fired) = (rule("scalar-identity"), 0);
    for _ in 0..cases() {
        let f = FunctionBuilder::new("identity");
        let x = f.input("x", DType::F32, &d(&random_shape(&mut r)));
        let mut y = random_unary(&mut r, &x);
        for _ in 0..r.random_range(1..4) {
            y = match r.random_range(0..4) {
                0 => y.mul_scalar(1.0),
                1 => y.div_scalar(1.0),
                2 => y.add_scalar(0.0),
                _ => y.sub_scalar(0.0),
            };
            y = random_unary(&mut r, &y);
        }
        fired += check_rule(&rule, &f.finish(&[&y]).unwrap(), &mut r);
    }
    assert!(fired > 0);
}

#[test]
fn scalar_chains_fold_soundly() {
    let mut r = rng();
    let (rule, mut fired) = (rule("scalar-chain"), 0);
    for _ in 0..cases() {
        let f = FunctionBuilder::new("chain");
        let x = f.input("x", DType::F32, &d(&random_shape(&mut r)));
        let mut y = x.tanh();
        for _ in 0..r.random_range(2..5) {
            let c = r.random_range(0.5..2.0);
            y = match r.random_range(0..4) {
                0 => y.mul_scalar(c),
                1 => y.div_scalar(c),
                2 => y.add_scalar(c),
                _ => y.sub_scalar(c),
            };
        }
        fired += check_rule(&rule, &f.finish(&[&y.exp()]).unwrap(), &mut r);
    }
    assert!(fired > 0);
}

/// A random shape with the same element count as `shape`.
fn refactor(r: &mut StdRng, shape: &[usize]) -> Vec<usize> {
    let n: usize = shape.iter().product();
    let mut out = Vec::new();
    let mut left = n;
    for _ in 0..r.random_range(0..3) {
        let divisors: Vec<usize> = (1..=left).filter(|k| left % k == 0).collect();
        let k = divisors[r.random_range(0..divisors.len())];
        out.push(k);
        left /= k;
    }
    out.push(left);
    out
}

#[test]
fn reshapes_fold_soundly() {
    let mut r = rng();
    let (rr, ri) = (rule("reshape-reshape"), rule("reshape-identity"));
    let (mut fired_rr, mut fired_ri) = (0, 0);
    for _ in 0..cases() {
        let shape = random_shape(&mut r);
        let build = |r: &mut StdRng| {
            let f = FunctionBuilder::new("reshapes");
            let x = f.input("x", DType::F32, &d(&shape));
            let mut y = x.exp();
            for _ in 0..r.random_range(1..4) {
                let to = if r.random_bool(0.3) { shape.clone() } else { refactor(r, &shape) };
                y = y.reshape(&d(&to));
            }
            let back = y.reshape(&d(&shape));
            f.finish(&[&back.add(&x)]).unwrap()
        };
        fired_rr += check_rule(&rr, &build(&mut r), &mut r);
        fired_ri += check_rule(&ri, &build(&mut r), &mut r);
    }
    assert!(fired_rr > 0 && fired_ri > 0);
}

fn random_perm(r: &mut StdRng, n: usize) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        p.swap(i, r.random_range(0..=i));
    }
    p
}

#[test]
fn transposes_compose_soundly() {
    let mut r = rng();
    let (tt, ti) = (rule("transpose-transpose"), rule("transpose-identity"));
    let (mut fired_tt, mut fired_ti) = (0, 0);
    for _ in 0..cases() {
        let shape: Vec<usize> = (0..r.random_range(2..=4)).map(|_| r.random_range(1..=4)).collect();
        let build = |r: &mut StdRng| {
            let f = FunctionBuilder::new("transposes");
            let x = f.input("x", DType::F32, &d(&shape));
            let mut y = x.tanh();
            for _ in 0..r.random_range(1..4) {
                let p = if r.random_bool(0.25) { (0..shape.len()).collect() } else { random_perm(r, shape.len()) };
                y = y.transpose(&p);
            }
            f.finish(&[&y.exp()]).unwrap()
        };
        fired_tt += check_rule(&tt, &build(&mut r), &mut r);
        fired_ti += check_rule(&ti, &build(&mut r), &mut r);
    }
    assert!(fired_tt > 0 && fired_ti > 0);
}

/// A random graph of the ops fusion meets in a transformer block: maps,
/// broadcasts, reshapes, norms, matmuls, RoPE, softmax, attention.
fn random_block(r: &mut StdRng) -> Function {
    let (rows, width, heads) = (r.random_range(1..=3), 16usize, 2usize);
    let hd = width / heads;
    let f = FunctionBuilder::new("block");
    let x = f.input("x", DType::F32, &d(&[rows, width]));
    let w = f.input("w", DType::F32, &d(&[width]));
    let wq = f.input("wq", DType::F32, &d(&[width, width]));
    let wk = f.input("wk", DType::F32, &d(&[width, width]));
    let up = f.input("up", DType::F32, &d(&[2 * width, width]));
    let gate = f.input("gate", DType::F32, &d(&[2 * width, width]));
    let down = f.input("down", DType::F32, &d(&[width, 2 * width]));
    let cs = f.input("rope", DType::F32, &d(&[rows, hd / 2, 2]));
    let mut h = x.clone();
    for _ in 0..r.random_range(1..=2) {
        let n = if r.random_bool(0.5) { h.rms_norm(&w, 1e-5) } else { random_unary(r, &h) };
        let q = n.matmul_t(&wq).reshape(&d(&[rows, heads, hd]));
        let k = n.matmul_t(&wk).reshape(&d(&[rows, heads, hd]));
        let (q, k) = if r.random_bool(0.6) { (q.rope_table(&cs, false), k.rope_table(&cs, false)) } else { (q, k) };
        let att = if r.random_bool(0.5) { q.attention(&k, &k, 0.3) } else { q.add(&k).softmax() };
        h = h.add(&att.reshape(&d(&[rows, width])));
        let m = h.matmul_t(&gate).silu().mul(&h.matmul_t(&up)).matmul_t(&down);
        h = if r.random_bool(0.5) { h.add(&m) } else { random_unary(r, &m).mul(&h) };
    }
    f.finish(&[&h]).unwrap()
}

#[test]
fn fusing_producers_into_consumers_is_sound() {
    let mut r = rng();
    let (rule, mut fired) = (rule("inline-producer"), 0);
    for _ in 0..cases() {
        fired += check_rule(&rule, &random_block(&mut r), &mut r);
    }
    assert!(fired > 0);
}

#[test]
fn absorbing_an_add_into_the_matmul_it_follows_is_sound() {
    let mut r = rng();
    let (rule, mut fired) = (rule("inline-producer"), 0);
    for _ in 0..cases() {
        let (rows, k, n) = (r.random_range(1..=3), 8 * r.random_range(1..=4), r.random_range(1..=9));
        let f = FunctionBuilder::new("epilogue");
        let x = f.input("x", DType::F32, &d(&[rows, k]));
        let w = f.input("w", DType::F32, &d(&[n, k]));
        let residual = f.input("r", DType::F32, &d(&[rows, n]));
        let m = x.matmul_t(&w);
        let y = match r.random_range(0..3) {
            0 => m.add(&residual),
            1 => residual.add(&m),
            _ => m.sub(&residual.exp()),
        };
        let func = f.finish(&[&y]).unwrap();
        fired += check_rule(&rule, &func, &mut r);
        // one kernel: the matmul with the add as its epilogue
        let optimizer = Optimizer { rules: vec![rule.clone()], ..Optimizer::new(CostModel::gpu()) };
        let (rewritten, report) = optimizer.optimize(&func).unwrap();
        assert_eq!(report.kernels_after, 1, "{rewritten}");
    }
    assert!(fired > 0);
}

#[test]
fn splitting_an_op_into_its_stages_is_sound() {
    let mut r = rng();
    let (rule, mut fired) = (rule("split-stages"), 0);
    for _ in 0..cases() {
        fired += check_rule(&rule, &random_block(&mut r), &mut r);
        let f = FunctionBuilder::new("norms");
        let x = f.input("x", DType::F32, &d(&[r.random_range(1..4), 8]));
        let w = f.input("w", DType::F32, &d(&[8]));
        let b = f.input("b", DType::F32, &d(&[8]));
        let y = random_unary(&mut r, &x).layer_norm(&w, &b, 1e-5).rms_norm(&w, 1e-6).softmax();
        fired += check_rule(&rule, &f.finish(&[&y]).unwrap(), &mut r);
    }
    assert!(fired > 0);
}

/// An op of two stages: an elementwise `exp(x)`, then its row sums; the
/// first inlines into the second.
#[derive(Debug)]
struct ExpRowSum;

impl OpDef for ExpRowSum {
    fn name(&self) -> String {
        "exp_row_sum".into()
    }
    fn infer(&self, ins: &[TensorType]) -> Result<TensorType, String> {
        Ok(TensorType::new(DType::F32, ins[0].shape[..1].to_vec()))
    }
    fn compute(&self, ins: &[TensorType], out: &TensorType) -> Vec<Stage> {
        vec![
            Stage::map("exp", ins[0].shape.clone(), DType::F32, load(0, vec![ax(0), ax(1)]).exp()),
            Stage::reduce("row_sum", out.shape.clone(), DType::F32, ReduceOp::Sum, vec![ins[0].shape[1].clone()], load(1, vec![ax(0), ax(1)])).with_class(KernelClass::Reduction),
        ]
    }
}

#[test]
fn inlining_an_ops_own_stages_is_sound() {
    let mut r = rng();
    let (rule, mut fired) = (rule("inline-own-stages"), 0);
    for _ in 0..cases() {
        let f = FunctionBuilder::new("own");
        let x = f.input("x", DType::F32, &d(&[r.random_range(1..5), r.random_range(1..9)]));
        let y = f.apply(Arc::new(ExpRowSum), &[&random_unary(&mut r, &x)]);
        fired += check_rule(&rule, &f.finish(&[&y.tanh()]).unwrap(), &mut r);
    }
    assert!(fired > 0);
}

#[test]
fn every_rule_together_keeps_results_and_removes_kernels() {
    let mut r = rng();
    for _ in 0..cases() {
        let func = random_block(&mut r);
        let (rewritten, report) = Optimizer::new(CostModel::gpu()).optimize(&func).unwrap();
        assert!(report.kernels_after <= report.kernels_before, "{}", report.summary());
        let inputs = random_inputs(&func, &mut r);
        let none = HashMap::new();
        let want = interpret(&func, &inputs, &none, &Bindings::new()).unwrap();
        let got = interpret(&rewritten, &inputs, &none, &Bindings::new()).unwrap();
        let err = rel_l2_error(&got[0].data, &want[0].data);
        assert!(err <= TOLERANCE, "error {err:e}: {}\n{func}\n{rewritten}", report.summary());
    }
}

/// `softmax(scale · q kᵀ) v` over heads, as a model would write it: `[S, H,
/// D]` activations transposed to heads first (or `[H, S, D]` ones used as
/// they are), the scale a product, a quotient or none, the result maybe
/// transposed back (then the function is returned with `true`).
fn written_out_attention(r: &mut StdRng) -> (Function, bool) {
    let (h, s, t, dd) = (r.random_range(1..=3), r.random_range(1..=4), r.random_range(1..=6), r.random_range(1..=8));
    let f = FunctionBuilder::new("attention");
    let transposed = r.random_bool(0.5);
    let heads_first = |x: Tensor| if transposed { x.transpose(&[1, 0, 2]) } else { x };
    let shape = |rows: usize| if transposed { d(&[rows, h, dd]) } else { d(&[h, rows, dd]) };
    let q = heads_first(f.input("q", DType::F32, &shape(s)));
    let k = heads_first(f.input("k", DType::F32, &shape(t)));
    let v = heads_first(f.input("v", DType::F32, &shape(t)));
    let scores = q.matmul_t(&k);
    let scaled = match r.random_range(0..3) {
        0 => scores.mul_scalar(r.random_range(0.05..2.0)),
        1 => scores.div_scalar(r.random_range(0.5..8.0)),
        _ => scores,
    };
    let out = scaled.softmax().matmul(&v);
    let back = r.random_bool(0.5);
    let out = if back { out.transpose(&[1, 0, 2]) } else { out };
    (f.finish(&[&out]).unwrap(), back)
}

#[test]
fn substituting_attention_for_its_written_out_pattern_is_sound() {
    let mut r = rng();
    let (rule, mut fired) = (rule("attention-pattern"), 0);
    for _ in 0..cases() {
        fired += check_rule(&rule, &written_out_attention(&mut r).0, &mut r);
    }
    assert!(fired > 0);
}

/// Written out, the pattern fuses into four kernels (q·k, max, sum of
/// exps, weighted values), one fewer than the attention op, which stores
/// its exp weights; the op saves the transpose of the result back to `[S,
/// H, D]`. Where that makes the two programs equally many kernels, the
/// cost model picks by bytes moved: the op must win some of those, and no
/// result may have more kernels than the other program.
#[test]
fn every_rule_together_turns_written_out_attention_into_the_attention_op() {
    let mut r = rng();
    let mut chosen = 0;
    for _ in 0..cases() {
        let (func, transposed_back) = written_out_attention(&mut r);
        let (rewritten, report) = Optimizer::new(CostModel::gpu()).optimize(&func).unwrap();
        let attention = rewritten.nodes.iter().filter(|n| matches!(&n.kind, NodeKind::Op(op) if op.name().contains("attention("))).count();
        chosen += (transposed_back && attention == 1) as usize;
        let most = if transposed_back { 5 } else { 4 };
        assert!(report.kernels_after <= most && report.kernels_after < report.kernels_before, "{}\n{rewritten}\n{:?}", report.summary(), report.rules);
        let inputs = random_inputs(&func, &mut r);
        let none = HashMap::new();
        let want = interpret(&func, &inputs, &none, &Bindings::new()).unwrap();
        let got = interpret(&rewritten, &inputs, &none, &Bindings::new()).unwrap();
        assert!(rel_l2_error(&got[0].data, &want[0].data) <= TOLERANCE, "{}", report.summary());
    }
    assert!(chosen > 0, "the attention op was never chosen over its written-out pattern");
}

/// An attention over a KV cache (causal, f16 keys and values; or unmasked,
/// f32; grouped-query or not) whose queries a model computes as its
/// projection reshaped to heads, RoPE'd and (f16) rounded.
fn attention_with_computed_queries(r: &mut StdRng) -> Function {
    let (hkv, group, s, t, dd) = (r.random_range(1..=3), r.random_range(1..=3), r.random_range(1..=4), r.random_range(1..=9), 2 * r.random_range(1..=8));
    let hq = hkv * group;
    let f16 = r.random_bool(0.5);
    let kv = if f16 { DType::F16 } else { DType::F32 };
    let f = FunctionBuilder::new("attention");
    let x = f.input("x", DType::F32, &d(&[s, hq * dd]));
    let table = f.input("rope", DType::F32, &d(&[s, dd / 2, 2]));
    let k = f.input("k", kv, &d(&[t.max(s), hkv, dd]));
    let v = f.input("v", kv, &d(&[t.max(s), hkv, dd]));
    let q = x.reshape(&d(&[s, hq, dd])).rope_table(&table, r.random_bool(0.5));
    let q = if f16 { q.cast(DType::F16) } else { q };
    let scale = r.random_range(0.05..1.0);
    let out = if f16 { q.attention(&k, &v, scale) } else { q.attention_unmasked(&k, &v, scale) };
    f.finish(&[&out]).unwrap()
}

/// The attention op substituted by the one that runs as one kernel, and
/// its queries' computation (RoPE, rounding) fused into it as its
/// prologue: the same results, and on a GPU one kernel in all.
#[test]
fn attention_as_one_kernel_with_its_queries_is_sound() {
    let mut r = rng();
    let (rule, mut fired) = (rule("attention-kernel"), 0);
    for _ in 0..cases() {
        let func = attention_with_computed_queries(&mut r);
        fired += check_rule(&rule, &func, &mut r);
        // (the attention whole: these few queries' keys would split into three kernels)
        let optimizer = Optimizer { rules: vec![rule.clone(), self::rule("inline-producer")], ..Optimizer::new(CostModel { split_attention: false, ..CostModel::gpu() }) };
        let (rewritten, report) = optimizer.optimize(&func).unwrap();
        assert_eq!(report.kernels_after, 1, "{}\n{rewritten}", report.summary());
        let inputs = random_inputs(&func, &mut r);
        let none = HashMap::new();
        let want = interpret(&func, &inputs, &none, &Bindings::new()).unwrap();
        let got = interpret(&rewritten, &inputs, &none, &Bindings::new()).unwrap();
        assert!(rel_l2_error(&got[0].data, &want[0].data) <= TOLERANCE, "{}\n{rewritten}", report.summary());
        // a CPU's backend runs the stages: the substitution saves nothing there
        let (_, report) = Optimizer { rules: vec![rule.clone()], ..Optimizer::new(CostModel::cpu()) }.optimize(&func).unwrap();
        assert_eq!(report.kernels_after, report.kernels_before, "{}", report.summary());
    }
    assert!(fired > 0);
}

/// Projections of one input by weights of one type (Q, K, V; gate, up)
/// merged into one matmul over the weights concatenated by rows, the
/// concatenation folded into a parameter as a module does at load: same
/// results on the interpreter, fewer kernels.
#[test]
fn merging_projections_of_one_input_is_sound() {
    let mut r = rng();
    let (rule, mut fired) = (rule("merge-projections"), 0);
    for _ in 0..cases() {
        let dtype = [DType::F32, DType::F16, DType::Q8_0, DType::Q4_0][r.random_range(0..4)];
        let (rows, k, parts) = (r.random_range(1..=3), 32 * r.random_range(1..=3), r.random_range(2..=3));
        let mut module = kiln_dsl::Module::new();
        let widths: Vec<usize> = (0..parts).map(|_| r.random_range(1..=9)).collect();
        for (i, n) in widths.iter().enumerate() {
            module.declare_param(&format!("w{i}"), dtype, &d(&[*n, k])).unwrap();
        }
        let f = module.function_builder("projections");
        let x = f.input("x", DType::F32, &d(&[rows, k]));
        let outs: Vec<Tensor> = (0..parts).map(|i| random_unary(&mut r, &x.matmul_t(&f.param(&format!("w{i}"))))).collect();
        let func = f.finish(&outs.iter().collect::<Vec<_>>()).unwrap();
        // (with slices fused into the maps reading them, so that the merged
        // matmul is what extraction keeps)
        let optimizer = Optimizer { rules: vec![rule.clone(), self::rule("inline-producer")], ..Optimizer::new(CostModel::gpu()).folding_params() };
        let (rewritten, report) = optimizer.optimize(&func).unwrap();
        fired += report.rules[0].applied;
        assert_eq!(report.kernels_after, parts + 1, "one matmul, each output's map: {}\n{rewritten}", report.summary());
        let params: HashMap<String, HostTensor> = widths.iter().enumerate().map(|(i, n)| (format!("w{i}"), HostTensor::random(dtype, &[*n, k], 4, &mut r))).collect();
        let (folded, made) = kiln_dsl::fold::fold_params(&rewritten, &params).unwrap();
        assert_eq!(made.len(), 1, "{folded}");
        let all: HashMap<String, HostTensor> = params.clone().into_iter().chain(made).collect();
        let inputs = vec![HostTensor::random(DType::F32, &[rows, k], 4, &mut r)];
        let want = interpret(&func, &inputs, &params, &Bindings::new()).unwrap();
        let got = interpret(&folded, &inputs, &all, &Bindings::new()).unwrap();
        for (g, w) in got.iter().zip(&want) {
            assert!(rel_l2_error(&g.data, &w.data) <= TOLERANCE, "{dtype}: {rewritten}");
        }
    }
    assert!(fired > 0);
}

/// llama.cpp's arithmetic on a GPU: the norm's scaling, the MLP's product
/// and a reshape fuse into the quantization of the matmul's activations
/// (the GPU's quantize kernels evaluate any expression): same results on
/// the interpreter, fewer kernels; the CPU's cost model keeps them apart.
#[test]
fn a_norms_mean_fuses_into_the_quantization_that_reads_it_on_a_gpu() {
    // rows of whole 256-value spans: the norm fuses into the quantize
    // stage, whose two stages (the mean, the quantization) a GPU runs as
    // one kernel, the GEMV after it apart; same values
    let row_reduced = |func: &Function| {
        func.nodes
            .iter()
            .filter(|n| match &n.kind {
                NodeKind::Op(op) => {
                    let ins: Vec<TensorType> = n.inputs.iter().map(|i| func.node(*i).ty.clone()).collect();
                    kiln_dsl::ops::RowReduced::of(&op.compute(&ins, &n.ty), ins.len()).is_some()
                }
                _ => false,
            })
            .count()
    };
    let mut r = rng();
    for _ in 0..cases() {
        let (rows, k, n) = (r.random_range(1..=3), 256 * r.random_range(1..=3), r.random_range(1..=9));
        let mut module = kiln_dsl::Module::new();
        module.declare_param("norm", DType::F32, &d(&[k])).unwrap();
        module.declare_param("w", DType::Q4_0, &d(&[n, k])).unwrap();
        let f = module.function_builder("block");
        let x = f.input("x", DType::F32, &d(&[rows, k]));
        let y = x.rms_norm(&f.param("norm"), 1e-5).quantize(DType::Q8_0).matmul_t(&f.param("w"));
        let func = f.finish(&[&y]).unwrap();
        let (rewritten, report) = Optimizer::new(CostModel::gpu()).optimize(&func).unwrap();
        assert_eq!((row_reduced(&rewritten), report.kernels_after), (1, 2), "{}\n{rewritten}", report.summary());
        let mut params = HashMap::new();
        params.insert("norm".to_string(), HostTensor::random(DType::F32, &[k], 1, &mut r));
        params.insert("w".to_string(), HostTensor::random(DType::Q4_0, &[n, k], 1, &mut r));
        let inputs = random_inputs(&func, &mut r);
        let want = interpret(&func, &inputs, &params, &Bindings::new()).unwrap();
        let got = interpret(&rewritten, &inputs, &params, &Bindings::new()).unwrap();
        assert!(rel_l2_error(&got[0].data, &want[0].data) <= TOLERANCE, "{}\n{rewritten}", report.summary());
        // a backend that computes no reductions in its quantize kernels:
        // the same op (the norm fused into the quantization), two kernels
        let (apart, report) = Optimizer::new(CostModel { row_reductions: false, ..CostModel::gpu() }).optimize(&func).unwrap();
        assert_eq!(report.kernels_after, 3, "{}\n{apart}", report.summary());
    }
}

#[test]
fn producers_fuse_into_quantize_stages_on_a_gpu() {
    let mut r = rng();
    for _ in 0..cases() {
        let (rows, k, n) = (r.random_range(1..=3), 32 * r.random_range(1..=3), r.random_range(1..=9));
        let mut module = kiln_dsl::Module::new();
        module.declare_param("norm", DType::F32, &d(&[k])).unwrap();
        module.declare_param("w", DType::Q4_0, &d(&[n, k])).unwrap();
        module.declare_param("up", DType::Q4_0, &d(&[2 * k, k])).unwrap();
        let f = module.function_builder("block");
        let x = f.input("x", DType::F32, &d(&[rows, k]));
        let h = x.rms_norm(&f.param("norm"), 1e-5).quantize(DType::Q8_0).matmul_t(&f.param("up"));
        let (gate, up) = (h.slice(1, 0, k), h.slice(1, k, 2 * k));
        let y = gate.silu().mul(&up).reshape(&d(&[rows, k])).quantize(DType::Q8_0).matmul_t(&f.param("w"));
        let func = f.finish(&[&y]).unwrap();
        let (rewritten, report) = Optimizer::new(CostModel::gpu()).optimize(&func).unwrap();
        assert!(report.kernels_after < report.kernels_before, "{}\n{rewritten}", report.summary());
        let mut params = HashMap::new();
        for (name, shape, dtype) in [("norm", vec![k], DType::F32), ("w", vec![n, k], DType::Q4_0), ("up", vec![2 * k, k], DType::Q4_0)] {
            params.insert(name.to_string(), HostTensor::random(dtype, &shape, 1, &mut r));
        }
        let inputs = random_inputs(&func, &mut r);
        let want = interpret(&func, &inputs, &params, &Bindings::new()).unwrap();
        let got = interpret(&rewritten, &inputs, &params, &Bindings::new()).unwrap();
        assert!(rel_l2_error(&got[0].data, &want[0].data) <= TOLERANCE, "{}\n{rewritten}", report.summary());
        // on the CPU the quantizations read stored rows
        let (cpu, _) = Optimizer::new(CostModel::cpu()).optimize(&func).unwrap();
        let fused_quantize = |func: &Function| func.nodes.iter().any(|n| matches!(&n.kind, NodeKind::Op(op) if op.as_fused().is_some_and(|f| f.name().contains("quantize"))));
        assert!(fused_quantize(&rewritten) && !fused_quantize(&cpu), "gpu:\n{rewritten}\ncpu:\n{cpu}");
    }
}
