//! Property: any legal schedule of an op computes what the default schedule
//! computes (and both match the reference interpreter), over random shapes
//! and random schedule decisions — splits by odd factors, reorders, fusion,
//! register tiles inside reductions, vectorization, unrolling, threads.

mod common;
use common::*;
use kiln_dsl::{Bindings, DType, Dim, Function, FunctionBuilder, RopeConfig};
use kiln_runtime::{CompileOptions, Scheduler};
use kiln_schedule::{annotate, fuse, reorder, split, LoopKind, LoopNest, ScheduleError, Validated};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use std::sync::Arc;

/// A random legal schedule of `nest`, driven by `seed`.
fn random_schedule(mut nest: LoopNest, seed: u64) -> Result<Validated, ScheduleError> {
    let mut rng = StdRng::seed_from_u64(seed ^ nest.name.len() as u64);
    let rank = nest.out_rank();
    // fuse the two outermost spatial loops sometimes
    if rank >= 2 && rng.random_bool(0.3) {
        nest = fuse(nest, 0, 1)?.0;
    }
    // random splits
    for _ in 0..rng.random_range(0..4) {
        let ids = nest.loop_ids();
        let id = *ids.choose(&mut rng).unwrap();
        let factor = *[1, 2, 3, 4, 5, 8].choose(&mut rng).unwrap();
        nest = split(nest, id, factor)?.0;
    }
    // spatial loops in random order, then reduction loops in random order
    let (mut sp, mut red): (Vec<_>, Vec<_>) = nest.loops.iter().partition(|l| !l.reduction);
    sp.shuffle(&mut rng);
    red.shuffle(&mut rng);
    let mut tile = Vec::new();
    // move trailing small constant spatial loops into the reduction region as a register tile
    if !red.is_empty() {
        // at most two loops of at most 8: within the 64-accumulator limit
        while let Some(l) = sp.last() {
            if tile.len() < 2 && l.const_extent().is_some_and(|e| e <= 8) && rng.random_bool(0.5) {
                tile.push(sp.pop().unwrap().clone());
            } else {
                break;
            }
        }
    }
    let mut order: Vec<u32> = sp.iter().map(|l| l.id).collect();
    order.extend(red.iter().map(|l| l.id));
    let tile_ids: Vec<u32> = tile.iter().map(|l| l.id).collect();
    // tile loops go innermost, except a final reduction loop may stay innermost to vectorize
    if !tile_ids.is_empty() && rng.random_bool(0.5) {
        let last_red = order.pop().unwrap();
        order.extend(&tile_ids);
        order.push(last_red);
    } else {
        order.extend(&tile_ids);
    }
    nest = reorder(nest, &order)?;
    for id in &tile_ids {
        nest = annotate(nest, *id, LoopKind::Unrolled)?;
    }
    // kinds
    let n = nest.loops.len();
    for pos in 0..n {
        let l = nest.loops[pos].clone();
        if tile_ids.contains(&l.id) {
            if pos == n - 1 && l.const_extent() == Some(4) && rng.random_bool(0.5) {
                nest = annotate(nest, l.id, LoopKind::Vectorized)?;
            }
            continue;
        }
        let kind = if pos == n - 1 && l.const_extent() == Some(4) && rng.random_bool(0.6) {
            LoopKind::Vectorized
        } else if pos == 0 && !l.reduction && rng.random_bool(0.5) {
            LoopKind::Parallel
        } else if l.const_extent().is_some_and(|e| e <= 8) && rng.random_bool(0.3) {
            LoopKind::Unrolled
        } else {
            continue;
        };
        nest = annotate(nest, l.id, kind)?;
    }
    // A fused loop feeding a bound check through % cannot be unrolled or
    // vectorized (validation says so); fall back to serial for those.
    loop {
        match nest.clone().validate() {
            Err(ScheduleError::BadLoopKind { loop_id, .. }) if !tile_ids.contains(&loop_id) && nest.loop_(loop_id)?.kind != LoopKind::Serial => {
                nest = annotate(nest, loop_id, LoopKind::Serial)?;
            }
            other => return other,
        }
    }
}

#[derive(Debug, Clone)]
enum Case {
    Matmul { m: usize, k: usize, n: usize, transpose: bool, sym: bool },
    QuantMatmul { m: usize, blocks: usize, n: usize, dtype: DType },
    Softmax { rows: usize, cols: usize },
    RmsNorm { rows: usize, cols: usize },
    Attention { s: usize, extra: usize, group: usize, d: usize },
    Elementwise { rows: usize, cols: usize },
    Argmax { rows: usize, cols: usize },
    Rope { s: usize, h: usize, half_d: usize },
    Transpose { a: usize, b: usize, c: usize },
}

