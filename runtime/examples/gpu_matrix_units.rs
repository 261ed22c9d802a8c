//! What a GPU's matrix units give through wgpu's experimental cooperative
//! matrices (issue 7), before kiln generates code for them: the adapter's
//! cooperative-matrix configurations, then a hand-written WGSL GEMM
//! `C[M, N] = A[M, K] · W[N, K]ᵀ` (f16 inputs, f32 accumulators, 16 x 16
//! tiles, one subgroup of 32 invocations per 32 x 32 outputs, operands
//! loaded straight from storage buffers) checked against f64 on a small
//! case, and timed beside kiln's own GEMM of the same shape (f32
//! activations times f16 weights on the FMA units). A measuring probe, not
//! a kernel kiln runs.
//!
//! `cargo run --release -p kiln-runtime --example gpu_matrix_units -- [M N K]`
//! (default 512 4096 4096, the 7B shape's pp512 projection); `-- check`
//! only parses and validates the WGSL with naga (any machine).

use kiln_dsl::{Bindings, DType, Dim, FunctionBuilder, HostTensor};
use kiln_runtime::{gpu_adapters, CompileOptions, GpuDevice, GpuExecutable, Value};
use rand::SeedableRng;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The GEMM probe for `N` and `K` (`N` a multiple of 32, `K` of 16; `M`,
/// a multiple of 32, sets the grid).
fn probe(n: usize, k: usize) -> String {
    format!(
        "
enable f16;
enable wgpu_cooperative_matrix;
@group(0) @binding(0) var<storage, read> a: array<f16>;
@group(0) @binding(1) var<storage, read> w: array<f16>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
const N: u32 = {n}u;
const K: u32 = {k}u;
@compute @workgroup_size(32)
fn main(@builtin(workgroup_id) wid: vec3<u32>) {{
    let m0 = wid.y * 32u;
    let n0 = wid.x * 32u;
    var c00 = coop_mat16x16<f32, C>();
    var c01 = coop_mat16x16<f32, C>();
    var c10 = coop_mat16x16<f32, C>();
    var c11 = coop_mat16x16<f32, C>();
    for (var k = 0u; k < K; k += 16u) {{
        let a0 = coopLoadT<coop_mat16x16<f16, A>>(&a[m0 * K + k], K);
        let a1 = coopLoadT<coop_mat16x16<f16, A>>(&a[(m0 + 16u) * K + k], K);
        let b0 = coopLoad<coop_mat16x16<f16, B>>(&w[n0 * K + k], K);
        let b1 = coopLoad<coop_mat16x16<f16, B>>(&w[(n0 + 16u) * K + k], K);
        c00 = coopMultiplyAdd(a0, b0, c00);
        c01 = coopMultiplyAdd(a0, b1, c01);
        c10 = coopMultiplyAdd(a1, b0, c10);
        c11 = coopMultiplyAdd(a1, b1, c11);
    }}
    coopStoreT(c00, &c[m0 * N + n0], N);
    coopStoreT(c01, &c[m0 * N + n0 + 16u], N);
    coopStoreT(c10, &c[(m0 + 16u) * N + n0], N);
    coopStoreT(c11, &c[(m0 + 16u) * N + n0 + 16u], N);
}}
"
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("check") {
        let module = wgpu::naga::front::wgsl::parse_str(&probe(64, 256))?;
        let caps = wgpu::naga::valid::Capabilities::SHADER_FLOAT16 | wgpu::naga::valid::Capabilities::COOPERATIVE_MATRIX;
        wgpu::naga::valid::Validator::new(wgpu::naga::valid::ValidationFlags::all(), caps).validate(&module)?;
        println!("the cooperative-matrix GEMM probe parses and validates");
        return Ok(());
    }
    let dims: Vec<usize> = args.iter().map(|a| a.parse()).collect::<Result<_, _>>()?;
    let (m, n, k) = match dims[..] {
        [m, n, k] => (m, n, k),
        [] => (512, 4096, 4096),
        _ => return Err("expected M N K".into()),
    };
    if m % 32 != 0 || n % 32 != 0 || k % 16 != 0 {
        return Err("M and N must be multiples of 32, K of 16".into());
    }
    let adapter = gpu_adapters().into_iter().next().ok_or("no GPU adapter")?;
    let info = adapter.get_info();
    println!("{} ({:?})", info.name, info.backend);
    for p in adapter.cooperative_matrix_properties() {
        println!("  cooperative matrix {}x{}x{}: {:?} inputs, {:?} accumulators", p.m_size, p.n_size, p.k_size, p.ab_type, p.cr_type);
    }
    let needed = wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX | wgpu::Features::SHADER_F16;
    if !adapter.features().contains(needed) {
        println!("no EXPERIMENTAL_COOPERATIVE_MATRIX with SHADER_F16 on this adapter: nothing to measure");
        return Ok(());
    }
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("matrix units probe"),
        required_features: needed,
        required_limits: adapter.limits(),
        // SAFETY: the probe uses cooperative matrices only as wgpu documents
        // them (subgroup-scope 16x16 tiles of a configuration the adapter
        // lists), on buffers sized for every load and store.
        experimental_features: unsafe { wgpu::ExperimentalFeatures::enabled() },
        ..Default::default()
    }))?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let run = |m: usize, n: usize, k: usize, a: &HostTensor, w: &HostTensor, times: u32| -> Result<(Duration, Vec<f32>), Box<dyn std::error::Error>> {
        use wgpu::util::DeviceExt;
        let storage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC;
        let a_buf = device.create_buffer_init(&wgpu::util::BufferInitDescriptor { label: Some("a"), contents: &a.data, usage: storage });
        let w_buf = device.create_buffer_init(&wgpu::util::BufferInitDescriptor { label: Some("w"), contents: &w.data, usage: storage });
        let c_buf = device.create_buffer(&wgpu::BufferDescriptor { label: Some("c"), size: (4 * m * n) as u64, usage: storage, mapped_at_creation: false });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor { label: Some("coop gemm"), source: wgpu::ShaderSource::Wgsl(probe(n, k).into()) });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor { label: Some("coop gemm"), layout: None, module: &module, entry_point: Some("main"), compilation_options: Default::default(), cache: None });
        let entries: Vec<wgpu::BindGroupEntry> = [&a_buf, &w_buf, &c_buf].iter().enumerate().map(|(i, b)| wgpu::BindGroupEntry { binding: i as u32, resource: b.as_entire_binding() }).collect();
        let group = device.create_bind_group(&wgpu::BindGroupDescriptor { label: None, layout: &pipeline.get_bind_group_layout(0), entries: &entries });
        let mut best = Duration::MAX;
        for _ in 0..5 {
            let started = Instant::now();
            let mut encoder = device.create_command_encoder(&Default::default());
            for _ in 0..times {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                pass.set_pipeline(&pipeline);
                pass.set_bind_group(0, &group, &[]);
                pass.dispatch_workgroups((n / 32) as u32, (m / 32) as u32, 1);
            }
            queue.submit([encoder.finish()]);
            device.poll(wgpu::PollType::wait_indefinitely())?;
            best = best.min(started.elapsed() / times);
        }
        let read = device.create_buffer(&wgpu::BufferDescriptor { label: None, size: (4 * m * n) as u64, usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST, mapped_at_creation: false });
        let mut encoder = device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(&c_buf, 0, &read, 0, (4 * m * n) as u64);
        queue.submit([encoder.finish()]);
        read.slice(..).map_async(wgpu::MapMode::Read, |_| {});
        device.poll(wgpu::PollType::wait_indefinitely())?;
        let c: Vec<f32> = read.slice(..).get_mapped_range()?.chunks(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        Ok((best, c))
    };
    // checked first: a small case against f64
    let (cm, cn, ck) = (64, 64, 256);
    let (a, w) = (HostTensor::random(DType::F16, &[cm, ck], 0, &mut rng), HostTensor::random(DType::F16, &[cn, ck], 0, &mut rng));
    let (_, c) = run(cm, cn, ck, &a, &w, 1)?;
    let (av, wv) = (a.to_f64(), w.to_f64());
    let want: Vec<f64> = (0..cm * cn).map(|i| (0..ck).map(|j| av[i / cn * ck + j] * wv[i % cn * ck + j]).sum()).collect();
    let err = kiln_dsl::rel_l2_error(&c.iter().map(|&v| v as f64).collect::<Vec<_>>(), &want);
    println!("check {cm}x{cn}x{ck}: relative L2 error {err:.1e}{}", if err.is_nan() || err > 1e-3 { " WRONG" } else { "" });
    // timed: the probe, then kiln's GEMM on the FMA units
    let (a, w) = (HostTensor::random(DType::F16, &[m, k], 0, &mut rng), HostTensor::random(DType::F16, &[n, k], 0, &mut rng));
    let (t, _) = run(m, n, k, &a, &w, 10)?;
    let flops = 2.0 * (m * n * k) as f64;
    println!("cooperative matrices, f16 x f16 -> f32, {m}x{n}x{k}: {:.1} us, {:.1} TFLOP/s (host clock, best of 5 batches of 10)", t.as_secs_f64() * 1e6, flops / t.as_secs_f64() / 1e12);
    let gpu = GpuDevice::open(0)?;
    let f = FunctionBuilder::new("gemm");
    let x = f.input("x", DType::F32, &[Dim::from(m), Dim::from(k)]);
    let wt = f.input("w", DType::F16, &[Dim::from(n), Dim::from(k)]);
    let exe = GpuExecutable::compile(&f.finish(&[&x.matmul_t(&wt)])?, &gpu, &CompileOptions::default())?;
    let xs = gpu.upload("x", &HostTensor::random(DType::F32, &[m, k], 0, &mut rng))?;
    let ws = gpu.upload("w", &w)?;
    gpu.warm_up(Duration::from_millis(300))?;
    let mut times = Vec::new();
    for _ in 0..5 {
        let (_, t) = exe.run_profiled(&[Value::Gpu(xs.clone()), Value::Gpu(ws.clone())], &HashMap::new(), &Bindings::new())?;
        times.extend(t);
    }
    times.sort();
    let t = times[times.len() / 2].as_secs_f64();
    println!("kiln's GEMM (FMA units), f32 x f16 -> f32, {m}x{n}x{k}: {:.1} us, {:.1} TFLOP/s (timestamp queries, median of 5)", t * 1e6, flops / t / 1e12);
    Ok(())
}
