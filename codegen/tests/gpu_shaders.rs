//! The GPU code generator's shaders, kept as reviewed snapshots: the WGSL
//! and MSL naga writes for a few default-scheduled kernels (elementwise,
//! layout, a workgroup-shared reduction, a Q4_0 GEMV, row quantization, an
//! f16 store), for the portable target, a tiled matmul staging its operands
//! in workgroup memory, and a GEMV whose weights are bound
//! as several ranges and whose rows are reduced by subgroups, and an f16
//! GEMV reading vectors, are compared with the files in
//! `tests/snapshots/` (after a deliberate codegen change, regenerate them
//! with `KILN_UPDATE_SNAPSHOTS=1 cargo test -p kiln-codegen --test
//! gpu_shaders` and review the diff). Every kernel's SPIR-V (scalar and
//! with vectorized loops) is written and,
//! where `spirv-val` is installed (`scripts/test.sh` installs it and sets
//! `KILN_SPIRV_VAL=required`), validated by it too.

use kiln_codegen::gpu::{lower, GpuKernel, GpuTarget};
use kiln_dsl::{DType, Dim, Function, FunctionBuilder, NodeKind, Tensor};
use kiln_schedule::{gpu_schedule, AdapterKind, GpuKnobs, LoopNest};

/// The portable target, `unpack2x16float`, and everything: subgroup
/// reductions, native f16, bindings of 256 bytes (most sources bound as
/// ranges) and lane-shared divisions computed once per vector; and
/// everything with whole bindings (integer-dot GEMVs).
const TARGETS: [GpuTarget; 4] = [
    GpuTarget { f16_in_f32: false, range_words: 0, subgroups: false, native_f16: false, fold_lanes: false, split_q4_0: false, float_by_exponent: false, matrix_units: false, attention_kernels: true, split_attention: true, int_dot: false, row_reductions: true },
    GpuTarget { f16_in_f32: true, range_words: 0, subgroups: false, native_f16: false, fold_lanes: false, split_q4_0: false, float_by_exponent: false, matrix_units: false, attention_kernels: true, split_attention: true, int_dot: false, row_reductions: true },
    GpuTarget { f16_in_f32: true, range_words: 64, subgroups: true, native_f16: true, fold_lanes: true, split_q4_0: true, float_by_exponent: true, matrix_units: true, attention_kernels: true, split_attention: true, int_dot: true, row_reductions: true },
    GpuTarget { f16_in_f32: true, range_words: 0, subgroups: true, native_f16: true, fold_lanes: true, split_q4_0: true, float_by_exponent: true, matrix_units: true, attention_kernels: true, split_attention: true, int_dot: true, row_reductions: true },
];

/// The default-scheduled kernels of every stage of `func`'s ops.
fn kernels(func: &Function, target: &GpuTarget) -> Vec<GpuKernel> {
    kernels_with_lanes(func, target, None)
}

/// The kernels of every stage of `func`'s ops, scheduled by default but
/// with `vector_width` elements per invocation and step where given.
fn kernels_with_lanes(func: &Function, target: &GpuTarget, vector_width: Option<i64>) -> Vec<GpuKernel> {
    kernels_with(func, target, &|nest| {
        let default = GpuKnobs::default_for(nest, AdapterKind::Gpu);
        GpuKnobs { vector_width: vector_width.unwrap_or(default.vector_width), ..default }
    })
}

/// The kernels of every stage of `func`'s ops, matmuls over rows tiled 16
/// x 16 in workgroup memory.
fn kernels_tiled(func: &Function, target: &GpuTarget) -> Vec<GpuKernel> {
    kernels_with(func, target, &|nest| GpuKnobs::tiled(nest, 16).unwrap_or_else(|| GpuKnobs::default_for(nest, AdapterKind::Gpu)))
}

