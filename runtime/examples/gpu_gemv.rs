//! GEMV kernel times on a GPU: `x[1, K] · w[N, K]ᵀ` for each weight type,
//! timed by timestamp queries (median of repeats), with the weight bytes
//! read per second beside them; first, the bandwidth of kiln's elementwise
//! copy of 1 GiB (read and written; less where the binding limit is lower),
//! of a buffer-to-buffer copy, and of a hand-written vec4 copy probe: the
//! memory limit those rates meet. `cargo run --release -p kiln-runtime
//! --example gpu_gemv -- [GPU_INDEX] [K N ...]`; `-- copy` prints only
//! the buffer-copy bandwidth in GB/s. `KILN_GEMV_BACK_TO_BACK=N` runs each
//! GEMV N times in one submission and reports the median kernel (default 1:
//! one kernel per submission, after the host waited for the last). Each
//! result is checked against the product in f64 (relative L2 error beside
//! the time, "WRONG" past 1e-4). `KILN_GEMV_X=f16` makes the activations
//! f16. `KILN_GEMV_WEIGHTS=q4_0,q8_0` keeps only those weight types.
//! `KILN_GEMV_WGSL=DIR` also times every hand-written Q4_0 GEMV
//! shader in DIR (`*.wgsl`, see [`probe_q4_0_shaders`]) on the same data.

