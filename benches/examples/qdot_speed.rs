//! Times the integer-dot matmul kernel alone (one thread, called directly on
//! preallocated buffers) at SmolLM2's decode shapes and reports the weight
//! bytes it streams per second:
//! `cargo run --release -p kiln-benches --example qdot_speed`.
use kiln_benches::{function, run_single_thread, single_kernel};
use kiln_dsl::{quant, DType, HostTensor};
use std::time::Instant;

fn main() {
    let mut rng = rand::rng();
    println!("| weights | shape | µs/call | weight GB/s |\n|---|---|---|---|");
    for (dt, n, k) in [(DType::Q4_1, 192, 576), (DType::Q4_1, 1536, 576), (DType::Q4_1, 576, 1536), (DType::Q8_0, 49152, 576), (DType::Q8_0, 4096, 576), (DType::Q4_0, 4096, 4096), (DType::Q4_1, 49152, 576)] {
        // the activation blocks llama.cpp pairs with each weight type
        let acts = if dt == DType::Q4_1 { DType::Q8_1 } else { DType::Q8_0 };
        let func = function(&[("x", acts, &[1, k]), ("w", dt, &[n, k])], |t| t[0].matmul_t(&t[1]));
        let kernel = single_kernel(&func);
        let xs: Vec<f32> = (0..k).map(|i| ((i * 37 % 101) as f32 - 50.0) / 13.0).collect();
        let x = HostTensor::from_bytes(acts, &[1, k], quant::quantize_activations(acts, &xs).into()).unwrap();
        let w = HostTensor::random(dt, &[n, k], 1, &mut rng);
        let mut out = vec![0u8; 4 * n];
        let inputs = [x, w];
        run_single_thread(&kernel, &inputs, &mut out);
        let reps = (200_000_000 / (n * k)).max(3);
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..reps {
                run_single_thread(&kernel, &inputs, &mut out);
            }
            best = best.min(t.elapsed().as_secs_f64() / reps as f64);
        }
        let bytes = dt.storage_bytes(n * k) as f64;
        println!("| {dt} | {n}x{k} | {:.1} | {:.1} |", best * 1e6, bytes / best / 1e9);
    }
}