/// The kernels of every stage of `func`'s ops with the knobs `knobs` picks.
fn kernels_with(func: &Function, target: &GpuTarget, knobs: &dyn Fn(&LoopNest) -> GpuKnobs) -> Vec<GpuKernel> {
    let mut out = Vec::new();
    for node in &func.nodes {
        let NodeKind::Op(op) = &node.kind else { continue };
        let ins: Vec<_> = node.inputs.iter().map(|i| func.node(*i).ty.clone()).collect();
        let mut sources: Vec<_> = ins.iter().map(|t| (t.dtype, t.shape.clone())).collect();
        for stage in op.compute(&ins, &node.ty) {
            let nest = LoopNest::from_stage(&stage, &sources).unwrap();
            let (nest, _) = gpu_schedule(nest.clone(), &knobs(&nest)).unwrap();
            out.push(lower(&nest, target).unwrap_or_else(|e| panic!("{e}")));
            sources.push((stage.dtype, stage.shape.clone()));
        }
    }
    out
}

fn function(name: &str, inputs: &[(DType, Vec<Dim>)], body: impl Fn(&[Tensor]) -> Tensor) -> Function {
    let f = FunctionBuilder::new(name);
    let ts: Vec<Tensor> = inputs.iter().enumerate().map(|(i, (dt, d))| f.input(&format!("x{i}"), *dt, d)).collect();
    f.finish(&[&body(&ts)]).unwrap()
}

fn snapshot(name: &str, text: &str) {
    let path = format!("{}/tests/snapshots/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("KILN_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e} (KILN_UPDATE_SNAPSHOTS=1 writes it)"));
    assert!(want == text, "{name} changed; review the new text and regenerate with KILN_UPDATE_SNAPSHOTS=1:\n{text}");
}

fn cases() -> Vec<(&'static str, Function)> {
    let d = |v: &[i64]| v.iter().map(|&n| Dim::new(n)).collect::<Vec<_>>();
    vec![
        ("silu", function("silu", &[(DType::F32, vec![Dim::sym("n"), Dim::new(64)])], |t| t[0].silu())),
        ("add_broadcast", function("add", &[(DType::F32, d(&[7, 33])), (DType::F32, d(&[33]))], |t| t[0].add(&t[1]))),
        ("transpose", function("transpose", &[(DType::F32, d(&[4, 6, 5]))], |t| t[0].transpose(&[2, 0, 1]))),
        ("matmul", function("matmul", &[(DType::F32, vec![Dim::sym("m"), Dim::new(64)]), (DType::F32, d(&[64, 32]))], |t| t[0].matmul(&t[1]))),
        ("concat_kv", function("concat", &[(DType::F32, vec![Dim::sym("past"), Dim::new(3), Dim::new(64)]), (DType::F32, d(&[1, 3, 64]))], |t| t[0].concat(&[&t[1]], 0))),
        ("gemv_q4_0", function("gemv", &[(DType::F32, d(&[1, 64])), (DType::Q4_0, d(&[32, 64]))], |t| t[0].matmul_t(&t[1]))),
        ("quantize_q8_1", function("quantize", &[(DType::F32, vec![Dim::sym("seq"), Dim::new(64)])], |t| t[0].quantize(DType::Q8_1))),
        ("quantize_q8_0", function("quantize", &[(DType::F32, vec![Dim::sym("seq"), Dim::new(96)])], |t| t[0].quantize(DType::Q8_0))),
        ("store_f16", function("to_f16", &[(DType::F32, vec![Dim::sym("n")])], |t| t[0].cast(DType::F16))),
    ]
}

#[test]
fn wgsl_and_msl_match_their_snapshots() {
    for (name, func) in cases() {
        let ks = kernels(&func, &GpuTarget::default());
        assert_eq!(ks.len(), 1, "{name}: one stage");
        snapshot(&format!("{name}.wgsl"), &ks[0].wgsl().unwrap());
        snapshot(&format!("{name}.msl"), &ks[0].msl().unwrap());
    }
    // a weight bound as 2 ranges of 4 KiB, rows reduced by subgroups
    let gemv = function("gemv", &[(DType::F32, vec![Dim::new(1), Dim::new(1024)]), (DType::Q4_0, vec![Dim::new(8), Dim::new(1024)])], |t| t[0].matmul_t(&t[1]));
    let ks = kernels(&gemv, &GpuTarget { range_words: 1024, ..TARGETS[2] });
    assert_eq!(ks[0].ranges, [1, 2]);
    snapshot("gemv_q4_0_every_feature.wgsl", &ks[0].wgsl().unwrap());
}

