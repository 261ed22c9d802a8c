//! Runs a GPU out of memory on purpose and prints kiln's error: 1 GiB
//! tensors are uploaded until the device refuses one (each upload goes
//! through the same checked allocation as weights and memory-plan slots).
//! For GPUs whose driver reports running out (the NVIDIA Vulkan driver
//! does); lavapipe allocates lazily and never does, so this is no CI test.
//! `cargo run --release -p kiln-runtime --example gpu_out_of_memory -- [GPU_INDEX] [MAX_GIB]`

use kiln_dsl::{DType, HostTensor};
use kiln_runtime::GpuDevice;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse()).collect::<Result<_, _>>()?;
    let gpu = GpuDevice::open(args.first().copied().unwrap_or(0))?;
    let max_gib = args.get(1).copied().unwrap_or(512);
    let n = (1usize << 30) / 4;
    let t = HostTensor::from_f32(DType::F32, &[n], &vec![1.0; n]);
    let mut kept = Vec::new();
    for i in 1..=max_gib {
        match gpu.upload("filler", &t) {
            Ok(x) => kept.push(x),
            Err(e) => {
                println!("after {} GiB uploaded to {}: {e}", i - 1, gpu.info().name);
                // the device still works once memory is freed
                kept.clear();
                let x = gpu.upload("after", &t)?;
                println!("after freeing them, a 1 GiB upload succeeds: {} elements", x.shape[0]);
                return Ok(());
            }
        }
    }
    Err(format!("{max_gib} GiB uploaded to {} without running out", gpu.info().name).into())
}
