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
//! f16.

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
        for (dt, knob) in [DType::F32, DType::F16, DType::Q8_0, DType::Q4_0, DType::Q4_1].into_iter().flat_map(|d| knobs.iter().map(move |k| (d, *k))) {
            let f = FunctionBuilder::new("gemv");
            // KILN_GEMV_X=f16: activations in f16 (half the bytes each row re-reads)
            let x_dtype = if std::env::var("KILN_GEMV_X").as_deref() == Ok("f16") { DType::F16 } else { DType::F32 };
            let x = f.input("x", x_dtype, &[Dim::from(1), Dim::from(k)]);
            let w = f.input("w", dt, &[Dim::from(n), Dim::from(k)]);
            // the same GEMV `back_to_back` times in one submission: what a
            // model's step sees, against one kernel after an idle gap
            let ys: Vec<_> = (0..back_to_back).map(|_| x.matmul_t(&w)).collect();
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
                times.extend(t);
                out = outs.into_iter().next();
            }
            times.sort();
            let t = times[times.len() / 2].as_secs_f64();
            // checked against the product in f64 of the dequantized weights
            let got = out.ok_or("no output")?.to_host()?.to_f64();
            let (xv, wv) = (xs.to_host()?.to_f64(), wt.to_f64());
            let want: Vec<f64> = wv.chunks(k).map(|row| row.iter().zip(&xv).map(|(a, b)| a * b).sum()).collect();
            let err = kiln_dsl::rel_l2_error(&got, &want);
            let knob = knob.map_or("default".to_string(), |k| format!("{}x{}x{}", k.reduce_threads, k.outputs_per_group, k.vector_width));
            println!("{k:>6} {n:>6} {:>6} {knob:>8} {:>10.1} {:>9.1}  rel. error {err:.1e}{}", dt.name(), t * 1e6, bytes / t / 1e9, if err.is_nan() || err > 1e-4 { " WRONG" } else { "" });
        }
    }
    Ok(())
}