/// Vectorized loops read consecutive aligned elements as vectors: f32 as
/// `vec4<f32>`, f16 as `vec4<f16>` natively or `vec2<u32>` words; a row
/// length that is not a multiple of the lanes, or a source bound as ranges,
/// keeps scalar loads.
#[test]
fn vectorized_loops_load_vectors_where_provably_aligned() {
    let gemv = |w: DType, k: i64| function("gemv", &[(DType::F32, vec![Dim::new(1), Dim::new(k)]), (w, vec![Dim::sym("n"), Dim::new(k)])], |t| t[0].matmul_t(&t[1]));
    for target in TARGETS {
        for (w, k, views) in [(DType::F32, 256, &[0, 1][..]), (DType::F16, 256, &[0, 1]), (DType::F32, 250, &[]), (DType::Q4_0, 256, &[0])] {
            let ks = kernels_with_lanes(&gemv(w, k), &target, Some(4));
            // x (constant shape) is bound as ranges on the last target; w is not
            let want: Vec<usize> = views.iter().copied().filter(|&i| target.range_words == 0 || i == 1).collect();
            assert_eq!(ks[0].vector_views, want, "{w} weights, rows of {k}, {target:?}");
        }
    }
    let ks = kernels_with_lanes(&gemv(DType::F16, 256), &TARGETS[0], Some(4));
    snapshot("gemv_f16_vectors.wgsl", &ks[0].wgsl().unwrap());
    // a prefill matmul tiled in workgroup memory
    let matmul = cases().into_iter().find(|c| c.0 == "matmul").unwrap().1;
    let ks = kernels_tiled(&matmul, &TARGETS[0]);
    snapshot("matmul_tiled.wgsl", &ks[0].wgsl().unwrap());
    let ks = kernels_with_lanes(&function("silu", &[(DType::F32, vec![Dim::sym("n"), Dim::new(64)])], |t| t[0].silu()), &TARGETS[2], Some(4));
    assert_eq!(ks[0].vector_views, [0], "elementwise lanes read vectors");
}

