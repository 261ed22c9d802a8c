//! Shared helpers of the runtime's differential tests.
#![allow(dead_code)]

pub mod cases;

/// One `#[test]` per shared differential case (`cases.rs`), on `$backend`.
#[allow(unused_macros)]
macro_rules! backend_tests {
    ($backend:expr) => {
        #[test]
        fn unary_elementwise_ops() {
            common::cases::unary_elementwise_ops($backend)
        }
        #[test]
        fn binary_elementwise_ops_with_broadcasting() {
            common::cases::binary_elementwise_ops_with_broadcasting($backend)
        }
        #[test]
        fn matmul_plain_batched_and_symbolic() {
            common::cases::matmul_plain_batched_and_symbolic($backend)
        }
        #[test]
        fn matmul_with_quantized_and_f16_weights() {
            common::cases::matmul_with_quantized_and_f16_weights($backend)
        }
        #[test]
        fn normalizations_and_softmax() {
            common::cases::normalizations_and_softmax($backend)
        }
        #[test]
        fn rope_normal_and_neox() {
            common::cases::rope_normal_and_neox($backend)
        }
        #[test]
        fn gather_from_dense_and_quantized_tables() {
            common::cases::gather_from_dense_and_quantized_tables($backend)
        }
        #[test]
        fn layout_ops() {
            common::cases::layout_ops($backend)
        }
        #[test]
        fn attention_causal_over_a_kv_cache_and_unmasked() {
            common::cases::attention_causal_over_a_kv_cache_and_unmasked($backend)
        }
        #[test]
        fn attention_as_one_kernel_with_its_queries_rope() {
            common::cases::attention_as_one_kernel_with_its_queries_rope($backend)
        }
        #[test]
        fn paged_attention_over_pages_of_a_pool() {
            common::cases::paged_attention_over_pages_of_a_pool($backend)
        }
        #[test]
        fn argmax_dequantize_and_cast() {
            common::cases::argmax_dequantize_and_cast($backend)
        }
        #[test]
        fn integer_division_truncates_toward_zero() {
            common::cases::integer_division_truncates_toward_zero($backend)
        }
        #[test]
        fn integer_dot_matmuls_of_8_bit_activations_and_quantized_weights() {
            common::cases::integer_dot_matmuls_of_8_bit_activations_and_quantized_weights($backend)
        }
        #[test]
        fn f16_special_values_convert_exactly() {
            common::cases::f16_special_values_convert_exactly($backend)
        }
        #[test]
        fn f32_to_f16_rounds_to_nearest_even_like_the_half_crate() {
            common::cases::f32_to_f16_rounds_to_nearest_even_like_the_half_crate($backend)
        }
        #[test]
        fn a_modules_projections_merge() {
            common::cases::a_modules_projections_merge($backend)
        }
        #[test]
        fn rewritten_transformer_blocks() {
            common::cases::rewritten_transformer_blocks($backend)
        }
    };
}

use kiln_dsl::{interpret, rel_l2_error, Bindings, DType, Function, HostTensor, Tensor};
use kiln_runtime::{CompileOptions, CpuExecutable, GpuDevice, GpuExecutable, GpuTarget};
use std::sync::OnceLock;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::HashMap;

/// A fresh RNG per test run: the seed is printed so a failure can be replayed
/// with `KILN_TEST_SEED`.
pub fn rng() -> StdRng {
    let seed = std::env::var("KILN_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random::<u64>);
    eprintln!("KILN_TEST_SEED={seed}");
    StdRng::seed_from_u64(seed)
}

/// Random inputs for `func`, with concrete shapes given per input.
pub fn random_inputs(func: &Function, shapes: &[&[usize]], int_bound: i32, rng: &mut StdRng) -> Vec<HostTensor> {
    func.inputs().iter().zip(shapes).map(|((_, _, ty), shape)| HostTensor::random(ty.dtype, shape, int_bound, rng)).collect()
}

/// Which backend a shared case runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The Cranelift CPU backend.
    Cpu,
    /// The first GPU adapter, using everything it can do.
    Gpu,
    /// The first GPU adapter with a discrete GPU's schedules (workgroups
    /// sharing long reductions), combining partials by subgroups where it
    /// has them (lavapipe does). The default schedules for lavapipe reduce
    /// serially, so this is what runs these paths in CI.
    GpuDiscrete,
    /// The first GPU adapter with a discrete GPU's schedules and none of the
    /// optional shader features: f16 converted by integer arithmetic (for
    /// adapters without `unpack2x16float`), partials combined by a barrier
    /// tree in workgroup memory.
    GpuPortable,
    /// The first GPU adapter opened with 4 KiB storage bindings, so most
    /// weights are bound as several ranges.
    GpuRanges,
    /// The first GPU adapter with a discrete GPU's schedules taking 8
    /// consecutive elements per invocation and step in every kernel
    /// (vectorized loops: f32 and native f16 read as two 4-vectors).
    GpuVectors,
    /// [`Backend::GpuVectors`] with 32 elements per step: a whole quantized
    /// block per invocation and step, its words shared by the lanes.
    GpuWide,
    /// [`Backend::GpuVectors`] with 4 elements per step and no optional
    /// shader feature (f16 read as 2-vectors of u32 words).
    GpuVectorsPortable,
    /// The first GPU adapter with a discrete GPU's schedules, matmuls over
    /// rows tiled 16 x 16 with their plain operands staged in workgroup
    /// memory ([`kiln_schedule::GpuKnobs::tiled`]), matrix units off.
    GpuTiled,
    /// [`Backend::GpuDiscrete`] in checked mode: every shader keeps wgpu's
    /// run-time checks, also those proven in bounds (which the other GPU
    /// backends run unchecked).
    GpuChecked,
}