fn case() -> impl Strategy<Value = Case> {
    let s = 1usize..40;
    prop_oneof![
        (s.clone(), 1usize..70, s.clone(), any::<bool>(), any::<bool>()).prop_map(|(m, k, n, transpose, sym)| Case::Matmul { m, k, n, transpose, sym }),
        (1usize..6, 1usize..4, 1usize..20, prop_oneof![Just(DType::Q8_0), Just(DType::Q4_0), Just(DType::Q4_1), Just(DType::Q4_K), Just(DType::Q6_K)]).prop_map(|(m, blocks, n, dtype)| Case::QuantMatmul { m, blocks, n, dtype }),
        (1usize..9, 1usize..80).prop_map(|(rows, cols)| Case::Softmax { rows, cols }),
        (1usize..9, 1usize..80).prop_map(|(rows, cols)| Case::RmsNorm { rows, cols }),
        (1usize..5, 0usize..6, 1usize..3, 1usize..17).prop_map(|(s, extra, group, d)| Case::Attention { s, extra, group, d }),
        (1usize..9, 1usize..70).prop_map(|(rows, cols)| Case::Elementwise { rows, cols }),
        (1usize..9, 1usize..70).prop_map(|(rows, cols)| Case::Argmax { rows, cols }),
        (1usize..6, 1usize..4, 1usize..9).prop_map(|(s, h, half_d)| Case::Rope { s, h, half_d }),
        (1usize..7, 1usize..7, 1usize..9).prop_map(|(a, b, c)| Case::Transpose { a, b, c }),
    ]
}

fn build(case: &Case) -> (Function, Vec<Vec<usize>>) {
    let f = FunctionBuilder::new("case");
    let dd = |n: usize| Dim::from(n);
    let (out, shapes) = match *case {
        Case::Matmul { m, k, n, transpose, sym } => {
            let md = if sym { Dim::sym("m") } else { dd(m) };
            let a = f.input("a", DType::F32, &[md, dd(k)]);
            if transpose {
                (a.matmul_t(&f.input("b", DType::F32, &[dd(n), dd(k)])), vec![vec![m, k], vec![n, k]])
            } else {
                (a.matmul(&f.input("b", DType::F32, &[dd(k), dd(n)])), vec![vec![m, k], vec![k, n]])
            }
        }
        Case::QuantMatmul { m, blocks, n, dtype } => {
            let k = dtype.block_len() * blocks;
            let a = f.input("a", DType::F32, &[dd(m), dd(k)]);
            (a.matmul_t(&f.input("w", dtype, &[dd(n), dd(k)])), vec![vec![m, k], vec![n, k]])
        }
        Case::Softmax { rows, cols } => (f.input("x", DType::F32, &[dd(rows), dd(cols)]).softmax(), vec![vec![rows, cols]]),
        Case::RmsNorm { rows, cols } => {
            let x = f.input("x", DType::F32, &[dd(rows), dd(cols)]);
            (x.rms_norm(&f.input("w", DType::F32, &[dd(cols)]), 1e-5), vec![vec![rows, cols], vec![cols]])
        }
        Case::Attention { s, extra, group, d } => {
            let (t, hkv) = (s + extra, 2);
            let q = f.input("q", DType::F32, &[dd(s), dd(hkv * group), dd(d)]);
            let k = f.input("k", DType::F32, &[dd(t), dd(hkv), dd(d)]);
            let v = f.input("v", DType::F32, &[dd(t), dd(hkv), dd(d)]);
            (q.attention(&k, &v, 0.3), vec![vec![s, hkv * group, d], vec![t, hkv, d], vec![t, hkv, d]])
        }
        Case::Elementwise { rows, cols } => {
            let x = f.input("x", DType::F32, &[dd(rows), dd(cols)]);
            let b = f.input("b", DType::F32, &[dd(cols)]);
            (x.add(&b).silu().mul(&x), vec![vec![rows, cols], vec![cols]])
        }
        Case::Argmax { rows, cols } => (f.input("x", DType::F32, &[dd(rows), dd(cols)]).argmax(), vec![vec![rows, cols]]),
        Case::Rope { s, h, half_d } => {
            let x = f.input("x", DType::F32, &[dd(s), dd(h), dd(2 * half_d)]);
            let p = f.input("p", DType::I32, &[dd(s)]);
            (x.rope(&p, RopeConfig { base: 10000.0, n_dims: 2 * half_d, neox: half_d % 2 == 0 }), vec![vec![s, h, 2 * half_d], vec![s]])
        }
        Case::Transpose { a, b, c } => (f.input("x", DType::F32, &[dd(a), dd(b), dd(c)]).transpose(&[2, 0, 1]), vec![vec![a, b, c]]),
    };
    (f.finish(&[&out]).unwrap(), shapes)
}

proptest! {
    // KILN_PROPTEST_CASES raises the count for a longer local soak.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("KILN_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(96),
        failure_persistence: None,
        .. ProptestConfig::default()
    })]

    #[test]
    fn any_legal_schedule_computes_the_same(case in case(), seed in any::<u64>(), data_seed in any::<u64>()) {
        let (func, shapes) = build(&case);
        let mut rng = StdRng::seed_from_u64(data_seed);
        let shape_refs: Vec<&[usize]> = shapes.iter().map(|s| s.as_slice()).collect();
        let inputs = random_inputs(&func, &shape_refs, 100, &mut rng);
        let scheduler: Scheduler = Arc::new(move |nest| random_schedule(nest, seed));
        let options = CompileOptions { scheduler: Some(scheduler), ..CompileOptions::default() };
        let random = max_error_with(&func, &inputs, &Bindings::new(), &options);
        let default = max_error_with(&func, &inputs, &Bindings::new(), &CompileOptions::default());
        prop_assert!(random < 1e-5, "random schedule: error {random:e} on {case:?}");
        prop_assert!(default < 1e-5, "default schedule: error {default:e} on {case:?}");
    }
}

