//! The autotuner end to end on the CPU and on the GPU (lavapipe in CI):
//! a short search writes records that a second search reads, the stored
//! best is what a later compile applies, and the tuned kernel computes the
//! reference's values; candidates are checked before they are timed.

use kiln_autotune::{tune, workload_from_spec, Backend, MeasureOptions, Space, Stop, TuneError, TuneOptions};
use kiln_dsl::interpret;
use rand::SeedableRng;
use kiln_runtime::{CompileOptions, CpuExecutable, GpuDevice, GpuExecutable};
use kiln_schedule::{AdapterKind, GpuKnobs, Knobs, LoopNest};
use kiln_tuning_db::{Device, TuningDb};
use std::collections::HashMap;
use std::sync::Arc;

fn device(name: &str) -> Device {
    Device { fingerprint: format!("test-{name}"), name: name.into(), backend: name.into(), driver: String::new() }
}

fn short(trials: usize) -> TuneOptions {
    TuneOptions { trials, patience: 100, batch: 3, seed: 7, measure: MeasureOptions { warmup: 1, repeats: 3, ..MeasureOptions::default() } }
}

/// Tune `spec` twice on `backend` (the second run resumes from the
/// first's records), then compile it with the stored best and compare
/// with the reference interpreter.
fn tune_twice_and_apply(backend: Backend, dev: Device, spec: &str) {
    let dir = tempfile::tempdir().unwrap();
    let db = TuningDb::open(dir.path().join("tuning.db")).unwrap();
    let w = workload_from_spec(spec).unwrap().remove(0);
    assert_eq!(w.key.class, "gemv");
    let first = tune(&backend, &w, &db, &dev, &short(9), &mut |_| {}).unwrap();
    assert_eq!(first.resumed, 0);
    assert!(first.trials.len() >= 2 && first.trials.len() <= 9, "{}", first.trials.len());
    assert!(first.trials[0].result.is_ok(), "the default is trial 0");
    let timed = first.trials.iter().filter(|t| t.result.is_ok()).count();
    // every timed trial is stored, and the final comparison of default and
    // best where the search found something faster (a record equal to one
    // of the same second is kept once)
    let confirmed = if first.search_best.0 != first.trials[0].knobs { 2 } else { 0 };
    let stored = db.records(Some(&dev.fingerprint)).unwrap().len();
    assert!(stored >= timed && stored <= timed + confirmed, "{stored} records for {timed} timed trials");
    assert!(first.best.1.median_s <= first.default.median_s);
    assert!(first.trials.iter().any(|t| t.predicted_s.is_some()) || first.stopped == Stop::Exhausted, "after the random population the cost model ranks candidates: {first:?}");

    let second = tune(&backend, &w, &db, &dev, &short(4), &mut |_| {}).unwrap();
    assert_eq!(second.resumed, stored, "the second run reads the first's records");
    // and measures again only the default and the stored best, then new points
    let first_knobs: Vec<Knobs> = first.trials.iter().map(|t| t.knobs).collect();
    let again: Vec<&Knobs> = second.trials.iter().map(|t| &t.knobs).filter(|k| first_knobs.contains(k)).collect();
    assert!(again.len() <= 2 && again[0] == &first.trials[0].knobs, "{again:?}");

    // what a compile applies: the stored best, for this kernel
    let (tuned, skipped) = kiln_autotune::tuned_schedules(&db, &dev.fingerprint).unwrap();
    assert_eq!((tuned.len(), skipped), (1, 0));
    let best = db.best(&dev.fingerprint, &w.key.key).unwrap().unwrap();
    let knobs: Knobs = serde_json::from_value(best.schedule).unwrap();
    assert_eq!(tuned.lookup(&w.nest), Some(knobs));
    let tuned = Arc::new(tuned);
    let options = CompileOptions { tuned: Some(tuned.clone()), ..CompileOptions::default() };
    let inputs = w.random_inputs(42).unwrap();
    let want = interpret(&w.func, &inputs, &HashMap::new(), &w.bindings).unwrap().remove(0).data;
    let got: Vec<f64> = match &backend {
        Backend::Cpu => CpuExecutable::compile(&w.func, &options).unwrap().run(&inputs, &HashMap::new(), &w.bindings).unwrap().remove(0).to_f64(),
        Backend::Gpu(g) => GpuExecutable::compile(&w.func, g, &options).unwrap().run(&inputs, &HashMap::new(), &w.bindings).unwrap().remove(0).to_f64(),
    };
    assert!(tuned.usage().0 >= 1, "the tuned knobs were applied: {:?}", tuned.usage());
    let err = kiln_autotune::rel_l2(&got, &want);
    assert!(err < 1e-3, "relative L2 error {err}");
}

