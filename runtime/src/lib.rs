//! kiln's executors.
//!
//! Owns running compiled functions: [`CpuExecutable`] lowers every op of a
//! `kiln_dsl::Function` to scheduled kernels, compiles them through
//! `kiln_codegen`, and runs them in order over buffers placed by a static
//! [`MemoryPlan`] (intermediates whose lifetimes do not overlap share a
//! buffer); [`CpuModule`] holds a module's functions and their shared
//! parameters. [`GpuExecutable`] runs functions as compute shaders on a wgpu
//! device, keeping outputs resident ([`GpuTensor`], [`Value`]), kernels
//! proven in bounds created without wgpu's run-time checks
//! ([`GpuDevice::runs_unchecked`]; [`GpuDevice::with_checked_shaders`] is
//! the checked mode);
//! [`GpuModule`] holds a module's parameters on the device. Values that
//! kernels read and the host keeps filling (a paged KV cache) take new
//! rows in place ([`Value::copy_rows`]), on either device.
//! Also lists the devices kiln can use ([`devices`]).
//!
//! In: verified functions, host tensors, symbolic-dim bindings. Out: host
//! tensors.
//!
//! ```
//! use kiln_dsl::{Bindings, DType, FunctionBuilder, HostTensor};
//! use kiln_runtime::{CompileOptions, CpuExecutable};
//! use std::collections::HashMap;
//! let f = FunctionBuilder::new("scale");
//! let x = f.input("x", DType::F32, &["n".into()]);
//! let func = f.finish(&[&x.mul_scalar(3.0).add_scalar(1.0)]).unwrap();
//! let exe = CpuExecutable::compile(&func, &CompileOptions::default()).unwrap();
//! let x = HostTensor::from_f32(DType::F32, &[5], &[0.0, 1.0, 2.0, 3.0, 4.0]);
//! let y = exe.run(&[x], &HashMap::new(), &Bindings::new()).unwrap();
//! assert_eq!(y[0].to_f32(), vec![1.0, 4.0, 7.0, 10.0, 13.0]);
//! ```
#![warn(missing_docs)]

mod cpu;
mod device;
mod error;
mod gpu;
mod plan;

pub use cpu::{CompileOptions, CpuExecutable, CpuModule, Scheduler};
pub use kiln_rewrite::{CostModel, Optimizer};
pub use device::{cpu_device, devices, gpu_cost_model, gpu_devices, Device, DeviceChoice, DeviceInfo};
pub use error::RuntimeError;
pub use gpu::{gpu_adapters, gpu_kernels, gpu_module_kernels, GpuDevice, GpuExecutable, GpuModule, GpuTensor, RowRun, Value};
pub use kiln_codegen::gpu::{GpuTarget, MatrixGemm};
pub use plan::{memory_report, Interval, MemoryPlan, MemoryReport, WholeKernels};