use kiln_dsl::{Bindings, DType, Dim, FunctionBuilder, HostTensor};
use kiln_runtime::{CompileOptions, GpuDevice, GpuExecutable, Value};
use kiln_schedule::{gpu_schedule, GpuKnobs};
use std::sync::Arc;
use rand::SeedableRng;
use std::collections::HashMap;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().nth(1).as_deref() == Some("copy") {
        // just the probe's copy bandwidth in GB/s, for scripts
        println!("{:.0}", GpuDevice::open(0)?.probe_bandwidth(1 << 30)?);
        return Ok(());
    }
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse()).collect::<Result<_, _>>()?;
    let gpu = GpuDevice::open(args.first().copied().unwrap_or(0))?;
    let shapes: Vec<(usize, usize)> = if args.len() > 2 { args[1..].chunks(2).map(|c| (c[0], c[1])).collect() } else { vec![(576, 1536), (4096, 4096), (4096, 11008)] };
    println!("{} ({:?}), {:?}", gpu.info().name, gpu.info().backend, gpu.target());
    let knobs: Vec<Option<GpuKnobs>> = match std::env::var("KILN_GEMV_KNOBS") {
        // e.g. "64x1,16x4,1x64,32x2x4": invocations per output x outputs
        // per workgroup [x vector width]
        Ok(list) => list
            .split(',')
            .map(|p| {
                let n: Vec<i64> = p.split('x').map(|v| v.parse().expect("TxR or TxRxW")).collect();
                Some(GpuKnobs { reduce_threads: n[0], outputs_per_group: n[1], vector_width: n.get(2).copied().unwrap_or(1), tile: 0 })
            })
            .collect(),
        Err(_) => vec![None],
    };
    let back_to_back: usize = std::env::var("KILN_GEMV_BACK_TO_BACK").ok().and_then(|v| v.parse().ok()).unwrap_or(1).max(1);
    println!("{:>6} {:>6} {:>6} {:>8} {:>10} {:>9}", "K", "N", "dtype", "knobs", "us", "GB/s");
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    // KILN_GEMV_NO_COPIES=1: the GEMVs first, in a process that has made and
    // freed no 1 GiB buffers
    if std::env::var_os("KILN_GEMV_NO_COPIES").is_none() {
        println!("buffer copy (1 GiB, best of 10 batches of 20, host clock): {:.1} GB/s read + written", gpu.copy_bandwidth(1 << 30, 20)?);
        println!("vec4 copy probe (hand-written WGSL, 1 GiB, same timing): {:.1} GB/s read + written", gpu.probe_bandwidth(1 << 30)?);
        {
            let n = (1usize << 28).min(gpu.limits().max_storage_buffer_binding_size as usize / 4);
            let f = FunctionBuilder::new("copy");
            let x = f.input("x", DType::F32, &[Dim::from(n)]);
            let func = f.finish(&[&x.mul_scalar(1.0)])?;
            let exe = GpuExecutable::compile(&func, &gpu, &CompileOptions::default())?;
            let xs = gpu.upload("x", &HostTensor::from_f32(DType::F32, &[n], &vec![1.0; n]))?;
            let mut times = Vec::new();
            for _ in 0..5 {
                let (_, t) = exe.run_profiled(&[Value::Gpu(xs.clone())], &HashMap::new(), &Bindings::new())?;
                times.push(t[0]);
            }
            times.sort();
            let t = times[times.len() / 2].as_secs_f64();
            println!("copy of {} MiB (f32 x * 1.0): {:.1} us, {:.1} GB/s read + written", n * 4 >> 20, t * 1e6, 2.0 * (n * 4) as f64 / t / 1e9);
        }
    }
    for (k, n) in shapes {
        // KILN_GEMV_ACTS=q8_0|q8_1: activations quantized to 8-bit blocks
        // first (llama.cpp's arithmetic), Q4_0 and Q8_0 weights; the time is
        // the GEMV kernel's
        let acts = match std::env::var("KILN_GEMV_ACTS").as_deref() {
            Ok("q8_0") => Some(DType::Q8_0),
            Ok("q8_1") => Some(DType::Q8_1),
            _ => None,
        };
        let mut dtypes = if acts.is_some() { vec![DType::Q8_0, DType::Q4_0] } else { vec![DType::F32, DType::F16, DType::Q8_0, DType::Q4_0, DType::Q4_1] };
        // KILN_GEMV_WEIGHTS=q4_0,...: only these weight types
        if let Ok(list) = std::env::var("KILN_GEMV_WEIGHTS") {
            dtypes.retain(|d| list.split(',').any(|name| DType::parse(name.trim()) == Some(*d)));
        }
        for (dt, knob) in dtypes.into_iter().flat_map(|d| knobs.iter().map(move |k| (d, *k))) {
            let f = FunctionBuilder::new("gemv");
            // KILN_GEMV_X=f16: activations in f16 (half the bytes each row re-reads)
            let x_dtype = if std::env::var("KILN_GEMV_X").as_deref() == Ok("f16") { DType::F16 } else { DType::F32 };
            let x = f.input("x", x_dtype, &[Dim::from(1), Dim::from(k)]);
            let w = f.input("w", dt, &[Dim::from(n), Dim::from(k)]);
            // the same GEMV `back_to_back` times in one submission: what a
            // model's step sees, against one kernel after an idle gap
            let xa = match acts {
                Some(a) => x.quantize(a),
                None => x.clone(),
            };
            let ys: Vec<_> = (0..back_to_back).map(|_| xa.matmul_t(&w)).collect();
            let func = f.finish(&ys.iter().collect::<Vec<_>>())?;
            let mut options = CompileOptions::default();
            if let Some(kn) = knob {
                options.scheduler = Some(Arc::new(move |nest| Ok(gpu_schedule(nest, &kn)?.0)));
            }
            let exe = GpuExecutable::compile(&func, &gpu, &options)?;
            let xs = gpu.upload("x", &HostTensor::random(x_dtype, &[1, k], 1, &mut rng))?;
            let wt = if std::env::var_os("KILN_GEMV_NARROW_WEIGHTS").is_some() {
                // as the random-weight models have them: |w| in [2^-7, 2^-6)
                use rand::Rng;
                let v: Vec<f32> = (0..n * k).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 } * (1.0 + rng.random::<f32>()) / 128.0).collect();
                HostTensor::from_f32(dt, &[n, k], &v)
            } else {
                HostTensor::random(dt, &[n, k], 1, &mut rng)
            };
            let bytes = wt.data.len() as f64;
            let ws = gpu.upload("w", &wt)?;
            // the SM clock up right before timing (making the weights left the
            // GPU idle; an idle H100 ran quantized GEMVs 5x slower):
            // KILN_GEMV_WARM_MS, default 300, 0 for none
            let warm_ms = std::env::var("KILN_GEMV_WARM_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
            gpu.warm_up(std::time::Duration::from_millis(warm_ms))?;
            let mut times = Vec::new();
            let mut out = None;
            for _ in 0..7 {
                let (outs, t) = exe.run_profiled(&[Value::Gpu(xs.clone()), Value::Gpu(ws.clone())], &HashMap::new(), &Bindings::new())?;
                // the GEMVs' times (after the quantize kernel, if any)
                times.extend(t.into_iter().skip(acts.is_some() as usize));
                out = outs.into_iter().next();
            }
            times.sort();
            let t = times[times.len() / 2].as_secs_f64();
            // checked against the product in f64 of the dequantized weights
            let got = out.ok_or("no output")?.to_host()?.to_f64();
            let (mut xv, wv) = (xs.to_host()?.to_f64(), wt.to_f64());
            if let Some(a) = acts {
                let x32: Vec<f32> = xv.iter().map(|&v| v as f32).collect();
                xv = HostTensor::from_bytes(a, &[1, k], kiln_dsl::quant::quantize_activations(a, &x32).into())?.to_f64();
            }
            let want: Vec<f64> = wv.chunks(k).map(|row| row.iter().zip(&xv).map(|(a, b)| a * b).sum()).collect();
            let err = kiln_dsl::rel_l2_error(&got, &want);
            let knob = knob.map_or("default".to_string(), |k| format!("{}x{}x{}", k.reduce_threads, k.outputs_per_group, k.vector_width));
            println!("{k:>6} {n:>6} {:>6} {knob:>8} {:>10.1} {:>9.1}  rel. error {err:.1e}{}", dt.name(), t * 1e6, bytes / t / 1e9, if err.is_nan() || err > 1e-4 { " WRONG" } else { "" });
            if let (Ok(dir), DType::Q4_0, true) = (std::env::var("KILN_GEMV_WGSL"), dt, knob == "default" || knobs.len() == 1) {
                probe_q4_0_shaders(&gpu, std::path::Path::new(&dir), &xs, &ws, &xv, &want, bytes)?;
            }
        }
    }
    Ok(())
}

