//! Devices kiln can run on, with the fingerprint later used as the tuning
//! database key.

use std::fmt;

/// A device and what identifies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Selector used on the command line (`cpu`).
    pub selector: String,
    /// Human-readable name (the CPU model).
    pub name: String,
    /// Backend that runs kernels on it.
    pub backend: String,
    /// Threads kernels use (0 for GPUs).
    pub threads: usize,
    /// Features that affect generated code.
    pub features: Vec<String>,
}

impl DeviceInfo {
    /// Stable identity of the device and its code generator, for keying
    /// tuning records.
    pub fn fingerprint(&self) -> String {
        format!("{}|{}|{}|{}|{}", self.backend, self.name, std::env::consts::ARCH, self.features.join(","), env!("CARGO_PKG_VERSION"))
    }
}

impl fmt::Display for DeviceInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.threads == 0 {
            return write!(f, "{}: {} ({}, {})", self.selector, self.name, self.backend, self.features.join(", "));
        }
        write!(f, "{}: {} ({}, {} threads, {})", self.selector, self.name, self.backend, self.threads, self.features.join(" "))
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(|s| s.trim().to_string()))
        .unwrap_or_else(|| format!("{} CPU", std::env::consts::ARCH))
}

/// The CPU device.
pub fn cpu_device() -> DeviceInfo {
    let mut features = vec![format!("simd={}x f32", kiln_codegen::cpu::LANES)];
    #[cfg(target_arch = "x86_64")]
    for (name, on) in [("sse4.2", std::is_x86_feature_detected!("sse4.2")), ("avx", std::is_x86_feature_detected!("avx")), ("fma", std::is_x86_feature_detected!("fma"))] {
        if on {
            features.push(name.to_string());
        }
    }
    DeviceInfo { selector: "cpu".into(), name: cpu_model(), backend: "cranelift-jit".into(), threads: rayon::current_num_threads(), features }
}

/// The GPU adapters wgpu finds, most capable first (`gpu:0` is what
/// `--device gpu` means).
pub fn gpu_devices() -> Vec<DeviceInfo> {
    crate::gpu::gpu_adapters()
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let info = a.get_info();
            let limits = a.limits();
            DeviceInfo {
                selector: format!("gpu:{i}"),
                name: info.name.clone(),
                backend: format!("wgpu-{:?}", info.backend).to_lowercase(),
                threads: 0,
                features: vec![
                    format!("{:?}", info.device_type).to_lowercase(),
                    format!("vendor={:#06x}", info.vendor),
                    format!("device={:#06x}", info.device),
                    format!("driver={} {}", info.driver, info.driver_info),
                    format!("max_storage_buffer_binding_size={}", limits.max_storage_buffer_binding_size),
                ],
            }
        })
        .collect()
}

/// Every device kiln can use here: the CPU, then the GPU adapters.
pub fn devices() -> Vec<DeviceInfo> {
    let mut all = vec![cpu_device()];
    all.extend(gpu_devices());
    all
}