/// The first GPU adapter, opened once per test process. No adapter is a
/// failure, never a skip.
pub fn gpu() -> &'static GpuDevice {
    static GPU: OnceLock<GpuDevice> = OnceLock::new();
    GPU.get_or_init(|| {
        let g = GpuDevice::open(0).unwrap_or_else(|e| panic!("{e}"));
        eprintln!("GPU: {} ({:?}), {:?}", g.info().name, g.info().backend, g.target());
        g
    })
}

pub fn device_for(b: Backend) -> GpuDevice {
    match b {
        // (attention kernels are a code generator choice, not a shader feature)
        Backend::GpuPortable | Backend::GpuVectorsPortable => gpu().with_target(GpuTarget { attention_kernels: true, split_attention: true, row_reductions: true, ..GpuTarget::default() }),
        Backend::GpuChecked => gpu().with_checked_shaders(),
        // the FMA path's tiles, also where the GPU has matrix units
        Backend::GpuTiled => gpu().with_target(GpuTarget { matrix_units: false, ..gpu().target() }),
        Backend::GpuRanges => {
            static SMALL: OnceLock<GpuDevice> = OnceLock::new();
            SMALL.get_or_init(|| GpuDevice::open_with(0, |l| l.max_storage_buffer_binding_size = 4096).unwrap_or_else(|e| panic!("{e}"))).clone()
        }
        _ => gpu().clone(),
    }
}

/// Run `func` on backend `b` (its default schedules, or a discrete GPU's).
pub fn run_on(b: Backend, func: &Function, inputs: &[HostTensor], bindings: &Bindings) -> Vec<HostTensor> {
    run_on_with(b, func, inputs, bindings, CompileOptions::default())
}

/// [`run_on`] with compile `options` (a custom scheduler is replaced on the
/// backends that set their own).
pub fn run_on_with(b: Backend, func: &Function, inputs: &[HostTensor], bindings: &Bindings, options: CompileOptions) -> Vec<HostTensor> {
    match b {
        Backend::Cpu => {
            let exe = CpuExecutable::compile(func, &options).unwrap_or_else(|e| panic!("compile failed: {e}\n{func}"));
            exe.run(inputs, &HashMap::new(), bindings).unwrap_or_else(|e| panic!("run failed: {e}\n{func}"))
        }
        Backend::Gpu | Backend::GpuDiscrete | Backend::GpuPortable | Backend::GpuRanges | Backend::GpuVectors | Backend::GpuWide | Backend::GpuVectorsPortable | Backend::GpuTiled | Backend::GpuChecked => {
            let options = scheduled_for(b, options);
            let exe = GpuExecutable::compile(func, &device_for(b), &options).unwrap_or_else(|e| panic!("GPU compile failed: {e}\n{func}"));
            exe.run(inputs, &HashMap::new(), bindings).unwrap_or_else(|e| panic!("GPU run failed: {e}\n{func}"))
        }
    }
}