/// Hand-written WGSL Q4_0 GEMVs (`DIR/*.wgsl`, in name order) on the same
/// split-row weights: measuring probes of what the device reaches by hand.
/// Each shader gets `{K}` replaced by the row length and binds, where it
/// declares them: 0 the weights' words, 1 the f32 activations, 2 the
/// activations quantized to int8 per block of 32 (packed four to a word,
/// each word of weights' nibbles `8j..8j+7` matched by two words: the even
/// elements, then the odd), 3 per block `vec2(d, d * sum of q)`, 4 the f32
/// output, 5 the weights split keeping GGUF's nibble order, 6 the
/// activations as Q8_1 blocks. A line `// rows_per_workgroup: R` sets the workgroups (N / R).
/// Results are checked against the f64 product (of the int8 activations
/// for shaders that bind 2).
fn probe_q4_0_shaders(gpu: &GpuDevice, dir: &std::path::Path, xs: &kiln_runtime::GpuTensor, ws: &kiln_runtime::GpuTensor, xv: &[f64], want: &[f64], bytes: f64) -> Result<(), Box<dyn std::error::Error>> {
    let (k, n) = (xv.len(), want.len());
    // int8 activations per block of 32: q = round(x / d), d = max |x| / 127
    let mut packed = vec![0u8; k];
    let mut scales = Vec::new();
    let mut xq = vec![0f64; k];
    let mut q8_1 = Vec::new();
    for (b, block) in xv.chunks(32).enumerate() {
        let d = half::f16::from_f64(block.iter().fold(0f64, |m, v| m.max(v.abs())) / 127.0).to_f64();
        let q: Vec<i8> = block.iter().map(|v| if d == 0.0 { 0 } else { (v / d).round() as i8 }).collect();
        for (i, &qi) in q.iter().enumerate() {
            xq[32 * b + i] = qi as f64 * d;
            // element 8j + m: word 2j (even m) or 2j + 1 (odd m), byte m / 2
            let (j, m) = (i / 8, i % 8);
            packed[32 * b + 8 * j + 4 * (m % 2) + m / 2] = qi as u8;
        }
        scales.extend([d as f32, (d * q.iter().map(|&v| v as f64).sum::<f64>()) as f32]);
        q8_1.extend(half::f16::from_f64(d).to_le_bytes());
        q8_1.extend(half::f16::from_f64(d * q.iter().map(|&v| v as f64).sum::<f64>()).to_le_bytes());
        q8_1.extend(q.iter().map(|&v| v as u8));
    }
    // the weights split into nibbles and scales keeping GGUF's nibble order
    // (byte t: elements t and t + 16), and the activations as Q8_1 blocks
    let gguf = ws.to_host()?;
    let (row_bytes, blocks) = (k / 32 * 18, k / 32);
    let mut split_gguf = vec![0u8; gguf.data.len()];
    for (from, to) in gguf.data.chunks(row_bytes).zip(split_gguf.chunks_mut(row_bytes)) {
        for b in 0..blocks {
            to[16 * b..16 * b + 16].copy_from_slice(&from[18 * b + 2..18 * b + 18]);
            to[16 * blocks + 2 * b..16 * blocks + 2 * b + 2].copy_from_slice(&from[18 * b..18 * b + 2]);
        }
    }
    let wg_t = gpu.upload("w split, gguf order", &HostTensor::from_bytes(DType::F32, &[split_gguf.len() / 4], split_gguf.into())?)?;
    let q81_t = gpu.upload("x q8_1", &HostTensor::from_bytes(DType::F32, &[q8_1.len() / 4], q8_1.into())?)?;
    let xq_t = gpu.upload("x int8", &HostTensor::from_bytes(DType::F32, &[k / 4], packed.into())?)?;
    let xd_t = gpu.upload("x scales", &HostTensor::from_f32(DType::F32, &[scales.len()], &scales))?;
    let wq = gguf.to_f64();
    let want_q: Vec<f64> = wq.chunks(k).map(|row| row.iter().zip(&xq).map(|(a, b)| a * b).sum()).collect();
    let mut files: Vec<_> = std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "wgsl")).collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path)?.replace("{K}", &k.to_string());
        let rows: usize = text.lines().find_map(|l| l.strip_prefix("// rows_per_workgroup:")).map_or(Ok(1), |v| v.trim().parse())?;
        let name = path.file_stem().unwrap_or_default().to_string_lossy().to_string();
        // the SM clock up again (making the reference left the GPU idle)
        gpu.warm_up(std::time::Duration::from_millis(300))?;
        let (t, out) = match gpu.probe_shader(&name, &text, &[Some(ws), Some(xs), Some(&xq_t), Some(&xd_t), None, Some(&wg_t), Some(&q81_t)], 4 * n as u64, n.div_ceil(rows) as u32) {
            Ok(r) => r,
            Err(e) => {
                println!("{k:>6} {n:>6} {name}: {e}");
                continue;
            }
        };
        let got: Vec<f64> = out.chunks(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64).collect();
        let reference = if text.contains("@binding(2)") || text.contains("@binding(6)") { &want_q } else { want };
        let err = kiln_dsl::rel_l2_error(&got, reference);
        let t = t.as_secs_f64();
        println!("{k:>6} {n:>6} {:>6} {name:>24} {:>10.1} {:>9.1}  rel. error {err:.1e}{}", "q4_0", t * 1e6, bytes / t / 1e9, if err.is_nan() || err > 1e-4 { " WRONG" } else { "" });
    }
    Ok(())
}
