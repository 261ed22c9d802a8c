//! Devices kiln can run on, with the fingerprint later used as the tuning
//! database key.

use crate::error::RuntimeError;
use crate::gpu::{adapter_target, gpu_adapters, GpuDevice};
use kiln_codegen::gpu::GpuTarget;
use std::fmt;
use std::str::FromStr;

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
    gpu_adapters()
        .iter()
        .enumerate()
        .map(|(i, a)| gpu_info(format!("gpu:{i}"), &a.get_info(), &a.limits(), adapter_target(&a, &a.limits())))
        .collect()
}

/// Every device kiln can use here: the CPU, then the GPU adapters.
pub fn devices() -> Vec<DeviceInfo> {
    let mut all = vec![cpu_device()];
    all.extend(gpu_devices());
    all
}

/// Where to run, as a user names it: `cpu`, `gpu` (the most capable GPU,
/// `gpu:0`), `gpu:N` (as `kiln devices` numbers them) or `auto`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeviceChoice {
    /// A discrete or integrated GPU if there is one, else the CPU.
    #[default]
    Auto,
    /// The CPU backend.
    Cpu,
    /// GPU adapter N.
    Gpu(usize),
}

impl FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "gpu" => Ok(DeviceChoice::Gpu(0)),
            _ => s
                .strip_prefix("gpu:")
                .and_then(|n| n.parse().ok())
                .map(DeviceChoice::Gpu)
                .ok_or_else(|| format!("unknown device `{s}`: use cpu, gpu, gpu:N or auto (`kiln devices` lists the GPUs)")),
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceChoice::Auto => f.write_str("auto"),
            DeviceChoice::Cpu => f.write_str("cpu"),
            DeviceChoice::Gpu(n) => write!(f, "gpu:{n}"),
        }
    }
}

/// The graph optimizer's cost model for kernels generated for `target`,
/// on `prices` (launches, bytes and arithmetic): what that target's code
/// generator fuses (whole attentions, integer-dot epilogues, row
/// reductions in quantizations) is what the model prices so.
pub fn gpu_cost_model(target: &kiln_codegen::gpu::GpuTarget, prices: kiln_rewrite::CostModel) -> kiln_rewrite::CostModel {
    let t = target;
    kiln_rewrite::CostModel { attention_kernels: t.attention_kernels, quantize_prologues: true, int_dot_epilogues: t.int_dot && t.subgroups, split_attention: t.split_attention, row_reductions: t.row_reductions, ..prices }
}

/// An opened device.
#[derive(Clone, Debug)]
pub enum Device {
    /// The CPU backend.
    Cpu,
    /// A GPU, with the selector it was opened by (`gpu:N`).
    Gpu(GpuDevice, String),
}

impl Device {
    /// The graph optimizer's cost model for this device: a GPU's where
    /// kernel launches are dear, the CPU's for the CPU and for GPU adapters
    /// that run on the CPU (lavapipe), where recomputation is (but whose
    /// backend runs an attention as one kernel, as every GPU's does).
    pub fn cost_model(&self) -> kiln_rewrite::CostModel {
        match self {
            Device::Gpu(g, _) => {
                let prices = if g.adapter_kind() == kiln_schedule::AdapterKind::Gpu { kiln_rewrite::CostModel::gpu() } else { kiln_rewrite::CostModel::cpu() };
                gpu_cost_model(&g.target(), prices)
            }
            Device::Cpu => kiln_rewrite::CostModel::cpu(),
        }
    }

    /// Whether this device's kernels multiply 8-bit activations by Q4_0
    /// and Q8_0 weights with packed integer dot products (a GPU with
    /// subgroups, unless `KILN_GPU_DISABLE` turns them off).
    pub fn integer_dot_gemvs(&self) -> bool {
        match self {
            Device::Gpu(g, _) => {
                let t = g.target();
                t.int_dot && t.subgroups
            }
            Device::Cpu => false,
        }
    }

    /// Open the device `choice` names. `auto` takes GPU adapter 0 when it is
    /// a discrete or integrated GPU and otherwise the CPU, saying why in the
    /// returned note (a CPU implementation of Vulkan such as lavapipe is
    /// slower than kiln's own CPU backend).
    pub fn open(choice: DeviceChoice) -> Result<(Device, Option<String>), RuntimeError> {
        match choice {
            DeviceChoice::Cpu => Ok((Device::Cpu, None)),
            DeviceChoice::Gpu(n) => Ok((Device::Gpu(GpuDevice::open(n)?, format!("gpu:{n}")), None)),
            DeviceChoice::Auto => {
                let first = gpu_adapters().first().map(|a| a.get_info());
                match first {
                    Some(info) if matches!(info.device_type, wgpu::DeviceType::DiscreteGpu | wgpu::DeviceType::IntegratedGpu) => {
                        let gpu = GpuDevice::open(0)?;
                        Ok((Device::Gpu(gpu, "gpu:0".into()), None))
                    }
                    Some(info) => Ok((Device::Cpu, Some(format!("auto: the only GPU adapter is {} ({:?}), slower than the CPU backend; running on the CPU (--device gpu uses it anyway)", info.name, info.device_type)))),
                    None => Ok((Device::Cpu, Some("auto: no GPU adapter found; running on the CPU".into()))),
                }
            }
        }
    }

    /// What identifies the device (`selector` is `cpu` or `gpu:N`).
    pub fn info(&self) -> DeviceInfo {
        match self {
            Device::Cpu => cpu_device(),
            Device::Gpu(g, selector) => gpu_info(selector.clone(), g.info(), g.limits(), g.target()),
        }
    }
}

/// What the code generator may use (`target`) changes the shaders, so it
/// belongs in the fingerprint.
fn gpu_info(selector: String, info: &wgpu::AdapterInfo, limits: &wgpu::Limits, target: GpuTarget) -> DeviceInfo {
    DeviceInfo {
        selector,
        name: info.name.clone(),
        backend: format!("wgpu-{:?}", info.backend).to_lowercase(),
        threads: 0,
        features: vec![
            format!("{:?}", info.device_type).to_lowercase(),
            format!("vendor={:#06x}", info.vendor),
            format!("device={:#06x}", info.device),
            format!("driver={} {}", info.driver, info.driver_info),
            format!("max_storage_buffer_binding_size={}", limits.max_storage_buffer_binding_size),
            format!("f16_in_f32={}", target.f16_in_f32),
            format!("subgroups={}", target.subgroups),
            format!("native_f16={}", target.native_f16),
            format!("matrix_units={}", target.matrix_units),
        ],
    }
}