/// `options` with backend `b`'s scheduler: a discrete GPU's schedules,
/// with its vector width or tiles, on the backends that set their own.
pub fn scheduled_for(b: Backend, mut options: CompileOptions) -> CompileOptions {
    let vector_width = match b {
        Backend::GpuVectors => Some(8),
        Backend::GpuWide => Some(32),
        Backend::GpuVectorsPortable => Some(4),
        _ => None,
    };
    if matches!(b, Backend::GpuDiscrete | Backend::GpuPortable | Backend::GpuVectors | Backend::GpuWide | Backend::GpuVectorsPortable | Backend::GpuTiled | Backend::GpuChecked) {
        let tile = if b == Backend::GpuTiled { 16 } else { 0 };
        options.scheduler = Some(std::sync::Arc::new(move |nest| {
            let default = kiln_schedule::GpuKnobs::tiled(&nest, tile).unwrap_or_else(|| kiln_schedule::GpuKnobs::default_for(&nest, kiln_schedule::AdapterKind::Gpu));
            let knobs = kiln_schedule::GpuKnobs { vector_width: vector_width.unwrap_or(default.vector_width), ..default };
            Ok(kiln_schedule::gpu_schedule(nest, &knobs)?.0)
        }));
    }
    options
}

/// The worst relative L2 error of `got` against the interpreter's `want`
/// (integer outputs must be equal).
fn worst_error(func: &Function, got: &[HostTensor], want: &[kiln_dsl::RefTensor]) -> f64 {
    let mut worst = 0.0f64;
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.shape, w.shape, "output shape of {}", func.name);
        let err = rel_l2_error(&g.to_f64(), &w.data);
        if g.dtype == DType::I32 {
            assert_eq!(g.to_f64(), w.data, "integer output of {} differs", func.name);
        }
        worst = worst.max(err);
    }
    worst
}

fn reference(func: &Function, inputs: &[HostTensor], bindings: &Bindings) -> Vec<kiln_dsl::RefTensor> {
    interpret(func, inputs, &HashMap::new(), bindings).unwrap_or_else(|e| panic!("interpreter failed on {}: {e}\n{func}", func.name))
}

/// Run `func` on the CPU backend (with `options`) and on the reference
/// interpreter, and return the worst relative L2 error over the outputs.
pub fn max_error_with(func: &Function, inputs: &[HostTensor], bindings: &Bindings, options: &CompileOptions) -> f64 {
    let want = reference(func, inputs, bindings);
    let exe = CpuExecutable::compile(func, options).unwrap_or_else(|e| panic!("compile failed: {e}\n{func}"));
    let got = exe.run(inputs, &HashMap::new(), bindings).unwrap_or_else(|e| panic!("run failed: {e}\n{func}"));
    worst_error(func, &got, &want)
}

/// Differential check of backend `b` against the interpreter.
pub fn check_on(b: Backend, func: &Function, inputs: &[HostTensor], bindings: &Bindings, tol: f64) {
    let want = reference(func, inputs, bindings);
    let got = run_on(b, func, inputs, bindings);
    let err = worst_error(func, &got, &want);
    assert!(err <= tol, "{} on {b:?}: relative L2 error {err:e} > {tol:e}\n{func}", func.name);
}

/// Differential check on the CPU backend with the default schedules.
pub fn check(func: &Function, inputs: &[HostTensor], bindings: &Bindings, tol: f64) {
    check_on(Backend::Cpu, func, inputs, bindings, tol)
}

/// A unary op under test.
pub type UnaryOp = fn(&Tensor) -> Tensor;

/// Every unary elementwise op, with inputs shifted or scaled into the range
/// that exercises it (logs of positives, tanh past its knee, ...).
pub const UNARY_OPS: [(&str, UnaryOp); 13] = [
    ("neg", |x| x.neg()),
    ("abs", |x| x.abs()),
    ("exp", |x| x.exp()),
    // inputs in [0.05, 0.55]: away from log's root at 1, where a relative error
    // measures only the rounding of the input
    ("log", |x| x.abs().mul_scalar(0.5).add_scalar(0.05).log()),
    ("sqrt", |x| x.abs().sqrt()),
    ("rsqrt", |x| x.abs().add_scalar(0.1).rsqrt()),
    ("tanh", |x| x.mul_scalar(3.0).tanh()),
    ("erf", |x| x.mul_scalar(2.0).erf()),
    ("sin", |x| x.mul_scalar(4.0).sin()),
    ("cos", |x| x.mul_scalar(4.0).cos()),
    ("silu", |x| x.mul_scalar(4.0).silu()),
    ("gelu", |x| x.mul_scalar(4.0).gelu()),
    ("scalar_ops", |x| x.add_scalar(1.5).sub_scalar(0.25).mul_scalar(-2.0).div_scalar(3.0).maximum_scalar(-0.5).minimum_scalar(0.7)),
];