#[test]
fn every_spirv_module_is_valid() {
    let validator = which("spirv-val");
    if validator.is_none() && std::env::var("KILN_SPIRV_VAL").as_deref() == Ok("required") {
        panic!("spirv-val not found, and KILN_SPIRV_VAL=required (scripts/test.sh installs spirv-tools)");
    }
    let dir = std::env::temp_dir().join(format!("kiln-spirv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, func) in cases().into_iter().chain(more_stages()) {
        let variants = TARGETS.iter().flat_map(|t| [0, 1, 8].map(|lanes| (t, lanes)));
        // lanes 0: tiled
        for (k, target, lanes) in variants.flat_map(|(t, lanes)| if lanes == 0 { kernels_tiled(&func, t) } else { kernels_with_lanes(&func, t, Some(lanes)) }.into_iter().map(move |k| (k, t, lanes))) {
            let name = format!("{name}_{}{}{}_lanes{lanes}", k.name, if target.f16_in_f32 { "_f16_in_f32" } else { "" }, if target.range_words > 0 { "_every_feature" } else { "" });
            let words = k.spirv().unwrap();
            assert_eq!(words.first(), Some(&0x0723_0203), "{name}: the SPIR-V magic number");
            let Some(val) = &validator else {
                eprintln!("{name}: SPIR-V written and naga-validated; spirv-val not installed, not run");
                continue;
            };
            let path = dir.join(format!("{name}.spv"));
            std::fs::write(&path, words.iter().flat_map(|w| w.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
            let out = std::process::Command::new(val).args(["--target-env", "vulkan1.1"]).arg(&path).output().unwrap();
            assert!(out.status.success(), "{name}: spirv-val rejects the module:\n{}", String::from_utf8_lossy(&out.stderr));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Functions of several stages, validated but not kept as snapshots.
fn more_stages() -> Vec<(&'static str, Function)> {
    let d = |v: &[i64]| v.iter().map(|&n| Dim::new(n)).collect::<Vec<_>>();
    let seq = || vec![Dim::sym("seq"), Dim::new(64)];
    vec![
        ("rms_norm", function("rms_norm", &[(DType::F32, seq()), (DType::F32, d(&[64]))], |t| t[0].rms_norm(&t[1], 1e-5))),
        ("softmax", function("softmax", &[(DType::F32, seq())], |t| t[0].softmax())),
        ("attention_f16", function("attention", &[(DType::F16, vec![Dim::sym("seq"), Dim::new(4), Dim::new(64)]), (DType::F16, vec![Dim::sym("kv"), Dim::new(2), Dim::new(64)]), (DType::F16, vec![Dim::sym("kv"), Dim::new(2), Dim::new(64)])], |t| t[0].attention(&t[1], &t[2], 0.125))),
        ("gemv_q4_k", function("gemv", &[(DType::F32, d(&[1, 256])), (DType::Q4_K, d(&[8, 256]))], |t| t[0].matmul_t(&t[1]))),
        ("gemv_q6_k", function("gemv", &[(DType::F32, d(&[1, 256])), (DType::Q6_K, d(&[8, 256]))], |t| t[0].matmul_t(&t[1]))),
        ("q8_acts_q4_1", function("gemv", &[(DType::F32, d(&[2, 64])), (DType::Q4_1, d(&[8, 64]))], |t| t[0].quantize(DType::Q8_1).matmul_t(&t[1]))),
        ("gelu", function("gelu", &[(DType::F32, seq())], |t| t[0].gelu())),
        ("q8_acts_q4_0_words", function("gemv", &[(DType::F32, d(&[3, 576])), (DType::Q4_0, d(&[5, 576]))], |t| t[0].quantize(DType::Q8_0).matmul_t(&t[1]))),
    ]
}

fn which(tool: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(tool)).find(|f| f.is_file()))
}

/// Lanes walking a Q4_0 row split into nibbles and scales (8 elements a
/// word) load each word once for the 8 lanes that share it, and the block's
/// scale once: a 4096-long row at 8, 16 and 32 lanes.
#[test]
fn lanes_share_the_words_of_split_q4_0_rows() {
    let gemv = function("gemv", &[(DType::F32, vec![Dim::new(1), Dim::new(4096)]), (DType::Q4_0, vec![Dim::sym("n"), Dim::new(4096)])], |t| t[0].matmul_t(&t[1]));
    for lanes in [8, 16, 32] {
        let wgsl = kernels_with_lanes(&gemv, &GpuTarget { range_words: 0, ..TARGETS[2] }, Some(lanes))[0].wgsl().unwrap();
        let loads = wgsl.matches("s1_[").count();
        assert_eq!(loads, lanes as usize / 8 + 1, "{lanes} lanes: {loads} weight loads\n{wgsl}");
    }
}

/// A matmul over rows on a target with matrix units is the
/// cooperative-matrix kernel (naga validates it; it is written as WGSL
/// and SPIR-V: Vulkan lists the 16x16 tiles it uses, Metal's simdgroup
/// matrices are 8x8), for f16 and quantized weights and any number of
/// weight rows; one row (decode), a K that is not a multiple of 32, and a
/// target without them keep the generic kernels. Each invocation's 16
/// weights of a step are one half block: Q4_0's (split rows) read as two
/// words and one scale, not a word per weight.
#[test]
fn matmuls_over_rows_take_the_matrix_units_where_the_target_has_them() {
    use kiln_codegen::gpu::MATRIX_WORKGROUP_BYTES;
    let matrix = GpuTarget { range_words: 0, ..TARGETS[2] };
    let matmul = |w: DType, rows: Dim, n: i64, k: i64| function("prefill", &[(DType::F32, vec![rows, Dim::new(k)]), (w, vec![Dim::new(n), Dim::new(k)])], |t| t[0].matmul_t(&t[1]));
    for w in [DType::F16, DType::Q4_0, DType::Q4_1, DType::Q8_0] {
        for n in [96, 80] {
            let k = &kernels(&matmul(w, Dim::sym("seq"), n, 64), &matrix)[0];
            let wgsl = k.wgsl().unwrap();
            assert!(wgsl.contains("coopMultiplyAdd") && k.workgroup_size == [128, 1, 1], "{w}:\n{wgsl}");
            assert!(k.workgroup_bytes() <= MATRIX_WORKGROUP_BYTES, "{w}: {} bytes of workgroup memory", k.workgroup_bytes());
            assert!(k.bounds_proof.is_ok());
            // (Debian 12's spirv-val predates SPV_KHR_cooperative_matrix)
            k.spirv().unwrap();
            if w == DType::Q4_0 {
                // in the step loop: 16 activations, 2 nibble words, one scale word
                let step = &wgsl[wgsl.find("loop {").unwrap()..];
                assert_eq!(step.matches("s1_[").count(), 3, "{wgsl}");
                assert_eq!(step.matches("s0_[").count(), 16, "{wgsl}");
            }
        }
        // (quantized weights have whole blocks: K of 48 is f16's alone)
        let short_k = (w == DType::F16).then_some((Dim::sym("seq"), 48, matrix));
        for (rows, k, target) in [(Dim::new(1), 64, matrix), (Dim::sym("seq"), 64, GpuTarget { matrix_units: false, ..matrix })].into_iter().chain(short_k) {
            let wgsl = kernels(&matmul(w, rows.clone(), 96, k), &target)[0].wgsl().unwrap();
            assert!(!wgsl.contains("coop"), "{w}, {rows} rows, K {k}, matrix units {}", target.matrix_units);
        }
    }
    // llama.cpp's arithmetic: a prefill's Q8_0 activations too
    for w in [DType::Q4_0, DType::Q8_0] {
        let f = function("prefill", &[(DType::F32, vec![Dim::sym("seq"), Dim::new(64)]), (w, vec![Dim::new(96), Dim::new(64)])], |t| t[0].quantize(DType::Q8_0).matmul_t(&t[1]));
        let k = &kernels(&f, &matrix)[1];
        assert!(k.wgsl().unwrap().contains("coopMultiplyAdd"), "q8_0 x {w}");
        k.spirv().unwrap();
    }
}

/// The kernels of an attention (its queries' rounding to f16 as its
/// prologue; plain and paged; f16 and f32; one kernel for a prompt, three
/// splitting the keys for a few queries): naga validates each on every
/// target, spirv-val its SPIR-V where installed, and the portable target's
/// WGSL of the causal f16 one with a prologue is a reviewed snapshot.
#[test]
fn attention_runs_as_one_kernel_on_every_target() {
    use kiln_codegen::gpu::{lower_attention, runs_on_matrix_units, AttentionPart, FusedAttention, MATRIX_WORKGROUP_BYTES};
    use kiln_dsl::ops::{AttentionKernel, AttentionPlan, Fused, OpDef, TensorType};
    use kiln_dsl::Builtin;
    use std::sync::Arc;
    let validator = which("spirv-val");
    let ty = |dtype: DType, shape: &[Dim]| TensorType::new(dtype, shape.to_vec());
    let (seq, kv) = (Dim::sym("seq"), Dim::sym("kv"));
    let head = |n: i64| [Dim::new(n), Dim::new(16)];
    let plain = |dtype: DType, causal: bool| {
        let ins = vec![ty(dtype, &[&[seq.clone()][..], &head(4)].concat()), ty(dtype, &[&[kv.clone()][..], &head(2)].concat()), ty(dtype, &[&[kv.clone()][..], &head(2)].concat())];
        let op: Arc<dyn OpDef> = Arc::new(AttentionKernel { attention: Builtin::Attention { scale: 0.125, causal } });
        (op, ins)
    };
    // f32 queries rounded to f16 in the kernel
    let (attention, mut ins) = plain(DType::F16, true);
    let prologue: Arc<dyn OpDef> = Arc::new(Fused::compose(&attention, 3, 0, &(Arc::new(Builtin::Cast(DType::F16)) as Arc<dyn OpDef>), 1));
    ins[0].dtype = DType::F32;
    // one query (decode), its keys split over workgroups
    let mut decode_ins = ins.clone();
    decode_ins[0].shape[0] = Dim::new(1);
    let decode_prologue = prologue.clone();
    let paged = Builtin::PagedAttention { scale: 0.125, page: 16 };
    let b = Dim::new(3);
    let paged_ins = vec![
        ty(DType::F16, &[&[b.clone()][..], &head(4)].concat()),
        ty(DType::F16, &[&[b.clone()][..], &head(2)].concat()),
        ty(DType::F16, &[&[b.clone()][..], &head(2)].concat()),
        ty(DType::F16, &[&[Dim::sym("rows")][..], &head(2)].concat()),
        ty(DType::F16, &[&[Dim::sym("rows")][..], &head(2)].concat()),
        ty(DType::I32, &[b.clone(), Dim::sym("pages")]),
        ty(DType::I32, &[b]),
    ];
    let cases: Vec<(&str, Arc<dyn OpDef>, Vec<TensorType>)> = vec![
        ("attention_f16_queries", prologue, ins),
        ("attention_f32_unmasked", plain(DType::F32, false).0, plain(DType::F32, false).1),
        ("paged_attention_f16", Arc::new(AttentionKernel { attention: paged }), paged_ins),
        ("decode_attention_f16_queries", decode_prologue, decode_ins),
    ];
    let dir = std::env::temp_dir().join(format!("kiln-attention-spirv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, op, ins) in cases {
        let out = op.infer(&ins).unwrap();
        let stages = op.compute(&ins, &out);
        let plan = AttentionPlan::of(op.as_ref(), &stages, ins.len()).unwrap_or_else(|| panic!("{name}: no attention plan"));
        assert_eq!(plan.prologue.is_some(), name.ends_with("attention_f16_queries"));
        let a = FusedAttention { name: name.into(), plan, sources: ins.iter().map(|t| (t.dtype, t.shape.clone())).collect(), output: out.shape.clone(), bounds_proof: Ok(()), split_keys: true };
        // a constant number of queries splits the keys; every kernel of
        // either way is checked
        let split = !name.starts_with("attention_f");
        assert_eq!(a.parts().len(), if split { 3 } else { 1 }, "{name}");
        let parts: Vec<AttentionPart> = [AttentionPart::Whole].into_iter().chain(a.parts()).filter(|&p| p != AttentionPart::Whole || !split || name == "paged_attention_f16").collect();
        for (part, target) in parts.iter().flat_map(|&p| TARGETS.map(|t| (p, t))) {
            let k = lower_attention(&a, part, &target).unwrap_or_else(|e| panic!("{name} {part:?}: {e}"));
            // a prompt's attention (symbolic queries, keys and values the
            // same for every query) on a target with matrix units: four
            // subgroups per 64 queries, tile products
            let on_matrix_units = target.matrix_units && part == AttentionPart::Whole && !split;
            assert_eq!(runs_on_matrix_units(&a, &target), on_matrix_units, "{name} {part:?} {target:?}");
            assert_eq!(k.workgroup_size, if on_matrix_units { [128, 1, 1] } else { [256, 1, 1] }, "{name} {part:?} {target:?}");
            assert_eq!(k.wgsl().unwrap().contains("coopMultiplyAdd"), on_matrix_units, "{name} {part:?} {target:?}");
            assert!(k.workgroup_bytes() <= MATRIX_WORKGROUP_BYTES || !on_matrix_units, "{name}: {} bytes of workgroup memory", k.workgroup_bytes());
            if target == TARGETS[0] && part == AttentionPart::Whole && name == "attention_f16_queries" {
                snapshot("attention_f16_queries.wgsl", &k.wgsl().unwrap());
            }
            let words = k.spirv().unwrap();
            // (Debian 12's spirv-val predates SPV_KHR_cooperative_matrix)
            if let Some(val) = validator.as_ref().filter(|_| !on_matrix_units) {
                let path = dir.join(format!("{name}_{part:?}_{}.spv", target.range_words).replace([' ', '{', '}', ':'], ""));
                std::fs::write(&path, words.iter().flat_map(|w| w.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
                let out = std::process::Command::new(val).args(["--target-env", "vulkan1.1"]).arg(&path).output().unwrap();
                assert!(out.status.success(), "{name}: spirv-val rejects the module:\n{}", String::from_utf8_lossy(&out.stderr));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    // the widest head the matrix units take declares what the runtime
    // requires of a device for them, more than any other matrix kernel
    let wide = |n: i64| [Dim::new(n), Dim::new(128)];
    let ins = vec![ty(DType::F16, &[&[seq.clone()][..], &wide(4)].concat()), ty(DType::F16, &[&[kv.clone()][..], &wide(2)].concat()), ty(DType::F16, &[&[kv.clone()][..], &wide(2)].concat())];
    let op: Arc<dyn OpDef> = Arc::new(AttentionKernel { attention: Builtin::Attention { scale: 0.125, causal: true } });
    let out = op.infer(&ins).unwrap();
    let plan = AttentionPlan::of(op.as_ref(), &op.compute(&ins, &out), ins.len()).unwrap();
    let a = FusedAttention { name: "wide".into(), plan, sources: ins.iter().map(|t| (t.dtype, t.shape.clone())).collect(), output: out.shape.clone(), bounds_proof: Ok(()), split_keys: true };
    assert!(runs_on_matrix_units(&a, &TARGETS[3]));
    assert_eq!(lower_attention(&a, AttentionPart::Whole, &TARGETS[3]).unwrap().workgroup_bytes(), MATRIX_WORKGROUP_BYTES);
}

/// A GEMV of Q8_0 activations and Q4_0 (or Q8_0) weights on a target with
/// integer dot products is one kernel of `dot4I8Packed`s, Q4_0 weights read
/// as 16-byte vectors where rows are whole vectors (K a multiple of 256),
/// else as words; elsewhere the generic kernel.
#[test]
fn integer_dot_gemvs_multiply_packed_bytes() {
    let gemv = |m: i64, k: i64| function("gemv", &[(DType::F32, vec![Dim::new(m), Dim::new(k)]), (DType::Q4_0, vec![Dim::new(8), Dim::new(k)])], |t| t[0].quantize(DType::Q8_0).matmul_t(&t[1]));
    for (m, k, views) in [(1, 256, &[1][..]), (3, 576, &[]), (4, 1024, &[1])] {
        let ks = kernels(&gemv(m, k), &TARGETS[3]);
        let wgsl = ks[1].wgsl().unwrap();
        assert!(wgsl.contains("dot4I8Packed"), "{m}x{k}: {wgsl}");
        assert_eq!(ks[1].vector_views, views, "{m}x{k}");
        ks[1].msl().unwrap();
        for target in &TARGETS[..3] {
            assert!(!kernels(&gemv(m, k), target).iter().any(|k| k.wgsl().unwrap().contains("dot4I8Packed")), "{target:?}");
        }
    }
    // five rows of activations, or K not whole pairs of blocks: generic
    for (m, k) in [(5, 256), (1, 96)] {
        assert!(!kernels(&gemv(m, k), &TARGETS[3])[1].wgsl().unwrap().contains("dot4I8Packed"), "{m}x{k}");
    }
    // Q8_0 weights: their bytes as they are, on any target with subgroups
    let q8 = function("gemv", &[(DType::F32, vec![Dim::new(2), Dim::new(576)]), (DType::Q8_0, vec![Dim::new(8), Dim::new(576)])], |t| t[0].quantize(DType::Q8_0).matmul_t(&t[1]));
    let k = &kernels(&q8, &GpuTarget { split_q4_0: false, ..TARGETS[3] })[1];
    assert!(k.wgsl().unwrap().contains("dot4I8Packed") && k.vector_views.is_empty());
    k.msl().unwrap();
    snapshot("gemv_q8_0_q4_0_int_dot.wgsl", &kernels(&gemv(1, 256), &TARGETS[3])[1].wgsl().unwrap());
}

/// A norm's mean of squares and the quantization of the normed rows that
/// reads it ([`kiln_dsl::ops::RowReduced`]) are one kernel on every
/// target, each workgroup reducing its own row first; rows that are not
/// whole spans of 256 values are refused. Kept as a snapshot (Q8_0, the
/// portable target).
#[test]
fn a_row_reduction_runs_inside_the_kernel_that_reads_it_on_every_target() {
    use kiln_codegen::gpu::lower_row_reduced;
    use kiln_dsl::ops::{Builtin, OpDef, RowReduced, TensorType};
    use kiln_dsl::KernelClass;
    let validator = which("spirv-val");
    let dir = std::env::temp_dir().join(format!("kiln-row-reduced-spirv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let stages = |rows: Dim, k: i64, to: DType| {
        let ins = [TensorType::new(DType::F32, vec![rows, Dim::new(k)]), TensorType::new(DType::F32, vec![Dim::new(k)])];
        let norm = Builtin::RmsNorm { eps: 1e-5 };
        let mut stages = norm.compute(&ins, &norm.infer(&ins).unwrap());
        if to != DType::F32 {
            let scaled = stages.pop().unwrap();
            stages.push(kiln_dsl::Stage { name: "quantize".into(), dtype: to, class: KernelClass::Quantize, ..scaled });
        }
        let sources: Vec<(DType, Vec<Dim>)> = ins.iter().map(|t| (t.dtype, t.shape.clone())).collect();
        (stages, sources)
    };
    let cases = [(DType::Q8_0, Dim::sym("seq"), 256, 64), (DType::Q8_1, Dim::new(3), 512, 64), (DType::Q8_0, Dim::new(1), 4096, 64), (DType::F32, Dim::sym("seq"), 576, 64), (DType::F32, Dim::new(2), 4096, 256)];
    for (to, rows, k, lanes) in cases {
        let (stages, mut sources) = stages(rows, k, to);
        let plan = RowReduced::of(&stages, 2).expect("a row-reduced stage");
        assert_eq!(plan.quantizes(), to != DType::F32);
        let reduction = LoopNest::from_stage(&plan.reduction, &sources).unwrap();
        sources.push((DType::F32, plan.reduction.shape.clone()));
        let stage = LoopNest::from_stage(&plan.stage, &sources).unwrap();
        let (stage, _) = gpu_schedule(stage.clone(), &GpuKnobs::default_for(&stage, AdapterKind::Gpu)).unwrap();
        for target in &TARGETS {
            let kernel = lower_row_reduced(&stage, &reduction, 2, target).unwrap_or_else(|e| panic!("{to} {k}: {e}"));
            // x and the norm's weights bound; the mean computed
            assert_eq!((kernel.sources, kernel.workgroup_size), (2, [lanes, 1, 1]), "{to} {k}");
            assert!(kernel.bounds_proof.is_ok(), "{to} {k}: {:?}", kernel.bounds_proof);
            let wgsl = kernel.wgsl().unwrap();
            kernel.msl().unwrap();
            if (k, *target) == (256, TARGETS[0]) {
                snapshot("quantize_q8_0_row_reduced.wgsl", &wgsl);
            }
            if (k, *target) == (576, TARGETS[0]) {
                snapshot("rms_norm_f32_row_reduced.wgsl", &wgsl);
            }
            let words = kernel.spirv().unwrap();
            if let Some(val) = &validator {
                let path = dir.join(format!("row_reduced_{to}_{k}_{}_{}.spv", target.range_words, target.subgroups));
                std::fs::write(&path, words.iter().flat_map(|w| w.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
                let out = std::process::Command::new(val).args(["--target-env", "vulkan1.1"]).arg(&path).output().unwrap();
                assert!(out.status.success(), "{to} {k}: spirv-val rejects the module:\n{}", String::from_utf8_lossy(&out.stderr));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    // quantized rows of 576 values: a workgroup's 8 blocks would cross rows
    let (stages, _) = stages(Dim::new(2), 576, DType::Q8_0);
    assert!(RowReduced::of(&stages, 2).is_none());
}