#[test]
fn a_short_cpu_search_stores_records_that_the_next_run_and_compiles_read() {
    tune_twice_and_apply(Backend::Cpu, device("cpu"), "matmul:q4_0:1x256x96");
}

#[test]
fn a_short_gpu_search_stores_records_that_the_next_run_and_compiles_read() {
    let gpu = GpuDevice::open(0).expect("a GPU adapter (lavapipe in CI: scripts/test.sh installs it)");
    tune_twice_and_apply(Backend::Gpu(gpu), device("gpu"), "matmul:q8_0:1x128x64");
}

#[test]
fn candidates_are_checked_against_the_reference_before_they_are_timed() {
    // no f32 kernel meets an f64 reference exactly: with no tolerance
    // even the default schedule is refused, and nothing is stored
    let db = TuningDb::open_in_memory().unwrap();
    let w = workload_from_spec("matmul:f32:2x64x32").unwrap().remove(0);
    let strict = TuneOptions { measure: MeasureOptions { tolerance: 0.0, ..MeasureOptions::default() }, ..short(4) };
    let err = tune(&Backend::Cpu, &w, &db, &device("cpu"), &strict, &mut |_| {}).unwrap_err();
    assert!(matches!(err, TuneError::Default { .. }) && err.to_string().contains("relative L2 error"), "{err}");
    assert_eq!(db.counts().unwrap().records, 0);
}

#[test]
fn bad_workload_specs_are_clear_errors() {
    for (spec, says) in [("matmul:q4_0:1x100x64", "multiple of the 32-value blocks of q4_0"), ("matmul:q9:1x64x64", "unknown dtype"), ("conv:f32:1x2x3", "unknown workload kind"), ("matmul:f32:1x0x3", "positive"), ("matmul:f32", "three or four parts"), ("matmul:q4_0:1x64x64:f16", "activations `f16`: q8_0 or q8_1"), ("matmul:f32:1x48x4:q8_0", "multiple of the 32-value blocks of q8_0")] {
        let err = workload_from_spec(spec).unwrap_err().to_string();
        assert!(err.contains(says) && err.contains(spec), "{spec}: {err}");
    }
}

#[test]
fn workload_keys_name_the_structure_not_the_kernel() {
    let a = workload_from_spec("matmul:q4_0:1x256x96").unwrap().remove(0);
    let b = workload_from_spec("matmul:q4_0:1x256x96").unwrap().remove(0);
    let mut renamed: LoopNest = b.nest.clone();
    renamed.name = "blk.7.ffn_up".into();
    assert_eq!(a.key, renamed.workload_key());
    for other in ["matmul:q4_0:1x256x128", "matmul:q4_1:1x256x96", "matmul:q4_0:2x256x96"] {
        assert_ne!(a.key.key, workload_from_spec(other).unwrap().remove(0).key.key, "{other}");
    }
    assert!(a.key.key.starts_with("gemv-") && a.key.description.contains("q4_0[96, 256]"), "{:?}", a.key);
}

#[test]
fn the_gpu_space_keeps_to_the_device_limits() {
    let space = Space::gpu(128);
    // every point within the limit; tiles canonical
    let mut points = 0;
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    for _ in 0..500 {
        let p = space.random(&mut rng);
        match space.knobs(&p).unwrap() {
            Knobs::Gpu(k) if k.tile > 0 => assert!(k.tile * k.tile <= 128 && k.reduce_threads == 1 && k.outputs_per_group == 1 && k.vector_width == 1),
            Knobs::Gpu(k) => assert!(k.reduce_threads * k.outputs_per_group <= 128),
            Knobs::Cpu(_) => panic!("a GPU space gives GPU knobs"),
        }
        let q = space.mutate(&p, 0.3, &mut rng);
        assert_ne!(p, q, "a mutation moves a knob");
        points += 1;
    }
    assert_eq!(points, 500);
    // the default GPU knobs of a GEMV are a point of the space
    let w = workload_from_spec("matmul:f32:1x4096x64").unwrap().remove(0);
    let default = Knobs::Gpu(GpuKnobs::default_for(&w.nest, AdapterKind::Gpu));
    assert_eq!(space.knobs(&space.point(&default).unwrap()), Some(default));
    assert!(space.size() > 100 && space.size() < Space::gpu(256).size(), "{}", space.size());
    assert_eq!(Space::cpu().size(), 12);
}

#[test]
fn only_kernels_scheduled_with_their_tuned_knobs_are_counted() {
    // CPU knobs stored for a workload that is then compiled for a GPU: not
    // applied (the default schedules it), not counted
    let w = workload_from_spec("matmul:f32:1x64x32").unwrap().remove(0);
    let cpu = Knobs::Cpu(kiln_schedule::CpuKnobs { tile: 2, unroll: 1 });
    let tuned = Arc::new(kiln_schedule::TunedSchedules::new([(w.key.key.clone(), cpu)]));
    let options = CompileOptions { tuned: Some(tuned.clone()), ..CompileOptions::default() };
    let kernels = kiln_runtime::gpu_kernels(&w.func, &Default::default(), AdapterKind::Gpu, &options).unwrap();
    assert_eq!(tuned.usage(), (0, kernels.len()));
    // on the CPU they schedule its kernel
    CpuExecutable::compile(&w.func, &options).unwrap();
    assert_eq!(tuned.usage().0, 1, "{:?}", tuned.usage());
}

/// Knobs that a kernel built whole ignores make the same shader: a search
/// measures each distinct kernel once. The integer-dot GEMV (llama.cpp's
/// arithmetic) reads the vector width only as blocks per step (8: one,
/// 16: two, 32: four), so widths 1 to 8 are one kernel.
#[test]
fn a_search_measures_each_distinct_kernel_once() {
    let backend = Backend::Gpu(GpuDevice::open(0).unwrap());
    let w = workload_from_spec("matmul:q4_0:1x256x64:q8_0").unwrap().remove(0);
    assert_eq!(w.key.class, "gemv");
    let id = |width| kiln_autotune::kernel_identity(&backend, &w, Knobs::Gpu(GpuKnobs { reduce_threads: 64, outputs_per_group: 2, vector_width: width, tile: 0 })).unwrap();
    assert!(id(8).contains("dot4I8Packed"), "{}", id(8));
    assert_eq!(id(1), id(8));
    assert_eq!(id(4), id(8));
    assert_ne!(id(16), id(8));
    assert_ne!(id(32), id(16));
    let dir = tempfile::tempdir().unwrap();
    let db = TuningDb::open(dir.path().join("tuning.db")).unwrap();
    let out = tune(&backend, &w, &db, &device("lavapipe"), &short(12), &mut |_| {}).unwrap();
    let kernels: Vec<String> = out.trials.iter().filter_map(|t| kiln_autotune::kernel_identity(&backend, &w, t.knobs)).collect();
    assert!(kernels.len() >= 4, "{} trials lowered", kernels.len());
    for (i, k) in kernels.iter().enumerate() {
        assert!(!kernels[..i].contains(k), "trial {i} measured a kernel again: {:?}", out.trials[i].knobs);
    }
}
