//! The GPU executor: functions run as compute shaders on a wgpu device.
//!
//! A [`GpuExecutable`] is a function lowered to a fixed sequence of kernels
//! (default GPU schedules unless the options give a scheduler); a call
//! records every dispatch in one command encoder and one compute pass.
//! Intermediate values live in a per-executable pool of buffers laid out by
//! the static memory plan (slots grow when a call needs more and are kept
//! for the next). Function outputs stay on the device as [`GpuTensor`]s, so
//! a KV cache never leaves the GPU between decode steps; only what the
//! caller reads back ([`GpuTensor::to_host`]) crosses the bus.
//! [`GpuModule`] uploads a module's parameters (the weights) once.
//!
//! Errors: wgpu reports misuse through a device callback, which would panic
//! by default; here every device records them and the next call returns
//! them, as it does a lost device. Buffers are checked against the device's
//! binding and buffer limits before they are made, and their creation is
//! watched for out-of-memory.

use crate::error::RuntimeError;
use crate::plan::{lower_function, Buffers, KernelSource, Loc, Lowered, Step, WholeKernels};
use crate::CompileOptions;
use kiln_codegen::gpu::{lower, lower_attention, lower_row_reduced, GpuKernel, GpuTarget, MATRIX_WORKGROUP_BYTES};
use kiln_dsl::{quant, Bindings, DType, Function, HostTensor, Module, TensorDesc};
use kiln_schedule::{gpu_schedule, AdapterKind, GpuKnobs};
use kiln_rewrite::Report;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How running out of device memory is reported.
const OUT_OF_MEMORY: &str = "out of GPU memory";

fn gpu_error(message: impl Into<String>) -> RuntimeError {
    RuntimeError::Gpu { message: message.into() }
}

/// Every GPU adapter wgpu finds (Vulkan, Metal), most capable first:
/// discrete, integrated, virtual, then CPU implementations such as lavapipe.
pub fn gpu_adapters() -> Vec<wgpu::Adapter> {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = wgpu::Backends::VULKAN | wgpu::Backends::METAL;
    let instance = wgpu::Instance::new(desc);
    let mut adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::VULKAN | wgpu::Backends::METAL));
    let rank = |t: wgpu::DeviceType| match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    };
    adapters.sort_by_key(|a| rank(a.get_info().device_type));
    adapters
}

struct GpuInner {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    limits: wgpu::Limits,
    /// Errors wgpu reported since the last check.
    errors: Arc<Mutex<Vec<String>>>,
    /// Why the device was lost, once it is.
    lost: Arc<Mutex<Option<String>>>,
    /// Compiled pipelines by shader text: layers share their kernels.
    pipelines: Mutex<HashMap<String, wgpu::ComputePipeline>>,
    timestamps: bool,
    /// Timestamps may be written between a pass's dispatches
    /// (`TIMESTAMP_QUERY_INSIDE_PASSES`): a profile times each kernel in
    /// the passes a plain run records, not in a pass of its own.
    timestamps_inside_passes: bool,
    /// Buffers of dropped call outputs, for the next calls' outputs.
    recycled: Arc<BufferPool>,
}

/// Buffers of call outputs that were dropped, for the next call's outputs:
/// a decode step's grown KV caches and logits take the buffers of the
/// previous step's instead of new ones (no allocation, no zeroing by
/// wgpu). Output sizes are rounded up to classes an eighth of a power of
/// two apart (at least 4 KiB), so a cache growing by a row a step keeps
/// fitting its buffer for many steps. A buffer no call took by the end of
/// the call after the one it was dropped in is freed: the pool holds about
/// one call's outputs.
#[derive(Default)]
struct BufferPool {
    /// (the call it was dropped during, the buffer)
    free: Mutex<Vec<(u64, wgpu::Buffer)>>,
    /// Calls started.
    calls: std::sync::atomic::AtomicU64,
    /// Outputs that took a pooled buffer.
    reused: std::sync::atomic::AtomicU64,
}

impl BufferPool {
    /// The size class of a buffer of `bytes`, no more than `limit`.
    fn class(bytes: u64, limit: u64) -> u64 {
        let n = bytes.max(4096);
        let step = ((1u64 << n.ilog2()) / 8).max(4096);
        (n.div_ceil(step) * step).min(limit).max(bytes)
    }

    /// A call starts: buffers dropped before the previous call began are freed.
    fn next_call(&self) {
        let call = self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        self.free.lock().unwrap_or_else(|p| p.into_inner()).retain(|(dropped, _)| dropped + 1 >= call);
    }

    /// The smallest pooled buffer of `size` bytes up to twice that.
    fn take(&self, size: u64) -> Option<wgpu::Buffer> {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        let fits = free.iter().enumerate().filter(|(_, (_, b))| (size..=2 * size).contains(&b.size())).min_by_key(|(_, (_, b))| b.size()).map(|(i, _)| i)?;
        self.reused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(free.swap_remove(fits).1)
    }

    fn put(&self, buffer: wgpu::Buffer) {
        let call = self.calls.load(std::sync::atomic::Ordering::Relaxed);
        self.free.lock().unwrap_or_else(|p| p.into_inner()).push((call, buffer));
    }
}

/// A buffer that returns to its device's [`BufferPool`] when the last
/// tensor using it is dropped (or is simply freed, without a pool).
struct PooledBuffer {
    buffer: wgpu::Buffer,
    pool: Option<Arc<BufferPool>>,
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        if let Some(pool) = &self.pool {
            pool.put(self.buffer.clone());
        }
    }
}

impl From<wgpu::Buffer> for PooledBuffer {
    fn from(buffer: wgpu::Buffer) -> PooledBuffer {
        PooledBuffer { buffer, pool: None }
    }
}

/// An opened GPU: a wgpu device, its queue and its pipeline cache. Clones
/// share the device.
#[derive(Clone)]
pub struct GpuDevice {
    inner: Arc<GpuInner>,
    target: GpuTarget,
    /// Every shader keeps wgpu's run-time checks, proven safe or not.
    checked: bool,
}

impl std::fmt::Debug for GpuDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuDevice").field("info", &self.inner.info).finish()
    }
}

impl GpuDevice {
    /// Open adapter `index` of [`gpu_adapters`] (0: the most capable) with
    /// every limit the adapter has.
    pub fn open(index: usize) -> Result<GpuDevice, RuntimeError> {
        GpuDevice::open_with(index, |_| {})
    }

    /// [`GpuDevice::open`], letting `adjust` lower the limits first (tests
    /// provoke limit errors this way).
    pub fn open_with(index: usize, adjust: impl FnOnce(&mut wgpu::Limits)) -> Result<GpuDevice, RuntimeError> {
        let adapters = gpu_adapters();
        let count = adapters.len();
        let adapter = adapters.into_iter().nth(index).ok_or_else(|| {
            gpu_error(if count == 0 {
                "no GPU adapter found (no Vulkan or Metal driver; on Debian, `apt-get install mesa-vulkan-drivers` gives the lavapipe CPU device)".to_string()
            } else {
                format!("no GPU adapter {index}: there are {count} (`kiln devices` lists them)")
            })
        })?;
        let info = adapter.get_info();
        let mut limits = adapter.limits();
        adjust(&mut limits);
        let timestamps = adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        let timestamps_inside_passes = timestamps && adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY_INSIDE_PASSES) && !disabled("timestamps_inside_passes");
        let target = adapter_target(&adapter, &limits);
        let mut required_features = adapter.features() & (wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::TIMESTAMP_QUERY_INSIDE_PASSES | wgpu::Features::SUBGROUP | wgpu::Features::SHADER_F16);
        let mut experimental_features = wgpu::ExperimentalFeatures::disabled();
        if target.matrix_units {
            required_features |= wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX;
            // SAFETY: kiln's shaders use cooperative matrices only in the
            // configuration the adapter lists (subgroup-scope 16x16x16 tiles
            // of f16 inputs and f32 accumulators, `adapter_target`), loaded
            // from and stored to workgroup arrays that hold every tile.
            experimental_features = unsafe { wgpu::ExperimentalFeatures::enabled() };
        }
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor { label: Some("kiln"), required_limits: limits.clone(), required_features, experimental_features, ..Default::default() }))
            .map_err(|e| gpu_error(format!("opening {}: {e}", info.name)))?;
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = errors.clone();
        let name = info.name.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            let message = match e {
                wgpu::Error::OutOfMemory { .. } => format!("{OUT_OF_MEMORY} on {name} (free memory by closing other GPU programs, or load a smaller or more quantized model)"),
                e => e.to_string(),
            };
            sink.lock().unwrap_or_else(|p| p.into_inner()).push(message)
        }));
        let lost = Arc::new(Mutex::new(None));
        let why = lost.clone();
        device.set_device_lost_callback(move |reason, message| *why.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!("{reason:?}: {message}")));
        Ok(GpuDevice { inner: Arc::new(GpuInner { device, queue, info, limits, errors, lost, pipelines: Mutex::new(HashMap::new()), timestamps, timestamps_inside_passes, recycled: Arc::default() }), target, checked: disabled("trusted") })
    }

    /// The wgpu device and queue, for tools that measure the device itself
    /// (kiln's kernels go through [`GpuExecutable`]).
    pub fn raw(&self) -> (&wgpu::Device, &wgpu::Queue) {
        (&self.inner.device, &self.inner.queue)
    }

    /// What the adapter says of itself.
    pub fn info(&self) -> &wgpu::AdapterInfo {
        &self.inner.info
    }

    /// What runs its shaders: a GPU, or a CPU implementation (lavapipe),
    /// for which the default schedules avoid workgroup barriers.
    pub fn adapter_kind(&self) -> AdapterKind {
        if self.inner.info.device_type == wgpu::DeviceType::Cpu {
            AdapterKind::Cpu
        } else {
            AdapterKind::Gpu
        }
    }

    /// What the code generator may use on this device.
    pub fn target(&self) -> GpuTarget {
        self.target
    }

    /// The same device, generating code for `target` (which must be no
    /// more than the device can do): tests use it to run the portable paths.
    pub fn with_target(&self, target: GpuTarget) -> GpuDevice {
        GpuDevice { target, ..self.clone() }
    }

    /// The same device, creating every shader with wgpu's run-time checks
    /// (bounds, integer division), also those proven not to need them: the
    /// checked mode, for telling a wrong proof from a wrong kernel
    /// (`KILN_GPU_DISABLE=trusted` opens devices this way).
    pub fn with_checked_shaders(&self) -> GpuDevice {
        GpuDevice { checked: true, ..self.clone() }
    }

    /// Whether `kernel` runs without wgpu's run-time checks here: its
    /// accesses are proven in bounds ([`GpuKernel::bounds_proof`]) and the
    /// device is not in checked mode.
    pub fn runs_unchecked(&self, kernel: &GpuKernel) -> bool {
        !self.checked && kernel.bounds_proof.is_ok()
    }

    /// Buffers of dropped call outputs kept for later outputs now, and how
    /// many outputs took such a buffer so far (a decode step takes those of
    /// the step before).
    pub fn buffer_pool(&self) -> (usize, u64) {
        let pool = &self.inner.recycled;
        (pool.free.lock().unwrap_or_else(|p| p.into_inner()).len(), pool.reused.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// The limits the device was opened with.
    pub fn limits(&self) -> &wgpu::Limits {
        &self.inner.limits
    }

    /// Whether kernels can be timed on the device ([`GpuExecutable::run_profiled`]).
    pub fn has_timestamps(&self) -> bool {
        self.inner.timestamps
    }

    /// Compiled pipelines held by the cache.
    pub fn cached_pipelines(&self) -> usize {
        self.inner.pipelines.lock().map_or(0, |p| p.len())
    }

    /// Errors wgpu reported since the last check, or the device's loss.
    pub fn check(&self) -> Result<(), RuntimeError> {
        let lost = || self.inner.lost.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let lost_error = |why: String| gpu_error(format!("the device {} was lost ({why}); open it again", self.inner.info.name));
        if let Some(why) = lost() {
            return Err(lost_error(why));
        }
        let errors = std::mem::take(&mut *self.inner.errors.lock().unwrap_or_else(|p| p.into_inner()));
        if !errors.is_empty() {
            // on a lost device every call fails validation; wgpu reports
            // the loss, which says why, once the device's queue drains
            let _ = self.inner.device.poll(wgpu::PollType::wait_indefinitely());
            if let Some(why) = lost() {
                return Err(lost_error(why));
            }
            return Err(gpu_error(errors.join("; ")));
        }
        Ok(())
    }

    fn wait(&self) -> Result<(), RuntimeError> {
        self.inner.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| gpu_error(format!("waiting for the GPU: {e}")))?;
        self.check()
    }

    /// A storage buffer of at least `bytes` for a call's output: one a
    /// dropped output left (of its size class up to twice that), or a new
    /// one of the class's size.
    fn output_buffer(&self, label: &str, bytes: u64) -> Result<Arc<PooledBuffer>, RuntimeError> {
        let limit = (self.inner.limits.max_storage_buffer_binding_size as u64).min(self.inner.limits.max_buffer_size);
        let size = BufferPool::class(bytes.max(4).div_ceil(4) * 4, limit);
        let buffer = match self.inner.recycled.take(size) {
            Some(b) => b,
            None => self.buffer(label, size, STORAGE)?,
        };
        Ok(Arc::new(PooledBuffer { buffer, pool: Some(self.inner.recycled.clone()) }))
    }

    /// A device buffer of `bytes` (rounded up to whole words), checked
    /// against the limits and for running out of memory. (What a kernel may
    /// bind of it is checked when it is bound.)
    fn buffer(&self, label: &str, bytes: u64, usage: wgpu::BufferUsages) -> Result<wgpu::Buffer, RuntimeError> {
        let size = bytes.max(4).div_ceil(4) * 4;
        let limit = self.inner.limits.max_buffer_size;
        if size > limit {
            return Err(gpu_error(format!("`{label}` needs a {size}-byte buffer, above the {limit}-byte max_buffer_size of {}", self.inner.info.name)));
        }
        let make = || self.inner.device.create_buffer(&wgpu::BufferDescriptor { label: Some(label), size, usage, mapped_at_creation: false });
        let failed = |e: RuntimeError| match e {
            RuntimeError::Gpu { message } => gpu_error(format!("making the {size}-byte buffer `{label}`: {message}")),
            e => e,
        };
        // running out of memory reaches the error callback (error scopes are
        // per thread and must nest, which concurrent callers break)
        let buf = make();
        match self.check() {
            Ok(()) => Ok(buf),
            // buffers dropped since the last wait are freed only once the
            // device is polled: wait for them, then try once more
            Err(RuntimeError::Gpu { message }) if message.contains(OUT_OF_MEMORY) => {
                drop(buf);
                self.inner.queue.submit(std::iter::empty());
                self.wait().map_err(failed)?;
                let buf = make();
                self.check().map_err(failed)?;
                Ok(buf)
            }
            Err(e) => Err(failed(e)),
        }
    }

    /// The device's memory bandwidth as a buffer-to-buffer copy measures it
    /// (bytes read plus bytes written per second, GB/s): the best of ten
    /// batches of `repeats` copies of `bytes` (capped by the buffer limit),
    /// each timed on the host clock. The limit that memory-bound kernels
    /// meet. The batches also let an idle GPU raise its clocks: a single
    /// batch on a cold NVIDIA H200 measured half the rate of later ones.
    pub fn copy_bandwidth(&self, bytes: u64, repeats: u32) -> Result<f64, RuntimeError> {
        let bytes = bytes.min(self.inner.limits.max_buffer_size / 2).min(self.inner.limits.max_storage_buffer_binding_size as u64) / 4 * 4;
        let usage = wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        let (a, b) = (self.buffer("copy source", bytes, usage)?, self.buffer("copy target", bytes, usage)?);
        let repeats = repeats.max(1);
        let mut best = Duration::MAX;
        for _ in 0..10 {
            let started = std::time::Instant::now();
            let mut encoder = self.inner.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("copy bandwidth") });
            for _ in 0..repeats {
                encoder.copy_buffer_to_buffer(&a, 0, &b, 0, bytes);
            }
            self.inner.queue.submit([encoder.finish()]);
            self.wait()?;
            best = best.min(started.elapsed());
        }
        Ok(2.0 * bytes as f64 * repeats as f64 / best.as_secs_f64() / 1e9)
    }

    /// The device's memory bandwidth as a grid-stride copy with 16-byte
    /// loads and stores measures it (GB/s read plus written; best of ten
    /// batches of twenty copies of `bytes`, capped by the binding limit, on
    /// the host clock): the usual way to find what memory delivers, and the
    /// limit kiln's figures use. On the NVIDIA H100 it gives ~2.8 TB/s where
    /// [`GpuDevice::copy_bandwidth`] (the copy command) gives 848 GB/s.
    /// Hand-written WGSL: a measuring probe, not a kernel kiln runs.
    pub fn probe_bandwidth(&self, bytes: u64) -> Result<f64, RuntimeError> {
        const COPY_PROBE: &str = "
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
    let stride = n.x * 256u;
    for (var i = g.x; i < arrayLength(&src); i += stride) {
        dst[i] = src[i];
    }
}";
        let bytes = bytes.min(self.inner.limits.max_storage_buffer_binding_size as u64).min(self.inner.limits.max_buffer_size) / 16 * 16;
        let (a, b) = (self.buffer("probe source", bytes, STORAGE)?, self.buffer("probe target", bytes, STORAGE)?);
        let probe = self.hand_written("copy probe", COPY_PROBE, &[&a, &b]);
        let mut best = Duration::MAX;
        for _ in 0..10 {
            best = best.min(self.dispatch_batch(&probe, 4096, 20)?);
        }
        Ok(2.0 * bytes as f64 * 20.0 / best.as_secs_f64() / 1e9)
    }

    /// A hand-written measuring shader run on tensors: `wgsl` (entry
    /// `main`, created without run-time checks like kiln's proven kernels)
    /// binds `bindings[i]` at binding `i` where it declares that binding
    /// (`None`: an output of `out_bytes`); `workgroups`
    /// workgroups per dispatch. Returns the best time of one dispatch (host
    /// clock, best of ten batches of twenty in one submission each) and the
    /// output's bytes. A probe of what the device reaches by hand, as
    /// [`GpuDevice::probe_bandwidth`] is for copies; not a kernel kiln runs.
    pub fn probe_shader(&self, label: &str, wgsl: &str, bindings: &[Option<&GpuTensor>], out_bytes: u64, workgroups: u32) -> Result<(Duration, Vec<u8>), RuntimeError> {
        let out = self.buffer(label, out_bytes, STORAGE)?;
        let dev = &self.inner.device;
        let desc = wgpu::ShaderModuleDescriptor { label: Some(label), source: wgpu::ShaderSource::Wgsl(wgsl.into()) };
        // SAFETY: a measuring probe whose indices the caller keeps in bounds
        let module = unsafe { dev.create_shader_module_trusted(desc, wgpu::ShaderRuntimeChecks::unchecked()) };
        let pipeline = dev.create_compute_pipeline(&wgpu::ComputePipelineDescriptor { label: Some(label), layout: None, module: &module, entry_point: Some("main"), compilation_options: Default::default(), cache: None });
        self.check()?;
        let declared = |i: usize| wgsl.contains(&format!("@binding({i})"));
        let buffers: Vec<&wgpu::Buffer> = bindings.iter().map(|t| t.map_or(&out, |t| &t.buffer.buffer)).collect();
        let entries: Vec<wgpu::BindGroupEntry> = buffers.iter().enumerate().filter(|(i, _)| declared(*i)).map(|(i, b)| wgpu::BindGroupEntry { binding: i as u32, resource: b.as_entire_binding() }).collect();
        let group = dev.create_bind_group(&wgpu::BindGroupDescriptor { label: Some(label), layout: &pipeline.get_bind_group_layout(0), entries: &entries });
        self.check()?;
        let shader = (pipeline, group);
        let mut best = Duration::MAX;
        for _ in 0..10 {
            best = best.min(self.dispatch_batch(&shader, workgroups, 20)? / 20);
        }
        self.check()?;
        let y = GpuTensor { dtype: DType::F32, shape: vec![(out_bytes / 4) as usize], buffer: Arc::new(out.into()), gpu: self.clone() };
        Ok((best, y.to_host()?.data.to_vec()))
    }

    /// Keep the GPU's arithmetic units busy for at least `duration` (a
    /// chain of FMAs per invocation), so that an idle GPU raises its SM
    /// clock before kernels are timed. On the NVIDIA H100 the SM clock stays
    /// at its idle 345 MHz through memory-bound work (the copy probe), and a
    /// Q4_0 GEMV, bound by its integer arithmetic, ran 5.5x slower there
    /// (806 against 146 us, the idle-to-boost clock ratio; `benches/RESULTS.md`,
    /// issue 6). A CPU adapter (lavapipe) has no clock to raise: one small
    /// dispatch only.
    pub fn warm_up(&self, duration: Duration) -> Result<(), RuntimeError> {
        const HEATER: &str = "
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
    var a = f32(g.x) * 1e-7;
    var b = 1.0;
    for (var i = 0u; i < 4096u; i++) {
        b = fma(b, 0.9999, a);
        a = fma(a, 1.0001, -b * 1e-9);
    }
    out[g.x % 256u] = a + b;
}";
        let out = self.buffer("clock heater", 1024, STORAGE)?;
        let heater = self.hand_written("clock heater", HEATER, &[&out]);
        if self.adapter_kind() != AdapterKind::Gpu {
            self.dispatch_batch(&heater, 1, 1)?;
            return Ok(());
        }
        let started = std::time::Instant::now();
        while started.elapsed() < duration {
            self.dispatch_batch(&heater, 2048, 1)?;
        }
        Ok(())
    }

    /// A hand-written measuring shader (`wgsl`, entry `main`) with
    /// `buffers` bound in order to group 0.
    fn hand_written(&self, label: &str, wgsl: &str, buffers: &[&wgpu::Buffer]) -> (wgpu::ComputePipeline, wgpu::BindGroup) {
        let dev = &self.inner.device;
        let module = dev.create_shader_module(wgpu::ShaderModuleDescriptor { label: Some(label), source: wgpu::ShaderSource::Wgsl(wgsl.into()) });
        let pipeline = dev.create_compute_pipeline(&wgpu::ComputePipelineDescriptor { label: Some(label), layout: None, module: &module, entry_point: Some("main"), compilation_options: Default::default(), cache: None });
        let entries: Vec<wgpu::BindGroupEntry> = buffers.iter().enumerate().map(|(i, b)| wgpu::BindGroupEntry { binding: i as u32, resource: b.as_entire_binding() }).collect();
        let group = dev.create_bind_group(&wgpu::BindGroupDescriptor { label: Some(label), layout: &pipeline.get_bind_group_layout(0), entries: &entries });
        (pipeline, group)
    }

    /// `times` dispatches of `workgroups` workgroups of `shader` in one
    /// submission, waited for: the host-clock time it took.
    fn dispatch_batch(&self, shader: &(wgpu::ComputePipeline, wgpu::BindGroup), workgroups: u32, times: u32) -> Result<Duration, RuntimeError> {
        let started = std::time::Instant::now();
        let mut encoder = self.inner.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("measuring shader") });
        for _ in 0..times {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&shader.0);
            pass.set_bind_group(0, &shader.1, &[]);
            pass.dispatch_workgroups(workgroups, 1, 1);
        }
        self.inner.queue.submit([encoder.finish()]);
        self.wait()?;
        Ok(started.elapsed())
    }

    /// Copy a host tensor to the device, quantized ones in the target's
    /// layout ([`GpuTarget::quant_layout`]: Q4_0 rows split into nibbles
    /// and scales; [`GpuTensor::to_host`] gives GGUF's blocks back). A Q4_0
    /// tensor whose rows are not whole blocks is refused there.
    pub fn upload(&self, label: &str, t: &HostTensor) -> Result<GpuTensor, RuntimeError> {
        let data = self.device_bytes(label, t)?;
        let buffer = self.buffer(label, data.len() as u64, STORAGE)?;
        self.write(&buffer, &data);
        // the copy from wgpu's staging memory runs at the next submission:
        // submit now, so a model's uploads never hold a staged copy of
        // every weight at once
        self.inner.queue.submit(std::iter::empty());
        self.check()?;
        Ok(GpuTensor { dtype: t.dtype, shape: t.shape.clone(), buffer: Arc::new(buffer.into()), gpu: self.clone() })
    }

    /// `t`'s bytes as the device keeps them (quantized rows in the
    /// target's layout).
    fn device_bytes<'t>(&self, label: &str, t: &'t HostTensor) -> Result<std::borrow::Cow<'t, [u8]>, RuntimeError> {
        let layout = self.target.quant_layout();
        if layout.splits(t.dtype) {
            let relaid = quant::to_layout(layout, t.dtype, &t.data, row_len(&t.shape)).map_err(|m| gpu_error(format!("uploading `{label}`: {m}")))?;
            Ok(relaid.into())
        } else {
            Ok((&t.data[..]).into())
        }
    }

    /// Queue a write of `data` at the start of `buffer` (the last partial
    /// word padded with zeros), done before the next submission's work.
    fn write(&self, buffer: &wgpu::Buffer, data: &[u8]) {
        let padded = (data.len() / 4) * 4;
        self.inner.queue.write_buffer(buffer, 0, &data[..padded]);
        if padded < data.len() {
            let mut tail = data[padded..].to_vec();
            tail.resize(4, 0);
            self.inner.queue.write_buffer(buffer, padded as u64, &tail);
        }
    }

    /// A zero-filled tensor on the device (for state that kernels read and
    /// the host fills in place, such as a KV cache pool).
    pub fn zeros(&self, label: &str, dtype: DType, shape: &[usize]) -> Result<GpuTensor, RuntimeError> {
        let bytes = dtype.storage_bytes(shape.iter().product());
        // wgpu clears every new buffer
        let buffer = self.buffer(label, bytes as u64, STORAGE)?;
        Ok(GpuTensor { dtype, shape: shape.to_vec(), buffer: Arc::new(buffer.into()), gpu: self.clone() })
    }

    /// `buffer` bound whole by kernel `kernel`, if a binding may be that large.
    fn whole_binding<'a>(&self, kernel: &str, buffer: &'a wgpu::Buffer) -> Result<wgpu::BufferBinding<'a>, RuntimeError> {
        let limit = self.inner.limits.max_storage_buffer_binding_size as u64;
        if buffer.size() > limit {
            return Err(gpu_error(format!(
                "kernel `{kernel}` binds a {}-byte buffer, above the {limit}-byte max_storage_buffer_binding_size of {} (kiln binds a tensor as several ranges only when its shape is constant)",
                buffer.size(),
                self.inner.info.name
            )));
        }
        Ok(wgpu::BufferBinding { buffer, offset: 0, size: None })
    }

    /// The pipeline of `kernel`, compiled once per distinct shader and
    /// layout: without wgpu's run-time checks where
    /// [`GpuDevice::runs_unchecked`]; its output bound at a dynamic offset
    /// where `dynamic_output` (a KV cache's new row, written at the cache's
    /// end: one bind group serves every call).
    fn pipeline(&self, kernel: &GpuKernel, dynamic_output: bool) -> Result<wgpu::ComputePipeline, RuntimeError> {
        let unchecked = self.runs_unchecked(kernel);
        let key = format!("{}{}{}", if unchecked { "// unchecked\n" } else { "" }, if dynamic_output { "// dynamic output\n" } else { "" }, kernel.wgsl()?);
        if let Some(p) = self.inner.pipelines.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(p.clone());
        }
        let dev = &self.inner.device;
        let desc = wgpu::ShaderModuleDescriptor { label: Some(&kernel.name), source: wgpu::ShaderSource::Naga(Cow::Owned(kernel.module.clone())) };
        let module = if unchecked {
            // SAFETY: every access of the shader is proven in bounds and
            // every integer divisor positive for symbolic dims of at least 1
            // (`GpuKernel::bounds_proof`), which `run_inner` checks before
            // dispatching; its loops have constant or dim-valued trip counts.
            unsafe { dev.create_shader_module_trusted(desc, wgpu::ShaderRuntimeChecks::unchecked()) }
        } else {
            dev.create_shader_module(desc)
        };
        // every binding in the layout, used by the shader or not (a kernel
        // without symbolic dims never reads `dims`)
        let n = kernel.ranges.iter().sum::<u32>();
        let entry = |binding: u32, read_only: bool| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer { ty: wgpu::BufferBindingType::Storage { read_only }, has_dynamic_offset: dynamic_output && binding == n, min_binding_size: None },
            count: None,
        };
        let views = kernel.vector_views.len() as u32;
        let entries: Vec<_> = (0..n).map(|i| entry(i, true)).chain([entry(n, false), entry(n + 1, true)]).chain((0..views).map(|i| entry(n + 2 + i, true))).collect();
        let group_layout = dev.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some(&kernel.name), entries: &entries });
        let layout = dev.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor { label: Some(&kernel.name), bind_group_layouts: &[Some(&group_layout)], immediate_size: 0 });
        let pipeline = dev.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(&kernel.name),
            layout: Some(&layout),
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        self.check()?;
        self.inner.pipelines.lock().unwrap_or_else(|p| p.into_inner()).insert(key, pipeline.clone());
        Ok(pipeline)
    }
}

const STORAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE.union(wgpu::BufferUsages::COPY_SRC).union(wgpu::BufferUsages::COPY_DST);

/// What kiln's shaders may use on `adapter` opened with `limits`, less what
/// `KILN_GPU_DISABLE` (a comma-separated list of `subgroups`, `native_f16`,
/// `f16_in_f32`, `fold_lanes`, `split_q4_0`, `float_by_exponent`, `matrix_units`, `attention_kernels`, `split_attention`, `int_dot`, `row_reductions`, for the schedules `vectors`, `trusted`:
/// keep wgpu's run-time checks in every shader, and
/// `timestamps_inside_passes`: profiles time each kernel in a pass of its
/// own) turns off: for measuring what each feature gives, or for working
/// around a driver bug.
pub(crate) fn adapter_target(adapter: &wgpu::Adapter, limits: &wgpu::Limits) -> GpuTarget {
    let enabled = |feature: &str| !disabled(feature);
    // ranges start at multiples of their size: a power of two no smaller
    // than the offset alignment
    let binding = (limits.max_storage_buffer_binding_size as u64).min(limits.max_buffer_size) / 4;
    let range_words = if binding == 0 { 0 } else { 1u64 << binding.ilog2() }.max(limits.min_storage_buffer_offset_alignment as u64 / 4).min(1 << 30) as u32;
    let native_f16 = enabled("native_f16") && adapter.features().contains(wgpu::Features::SHADER_F16);
    GpuTarget {
        f16_in_f32: enabled("f16_in_f32") && adapter.get_downlevel_capabilities().flags.contains(wgpu::DownlevelFlags::SHADER_F16_IN_F32),
        range_words,
        subgroups: enabled("subgroups") && adapter.features().contains(wgpu::Features::SUBGROUP),
        native_f16,
        fold_lanes: enabled("fold_lanes"),
        split_q4_0: enabled("split_q4_0"),
        float_by_exponent: enabled("float_by_exponent"),
        matrix_units: enabled("matrix_units") && native_f16 && has_matrix_units(adapter, limits),
        attention_kernels: enabled("attention_kernels"),
        split_attention: enabled("split_attention"),
        int_dot: enabled("int_dot"),
        row_reductions: enabled("row_reductions"),
    }
}

/// Elements per row (the last axis) of a tensor of `shape`: what a
/// quantized layout splits.
fn row_len(shape: &[usize]) -> usize {
    shape.last().copied().unwrap_or(1)
}

/// Whether `adapter` offers the cooperative matrices kiln's matrix-unit
/// kernels use: wgpu's experimental feature, with subgroup tiles of 16x16x16
/// f16 inputs and f32 accumulators among the configurations it lists, and
/// subgroups of 32 invocations always (the kernels' workgroups are four
/// such subgroups, each picking its tiles by its subgroup id), and the
/// workgroup memory they declare.
fn has_matrix_units(adapter: &wgpu::Adapter, limits: &wgpu::Limits) -> bool {
    use wgpu::CooperativeScalarType::{F16, F32};
    let info = adapter.get_info();
    adapter.features().contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX | wgpu::Features::SUBGROUP)
        && (info.subgroup_min_size, info.subgroup_max_size) == (32, 32)
        && limits.max_compute_workgroup_storage_size >= MATRIX_WORKGROUP_BYTES
        && adapter.cooperative_matrix_properties().iter().any(|p| (p.m_size, p.n_size, p.k_size) == (16, 16, 16) && p.ab_type == F16 && p.cr_type == F32)
}

/// A tensor resident on a GPU.
#[derive(Clone)]
pub struct GpuTensor {
    /// Element type.
    pub dtype: DType,
    /// Concrete shape.
    pub shape: Vec<usize>,
    buffer: Arc<PooledBuffer>,
    gpu: GpuDevice,
}

impl std::fmt::Debug for GpuTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GpuTensor({}{:?} on {})", self.dtype, self.shape, self.gpu.inner.info.name)
    }
}

impl GpuTensor {
    /// Storage bytes of its elements (the buffer may be larger).
    pub fn bytes(&self) -> usize {
        self.dtype.storage_bytes(self.shape.iter().product())
    }

    /// The first `rows` rows (along the leading axis), sharing the buffer.
    pub fn truncated(&self, rows: usize) -> GpuTensor {
        let mut t = self.clone();
        if let Some(r) = t.shape.first_mut() {
            *r = rows.min(*r);
        }
        t
    }

    /// Copy back to the host (waits for the GPU).
    pub fn to_host(&self) -> Result<HostTensor, RuntimeError> {
        let g = &self.gpu;
        let bytes = self.bytes() as u64;
        let staging = g.buffer("readback", bytes, wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST)?;
        let mut encoder = g.inner.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("readback") });
        encoder.copy_buffer_to_buffer(&self.buffer.buffer, 0, &staging, 0, bytes.max(4).div_ceil(4) * 4);
        g.inner.queue.submit([encoder.finish()]);
        let slice = staging.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        g.wait()?;
        rx.recv().map_err(|e| gpu_error(e.to_string()))?.map_err(|e| gpu_error(format!("reading back: {e}")))?;
        let mut data = slice.get_mapped_range().map_err(|e| gpu_error(format!("reading back: {e}")))?[..bytes as usize].to_vec();
        let layout = g.target.quant_layout();
        if layout.splits(self.dtype) {
            data = quant::from_layout(layout, self.dtype, &data, row_len(&self.shape)).map_err(|m| gpu_error(format!("reading back: {m}")))?;
        }
        Ok(HostTensor { dtype: self.dtype, shape: self.shape.clone(), data: data.into() })
    }
}

/// Rows copied by [`Value::copy_rows`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowRun {
    /// First row read.
    pub from: usize,
    /// First row written.
    pub to: usize,
    /// Rows copied.
    pub rows: usize,
}

/// A function's run-time value: on the host, or resident on a GPU.
#[derive(Clone, Debug)]
pub enum Value {
    /// In host memory.
    Host(HostTensor),
    /// In a GPU's memory.
    Gpu(GpuTensor),
}

impl Value {
    /// Element type.
    pub fn dtype(&self) -> DType {
        match self {
            Value::Host(t) => t.dtype,
            Value::Gpu(t) => t.dtype,
        }
    }

    /// Concrete shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            Value::Host(t) => &t.shape,
            Value::Gpu(t) => &t.shape,
        }
    }

    /// What binding dims needs to know of it.
    pub fn desc(&self) -> TensorDesc<'_> {
        match self {
            Value::Host(t) => TensorDesc::of(t),
            Value::Gpu(t) => TensorDesc { dtype: t.dtype, shape: &t.shape, bytes: t.bytes() },
        }
    }

    /// The value on the host (read back from the GPU if it is there).
    pub fn to_host(&self) -> Result<HostTensor, RuntimeError> {
        match self {
            Value::Host(t) => Ok(t.clone()),
            Value::Gpu(t) => t.to_host(),
        }
    }

    /// Copy rows (along the leading axis) of `src` into this value, in
    /// place: each [`RowRun`] copies `rows` rows starting at `src` row
    /// `from` to rows starting at `to`. Both must have one dtype and the
    /// same shape after the leading axis, and every run must lie inside
    /// both. On a GPU the copies are queued as one submission (ordered
    /// before any later kernel); on the host the storage is written in
    /// place (copied first only if another value shares it).
    pub fn copy_rows(&mut self, src: &Value, runs: &[RowRun]) -> Result<(), RuntimeError> {
        Value::copy_rows_each(&mut [(self, src)], runs)
    }

    /// [`Value::copy_rows`] of the same runs into several values, each from
    /// its own source (a KV cache's layers): everything is checked first,
    /// and the GPU copies go in one submission.
    pub fn copy_rows_each(pairs: &mut [(&mut Value, &Value)], runs: &[RowRun]) -> Result<(), RuntimeError> {
        let mut row_bytes = Vec::with_capacity(pairs.len());
        for (dst, src) in pairs.iter() {
            row_bytes.push(Value::row_copy_bytes(dst, src, runs)?);
        }
        let mut encoder: Option<(GpuDevice, wgpu::CommandEncoder)> = None;
        for ((dst, src), &row_bytes) in pairs.iter_mut().zip(&row_bytes) {
            let span = |row: usize, rows: usize| row * row_bytes..(row + rows) * row_bytes;
            match &mut **dst {
                Value::Host(dst) => {
                    let src = src.to_host()?;
                    let mut bytes = match std::mem::take(&mut dst.data).try_into_mut() {
                        Ok(unique) => unique,
                        Err(shared) => bytes::BytesMut::from(&shared[..]),
                    };
                    for r in runs {
                        bytes[span(r.to, r.rows)].copy_from_slice(&src.data[span(r.from, r.rows)]);
                    }
                    dst.data = bytes.freeze();
                }
                Value::Gpu(dst) => {
                    let g = &dst.gpu;
                    match src {
                        Value::Gpu(s) => {
                            let (_, enc) = encoder.get_or_insert_with(|| (g.clone(), g.inner.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("copy rows") })));
                            for r in runs.iter().filter(|r| r.rows > 0) {
                                enc.copy_buffer_to_buffer(&s.buffer.buffer, (r.from * row_bytes) as u64, &dst.buffer.buffer, (r.to * row_bytes) as u64, (r.rows * row_bytes) as u64);
                            }
                        }
                        // queued writes run before the next submission
                        Value::Host(s) => {
                            for r in runs.iter().filter(|r| r.rows > 0) {
                                g.inner.queue.write_buffer(&dst.buffer.buffer, (r.to * row_bytes) as u64, &s.data[span(r.from, r.rows)]);
                            }
                            encoder.get_or_insert_with(|| (g.clone(), g.inner.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("copy rows") })));
                        }
                    }
                }
            }
        }
        if let Some((g, enc)) = encoder {
            g.inner.queue.submit([enc.finish()]);
            g.check()?;
        }
        Ok(())
    }

    /// Bytes per row of a [`Value::copy_rows`] from `src` into `dst`, or
    /// why the copy cannot be made.
    fn row_copy_bytes(dst: &Value, src: &Value, runs: &[RowRun]) -> Result<usize, RuntimeError> {
        let fail = |m: String| Err(RuntimeError::RowCopy(m));
        let (dst_shape, src_shape) = (dst.shape(), src.shape());
        if dst.dtype() != src.dtype() || dst_shape.is_empty() || src_shape.len() != dst_shape.len() || src_shape[1..] != dst_shape[1..] {
            return fail(format!("{}{:?} into {}{:?}: the rows differ", src.dtype(), src_shape, dst.dtype(), dst_shape));
        }
        if let Some(r) = runs.iter().find(|r| r.from + r.rows > src_shape[0] || r.to + r.rows > dst_shape[0]) {
            return fail(format!("rows {}..{} into rows {}..{} of {:?} from {:?}", r.from, r.from + r.rows, r.to, r.to + r.rows, dst_shape, src_shape));
        }
        let row_bytes = dst.desc().bytes / dst_shape[0].max(1);
        if dst.dtype().is_quantized() || row_bytes * dst_shape[0] != dst.desc().bytes {
            return fail(format!("{} rows are not whole bytes", dst.dtype()));
        }
        if let (Value::Gpu(d), Value::Gpu(s)) = (dst, src) {
            if !Arc::ptr_eq(&d.gpu.inner, &s.gpu.inner) {
                return fail("the values are on different GPUs".into());
            }
        }
        Ok(row_bytes)
    }

    /// The first `rows` rows along the leading axis.
    pub fn truncated(&self, rows: usize) -> Value {
        match self {
            Value::Host(t) => {
                let mut t = t.clone();
                if let Some(&r) = t.shape.first() {
                    let keep = rows.min(r);
                    let row_bytes = if r == 0 { 0 } else { t.data.len() / r };
                    t.data.truncate(keep * row_bytes);
                    t.shape[0] = keep;
                }
                Value::Host(t)
            }
            Value::Gpu(t) => Value::Gpu(t.truncated(rows)),
        }
    }
}

/// The default GPU schedule of `nest` on `adapter`; with `vectors` in
/// `KILN_GPU_DISABLE`, one element per invocation and step (no vector
/// loads): for measuring what they give. `KILN_GPU_TILES=T` tiles matmuls
/// over rows T x T in workgroup memory ([`GpuKnobs::tiled`]; slower than
/// the default on the H100 so far).
fn default_schedule(nest: kiln_schedule::LoopNest, adapter: AdapterKind) -> Result<kiln_schedule::Validated, kiln_schedule::ScheduleError> {
    let tiles = std::env::var("KILN_GPU_TILES").ok().and_then(|t| t.parse().ok()).filter(|&t| t > 0);
    let mut knobs = tiles.and_then(|t| GpuKnobs::tiled(&nest, t)).unwrap_or_else(|| GpuKnobs::default_for(&nest, adapter));
    if disabled("vectors") {
        knobs.vector_width = 1;
    }
    Ok(gpu_schedule(nest, &knobs)?.0)
}

/// Whether `feature` is named in `KILN_GPU_DISABLE`.
fn disabled(feature: &str) -> bool {
    std::env::var("KILN_GPU_DISABLE").unwrap_or_default().split(',').any(|d| d.trim() == feature)
}

/// The GPU kernels of `func` for `target` and `adapter`, in launch order, with the op each
/// comes from: what [`GpuExecutable::compile`] would run, without a device.
pub fn gpu_kernels(func: &Function, target: &GpuTarget, adapter: AdapterKind, options: &CompileOptions) -> Result<Vec<(String, GpuKernel)>, RuntimeError> {
    let (func, _) = options.rewrite(func)?;
    lowered_kernels(&func, target, adapter, options)
}

/// The GPU kernels of each function of `module`, as [`gpu_kernels`] gives a
/// function's: what [`GpuModule::compile`] would run (parameter-only ops
/// folded), without a device or parameter values (`kiln compile --emit`
/// writes them).
pub fn gpu_module_kernels(module: &Module, target: &GpuTarget, adapter: AdapterKind, options: &CompileOptions) -> Result<Vec<(Function, Vec<(String, GpuKernel)>)>, RuntimeError> {
    let (functions, _) = options.rewrite_module(module, None)?;
    functions.into_iter().map(|(func, _)| Ok((func.clone(), lowered_kernels(&func, target, adapter, options)?))).collect()
}

fn lowered_kernels(func: &Function, target: &GpuTarget, adapter: AdapterKind, options: &CompileOptions) -> Result<Vec<(String, GpuKernel)>, RuntimeError> {
    let lowered = lower_function(func, Buffers::OnePerValue, WholeKernels::of_target(target), |source| gpu_kernel(source, target, adapter, options))?;
    Ok(lowered.steps.into_iter().map(|s| (s.op, s.kernel)).collect())
}

/// The kernel of `source` for `target`: a stage's nest scheduled (tuned,
/// or by default) and lowered, or an attention's stages as one kernel.
fn gpu_kernel(source: KernelSource, target: &GpuTarget, adapter: AdapterKind, options: &CompileOptions) -> Result<GpuKernel, RuntimeError> {
    match source {
        KernelSource::Nest(nest) => {
            let nest = options.schedule(nest, true, |n| default_schedule(n, adapter))?;
            Ok(lower(&nest, target)?)
        }
        KernelSource::Attention(attention, part) => Ok(lower_attention(&attention, part, target)?),
        // (built whole: the quantize kernel takes no schedule's knobs)
        KernelSource::RowReduced { stage, reduction, n_inputs } => Ok(lower_row_reduced(&default_schedule(stage, adapter)?, &reduction, n_inputs, target)?),
    }
}

/// A kernel and its compiled pipeline.
struct GpuStep {
    kernel: GpuKernel,
    pipeline: wgpu::ComputePipeline,
    /// Created without run-time checks: its symbols must be at least 1.
    unchecked: bool,
    layout: wgpu::BindGroupLayout,
    /// Its output bound at a dynamic offset ([`Append::producer`]s).
    dynamic_output: bool,
}

impl std::fmt::Debug for GpuStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.kernel.name)
    }
}

/// A function compiled for a GPU.
pub struct GpuExecutable {
    func: Function,
    lowered: Lowered<GpuStep>,
    report: Option<Report>,
    gpu: GpuDevice,
    /// The memory plan's slots, kept between calls.
    pool: Mutex<Vec<Option<wgpu::Buffer>>>,
    /// Each step's last bind group and the bindings it was made for, for
    /// steps that bind no input or returned value other than a KV cache
    /// grown in place or a host input kept: a call whose step binds the
    /// same buffers (parameters, the plan's slots, the dims buffer, kept
    /// inputs, a cache that kept its buffer; most steps) reuses it. A group
    /// kept for a cache holds that buffer until a call binds another, the
    /// caller lets it go ([`GpuExecutable::forget_callers_buffers`]) or the
    /// executable is dropped.
    /// (The flag: it binds a caller's cache, which
    /// [`GpuExecutable::forget_callers_buffers`] lets go.)
    bind_groups: Mutex<Vec<Option<(Vec<BindingKey>, wgpu::BindGroup, bool)>>>,
    /// The buffer of every step's dims, kept between calls.
    dims: Mutex<Option<wgpu::Buffer>>,
    /// Per input, the buffer small host inputs are written into, kept
    /// between calls ([`KEPT_INPUT_BYTES`]), for inputs the function neither
    /// returns nor appends to.
    host_inputs: Mutex<Vec<Option<wgpu::Buffer>>>,
    /// Each step that may append in place ([`Append`]).
    appends: Vec<Option<Append>>,
    /// Appends made in place so far.
    appended_in_place: std::sync::atomic::AtomicU64,
    /// Of those, the ones whose rows their producer wrote in place.
    written_in_place: std::sync::atomic::AtomicU64,
    /// Bind groups made so far (the rest were kept from earlier calls).
    bind_groups_made: std::sync::atomic::AtomicU64,
    /// Whether every parameter's declared shape is constant
    /// ([`kiln_dsl::ShapeChecks::constant_params`]).
    constant_params: bool,
    /// Whether a call through its [`GpuModule`] (whose parameters never
    /// change) has checked them: later ones check only the inputs.
    module_params_checked: std::sync::atomic::AtomicBool,
    /// What binding a call's shapes checks, gathered once.
    shape_checks: kiln_dsl::ShapeChecks,
    /// The distinct symbol lists the steps read from the dims buffer
    /// (most steps share a few: none, or the context's), and each step's.
    dims_lists: Vec<DimsList>,
    dims_list_of: Vec<usize>,
}

/// Symbolic dims kernels read, in order, and the first kernel reading them
/// that runs unchecked (its dims must be at least 1).
struct DimsList {
    symbols: Vec<String>,
    unchecked_kernel: Option<String>,
}

/// The distinct symbol lists of `steps` ([`DimsList`]) and each step's.
fn dims_lists(steps: &[Step<GpuStep>]) -> (Vec<DimsList>, Vec<usize>) {
    let mut lists: Vec<DimsList> = Vec::new();
    let of = steps
        .iter()
        .map(|s| {
            let k = &s.kernel;
            let i = lists.iter().position(|l| l.symbols == k.kernel.symbols).unwrap_or_else(|| {
                lists.push(DimsList { symbols: k.kernel.symbols.clone(), unchecked_kernel: None });
                lists.len() - 1
            });
            if k.unchecked && lists[i].unchecked_kernel.is_none() {
                lists[i].unchecked_kernel = Some(k.kernel.name.clone());
            }
            i
        })
        .collect();
    (lists, of)
}

/// A step that concatenates a call's input and new rows along the first
/// axis into a value the call returns: a KV cache growing by a token.
/// Where the input's buffer is the caller's alone (no other tensor shares
/// it) and has room after its rows, the step copies the new rows there and
/// the result shares the input's buffer, instead of copying the whole
/// cache; elsewhere the concatenation runs and its result gets room to
/// grow ([`APPEND_ROOM`]). The input's own rows are never written.
///
/// Where the new rows are computed by a step whose result nothing else
/// reads (decode's K or V row, cast to f16), that step writes them into
/// the cache's buffer itself, bound at their offset, and no copy is made
/// (unless the offset breaks the device's binding alignment): a KV cache
/// grows with no command of its own.
#[derive(Clone, Copy, Debug)]
struct Append {
    input: usize,
    /// The value holding the new rows.
    rows: usize,
    /// The step computing `rows`, if that value is read by this step alone
    /// and not returned.
    producer: Option<usize>,
}

/// A concatenation a call returns gets a buffer this many times its size
/// (more rows appended in place before it is copied again: the copies of a
/// cache growing a row per call take linear time in all).
const APPEND_ROOM: f64 = 1.25;

/// The steps of `lowered` that may append in place (see [`Append`]): the
/// concatenation of input `i` (read by no other step nor returned) and a
/// value, along axis 0, of f32 or f16 rows of whole words, returned.
fn appends(func: &Function, lowered: &Lowered<GpuStep>) -> Vec<Option<Append>> {
    let inputs = func.inputs();
    let reads_input = |i: usize| lowered.steps.iter().filter(|s| s.args.contains(&Loc::Input(i))).count() + lowered.outputs.iter().filter(|o| **o == Loc::Input(i)).count();
    lowered
        .steps
        .iter()
        .map(|s| {
            let (&[Loc::Input(input), Loc::Value(rows)], true) = (&s.args[..], s.op == "concat(axis=0)") else { return None };
            let ty = inputs[input].2;
            let row_bytes = ty.dtype.storage_bytes(ty.shape[1..].iter().map(|d| d.as_const().unwrap_or(0) as usize).product());
            let whole_words = matches!(ty.dtype, DType::F32 | DType::F16) && ty.shape.len() >= 2 && row_bytes > 0 && row_bytes % 4 == 0;
            let read_once = lowered.steps.iter().filter(|t| t.args.contains(&Loc::Value(rows))).count() == 1 && !lowered.outputs.contains(&Loc::Value(rows));
            let producer = lowered.steps.iter().position(|t| t.out == rows).filter(|_| read_once);
            (whole_words && reads_input(input) == 1 && lowered.outputs.contains(&Loc::Value(s.out))).then_some(Append { input, rows, producer })
        })
        .collect()
}

/// A binding of a bind group: buffer, offset and size.
type BindingKey = (wgpu::Buffer, u64, Option<std::num::NonZeroU64>);

/// Whether `KILN_GPU_TRACE` is set: each call prints where its CPU time
/// went (preparing buffers and dims, recording the dispatches, the last
/// submission) to stderr.
fn trace_calls() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("KILN_GPU_TRACE").is_some())
}

/// Host inputs up to this size are written into a buffer the executable
/// keeps (4 KiB: a step's tokens and positions, not a prompt's cache).
const KEPT_INPUT_BYTES: usize = 4096;

/// Dispatches recorded per submission when a call is not profiled: the GPU
/// starts on the first ones while the CPU records the rest (one
/// submission would leave the GPU idle until every dispatch is recorded).
/// `KILN_GPU_SUBMIT_EVERY` overrides it (0: one submission per call).
const SUBMIT_EVERY: usize = 64;

impl std::fmt::Debug for GpuExecutable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuExecutable").field("function", &self.func.name).field("kernels", &self.lowered.steps.len()).finish()
    }
}

impl GpuExecutable {
    /// Compile every op of `func` to compute shaders for `gpu`.
    pub fn compile(func: &Function, gpu: &GpuDevice, options: &CompileOptions) -> Result<GpuExecutable, RuntimeError> {
        let (func, report) = options.rewrite(func)?;
        GpuExecutable::compile_rewritten(func, report, gpu, options)
    }

    /// Compile `func`, already rewritten (what `report` says was done).
    fn compile_rewritten(func: Function, report: Option<Report>, gpu: &GpuDevice, options: &CompileOptions) -> Result<GpuExecutable, RuntimeError> {
        let lowered = lower_function(&func, if options.disable_memory_plan { Buffers::OnePerValue } else { Buffers::Shared }, WholeKernels::of_target(&gpu.target()), |source| {
            let kernel = gpu_kernel(source, &gpu.target(), gpu.adapter_kind(), options)?;
            let pipeline = gpu.pipeline(&kernel, false)?;
            Ok(GpuStep { unchecked: gpu.runs_unchecked(&kernel), layout: pipeline.get_bind_group_layout(0), kernel, pipeline, dynamic_output: false })
        })?;
        let slots = lowered.plan.slots.len();
        let steps = lowered.steps.len();
        let (appends, shape_checks) = (appends(&func, &lowered), func.shape_checks());
        // the steps computing a cache's new row bind their output at a
        // dynamic offset: the cache's end, or 0 in their own value
        let mut lowered = lowered;
        for p in appends.iter().flatten().filter_map(|a| a.producer) {
            let step = &mut lowered.steps[p].kernel;
            step.pipeline = gpu.pipeline(&step.kernel, true)?;
            step.layout = step.pipeline.get_bind_group_layout(0);
            step.dynamic_output = true;
        }
        let host_inputs = Mutex::new(vec![None; func.inputs().len()]);
        let constant_params = shape_checks.constant_params();
        let (dims_lists, dims_list_of) = dims_lists(&lowered.steps);
        Ok(GpuExecutable { func, lowered, report, gpu: gpu.clone(), pool: Mutex::new(vec![None; slots]), bind_groups: Mutex::new(vec![None; steps]), dims: Mutex::new(None), host_inputs, appends, appended_in_place: Default::default(), written_in_place: Default::default(), bind_groups_made: Default::default(), constant_params, module_params_checked: Default::default(), shape_checks, dims_lists, dims_list_of })
    }

    /// What the graph optimizer did, if the options set one.
    pub fn rewrite_report(&self) -> Option<&Report> {
        self.report.as_ref()
    }

    /// Kernels launched per call.
    pub fn kernel_count(&self) -> usize {
        self.lowered.steps.len()
    }

    /// The kernels' shaders, in launch order.
    pub fn kernels(&self) -> impl Iterator<Item = &GpuKernel> {
        self.lowered.steps.iter().map(|s| &s.kernel.kernel)
    }

    /// Concatenations so far whose new rows were copied after their input's
    /// in its buffer (a returned KV cache grown in place; see `Append`)
    /// instead of copying the whole input.
    pub fn appended_in_place(&self) -> u64 {
        self.appended_in_place.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Of [`GpuExecutable::appended_in_place`], the appends whose new rows
    /// the step computing them wrote into the cache directly (no copy).
    pub fn written_in_place(&self) -> u64 {
        self.written_in_place.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Let go of the bind groups kept for steps that bind a caller's KV
    /// cache (grown in place), which hold its buffer until a call binds
    /// another: for when the sequence is done (`kiln_llm_zoo`'s `Session`
    /// does it when dropped, so a new sequence's cache never has to fit
    /// beside the last one's). The next call makes them again.
    pub fn forget_callers_buffers(&self) {
        for kept in self.bind_groups.lock().unwrap_or_else(|p| p.into_inner()).iter_mut() {
            if kept.as_ref().is_some_and(|k| k.2) {
                *kept = None;
            }
        }
    }

    /// Bind groups its calls have made so far: a step whose buffers are
    /// those of the call before (parameters, the plan's slots, small host
    /// inputs, caches grown in place) keeps its group.
    pub fn bind_groups_made(&self) -> u64 {
        self.bind_groups_made.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Kernels launched per call that run without wgpu's run-time checks
    /// (proven in bounds).
    pub fn unchecked_kernel_count(&self) -> usize {
        self.lowered.steps.iter().filter(|s| s.kernel.unchecked).count()
    }

    /// Bytes of intermediate buffers under `bindings`: with the memory plan,
    /// and if every value had its own buffer.
    pub fn intermediate_bytes(&self, bindings: &Bindings) -> Result<(u64, u64), RuntimeError> {
        let sizes = self.lowered.value_sizes(bindings, &self.func.name)?;
        Ok((self.lowered.slot_sizes(&sizes).iter().sum(), sizes.iter().sum()))
    }

    /// Run with host inputs and parameters; outputs are read back. Uploads
    /// the parameters on every call: a [`GpuModule`] keeps them resident.
    pub fn run(&self, inputs: &[HostTensor], params: &HashMap<String, HostTensor>, bindings: &Bindings) -> Result<Vec<HostTensor>, RuntimeError> {
        let mut resident = HashMap::new();
        for (name, t) in params {
            if self.func.params().iter().any(|(_, n, _)| n == name) {
                resident.insert(name.clone(), self.gpu.upload(name, t)?);
            }
        }
        let inputs: Vec<Value> = inputs.iter().cloned().map(Value::Host).collect();
        self.run_values(&inputs, &resident, bindings)?.iter().map(Value::to_host).collect()
    }

    /// Whether input `i`, when small and on the host, goes to a buffer kept
    /// between calls: where the function neither returns it (the caller
    /// would hold a buffer the next call overwrites) nor appends to it (an
    /// append may grow its input's buffer in place).
    fn keeps_input(&self, i: usize) -> bool {
        !self.lowered.outputs.contains(&Loc::Input(i)) && !self.appends.iter().flatten().any(|a| a.input == i)
    }

    /// Run on values wherever they are (host inputs are uploaded); outputs
    /// stay on the GPU.
    pub fn run_values(&self, inputs: &[Value], params: &HashMap<String, GpuTensor>, bindings: &Bindings) -> Result<Vec<Value>, RuntimeError> {
        self.run_inner(inputs, params, bindings, false).map(|(out, _)| out)
    }

    /// [`GpuExecutable::run_values`], also returning each kernel's time on
    /// the GPU (from timestamp queries; the device must support them, see
    /// [`GpuDevice::has_timestamps`]), in launch order: between timestamps
    /// written before and after its dispatch in the passes a plain run
    /// records (one submission), or where the device cannot write them
    /// inside passes, of a pass of its own. An append's copy is not timed
    /// (its time is that of an empty pass).
    pub fn run_profiled(&self, inputs: &[Value], params: &HashMap<String, GpuTensor>, bindings: &Bindings) -> Result<(Vec<Value>, Vec<Duration>), RuntimeError> {
        if !self.gpu.has_timestamps() {
            return Err(gpu_error(format!("{} has no timestamp queries, so kernels cannot be timed on it", self.gpu.info().name)));
        }
        self.run_inner(inputs, params, bindings, true)
    }

    /// A call from the [`GpuModule`] whose unchanging `params` these are:
    /// after one call has checked them, the next check only the inputs.
    fn run_module(&self, inputs: &[Value], params: &HashMap<String, GpuTensor>, bindings: &Bindings, profile: bool) -> Result<(Vec<Value>, Vec<Duration>), RuntimeError> {
        use std::sync::atomic::Ordering::Relaxed;
        if profile && !self.gpu.has_timestamps() {
            return Err(gpu_error(format!("{} has no timestamp queries, so kernels cannot be timed on it", self.gpu.info().name)));
        }
        let checked = self.module_params_checked.load(Relaxed);
        let out = self.run_checked(inputs, params, bindings, profile, checked)?;
        if !checked && self.constant_params {
            self.module_params_checked.store(true, Relaxed);
        }
        Ok(out)
    }

    fn run_inner(&self, inputs: &[Value], params: &HashMap<String, GpuTensor>, bindings: &Bindings, profile: bool) -> Result<(Vec<Value>, Vec<Duration>), RuntimeError> {
        self.run_checked(inputs, params, bindings, profile, false)
    }

    /// A call; `params_checked`: the parameters passed a call before and
    /// are the same (constant shapes), so only the inputs are checked.
    fn run_checked(&self, inputs: &[Value], params: &HashMap<String, GpuTensor>, bindings: &Bindings, profile: bool, params_checked: bool) -> Result<(Vec<Value>, Vec<Duration>), RuntimeError> {
        let started = std::time::Instant::now();
        let g = &self.gpu;
        g.check()?;
        g.inner.recycled.next_call();
        let descs: Vec<TensorDesc> = inputs.iter().map(Value::desc).collect();
        let b = if params_checked {
            self.func.bind_inputs_with(&self.shape_checks, &descs, bindings)?
        } else {
            self.func.bind_shapes_with(&self.shape_checks, &descs, &|name| params.get(name).map(|t| TensorDesc { dtype: t.dtype, shape: &t.shape, bytes: t.bytes() }), bindings)?
        };
        // small host inputs (a step's tokens and positions) go to buffers
        // kept between calls: no buffer made a call, and steps binding them
        // keep their bind groups. Held until the call's last submission: a
        // write waits for the next submission, which must be this call's
        let mut kept = self.host_inputs.lock().unwrap_or_else(|p| p.into_inner());
        let mut kept_inputs = Vec::new();
        let inputs: Vec<GpuTensor> = inputs
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::Gpu(t) => Ok(t.clone()),
                Value::Host(t) if t.data.len() <= KEPT_INPUT_BYTES && self.keeps_input(i) => {
                    let label = format!("{} input {i}", self.func.name);
                    let data = g.device_bytes(&label, t)?;
                    let slot = &mut kept[i];
                    if slot.as_ref().is_none_or(|b| b.size() < data.len().max(4) as u64) {
                        *slot = Some(g.buffer(&label, KEPT_INPUT_BYTES.max(data.len()) as u64, STORAGE)?);
                    }
                    let buffer = slot.clone().expect("made above");
                    g.write(&buffer, &data);
                    kept_inputs.push(i);
                    Ok(GpuTensor { dtype: t.dtype, shape: t.shape.clone(), buffer: Arc::new(buffer.into()), gpu: g.clone() })
                }
                Value::Host(t) => g.upload(&format!("{} input {i}", self.func.name), t),
            })
            .collect::<Result<_, RuntimeError>>()?;
        let sizes = self.lowered.value_sizes(&b, &self.func.name)?;
        let slot_sizes = self.lowered.slot_sizes(&sizes);
        // outputs escape the call: each gets its own buffer, or appends to
        // an input's (the offset and bytes of the copy, per step; or the
        // binding a producer writes the rows through, per producer step)
        let mut own: HashMap<usize, Arc<PooledBuffer>> = HashMap::new();
        // inputs grown in place and the values they become: the caller's
        // buffer from call to call, so bind groups binding it are kept
        let (mut grown_inputs, mut grown_values) = (Vec::new(), Vec::new());
        let mut copies: Vec<Option<(u64, u64)>> = vec![None; self.lowered.steps.len()];
        let mut written_into: Vec<Option<(usize, u64, u64)>> = vec![None; self.lowered.steps.len()];
        let binding_align = g.inner.limits.min_storage_buffer_offset_alignment.max(4) as u64;
        for (i, a) in self.appends.iter().enumerate() {
            let Some(a) = a else { continue };
            let (t, out) = (&inputs[a.input], self.lowered.steps[i].out);
            let (old, need) = (t.bytes() as u64, sizes[out]);
            // the caller's value and `inputs` hold it, nothing else
            if Arc::strong_count(&t.buffer) == 2 && t.buffer.buffer.size() >= need && need > old {
                own.insert(out, t.buffer.clone());
                grown_inputs.push(a.input);
                grown_values.push(out);
                match a.producer {
                    // (dynamic offsets are 32-bit)
                    Some(p) if old % binding_align == 0 && old <= u64::from(u32::MAX) => {
                        written_into[p] = Some((out, old, need - old));
                        self.written_in_place.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    _ => copies[i] = Some((old, need - old)),
                }
                self.appended_in_place.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            } else {
                let room = ((need as f64 * APPEND_ROOM) as u64).div_ceil(4) * 4;
                own.insert(out, g.output_buffer(&format!("{} output", self.func.name), room)?);
            }
        }
        for loc in &self.lowered.outputs {
            if let Loc::Value(v) = loc {
                if !own.contains_key(v) {
                    own.insert(*v, g.output_buffer(&format!("{} output", self.func.name), sizes[*v])?);
                }
            }
        }
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        for (slot, &need) in slot_sizes.iter().enumerate() {
            if self.lowered.plan.slots[slot].iter().all(|&v| self.lowered.values[v].returned()) {
                continue; // returned values have buffers of their own (above)
            }
            let have = pool[slot].as_ref().map_or(0, |buf| buf.size());
            if have < need {
                // grow geometrically: attention's values grow with the context
                let limit = (g.inner.limits.max_storage_buffer_binding_size as u64).min(g.inner.limits.max_buffer_size);
                let size = need.max(have * 2).min(limit.max(need));
                pool[slot] = Some(g.buffer(&format!("{} slot {slot}", self.func.name), size, STORAGE)?);
            }
        }
        // an append whose producer writes the rows: nothing to run
        let done_by_producer = |i: usize| self.appends[i].and_then(|a| a.producer).is_some_and(|p| written_into[p].is_some());
        let value_buffer = |v: usize| -> &wgpu::Buffer { own.get(&v).map(|b| &b.buffer).unwrap_or_else(|| pool[self.lowered.plan.slot_of[v]].as_ref().expect("slots are made above")) };
        // the steps' dims in one buffer, each distinct list once, at
        // aligned offsets (most steps share a few: none, or the context's)
        let align = g.inner.limits.min_storage_buffer_offset_alignment.max(4) as usize;
        let mut dims_bytes = Vec::new();
        let mut offsets: HashMap<Vec<i32>, u64> = HashMap::new();
        let mut list_at = Vec::with_capacity(self.dims_lists.len());
        for list in &self.dims_lists {
            let mut values = Vec::with_capacity(list.symbols.len());
            for sym in &list.symbols {
                if let Some(kernel) = list.unchecked_kernel.as_ref().filter(|_| b[sym] < 1) {
                    return Err(gpu_error(format!(
                        "dim `{sym}` is {} in kernel `{kernel}`, which runs without run-time checks because its accesses are proven in bounds only for dims of at least 1 (KILN_GPU_DISABLE=trusted runs every kernel checked)",
                        b[sym]
                    )));
                }
                values.push(b[sym] as i32);
            }
            let at = *offsets.entry(values).or_insert_with_key(|values| {
                let at = dims_bytes.len() as u64;
                dims_bytes.extend(values.iter().flat_map(|v| v.to_le_bytes()));
                dims_bytes.resize((dims_bytes.len() + 4).div_ceil(align) * align, 0);
                at
            });
            list_at.push(at);
        }
        let dims_at: Vec<u64> = self.dims_list_of.iter().map(|&l| list_at[l]).collect();
        let mut dims_slot = self.dims.lock().unwrap_or_else(|p| p.into_inner());
        if dims_slot.as_ref().is_none_or(|d| d.size() < dims_bytes.len() as u64) {
            *dims_slot = Some(g.buffer("dims", dims_bytes.len() as u64, STORAGE)?);
        }
        let dims = dims_slot.clone().expect("made above");
        drop(dims_slot);
        g.inner.queue.write_buffer(&dims, 0, &dims_bytes);
        let dev = &g.inner.device;
        let steps = self.lowered.steps.len();
        let mut cache = self.bind_groups.lock().unwrap_or_else(|p| p.into_inner());
        let mut groups_made = 0usize;
        // step i's bind group: the cached one where its bindings are the same
        let mut bind_group = |i: usize| -> Result<wgpu::BindGroup, RuntimeError> {
            let s = &self.lowered.steps[i];
            let k = &s.kernel.kernel;
            let mut buffers: Vec<BindingKey> = Vec::new();
            let arg_buffer = |a: &Loc| match a {
                Loc::Input(i) => &inputs[*i].buffer.buffer,
                Loc::Param(n) => &params[n.as_str()].buffer.buffer,
                Loc::Value(v) => value_buffer(*v),
            };
            let whole = |buffer: &wgpu::Buffer| -> Result<BindingKey, RuntimeError> {
                let b = g.whole_binding(&k.name, buffer)?;
                Ok((buffer.clone(), b.offset, b.size))
            };
            for (a, &ranges) in s.args.iter().zip(&k.ranges) {
                let buffer = arg_buffer(a);
                if ranges == 1 {
                    buffers.push(whole(buffer)?);
                    continue;
                }
                let range_bytes = 4 * k.target.range_words as u64;
                for r in 0..ranges as u64 {
                    let offset = r * range_bytes;
                    buffers.push((buffer.clone(), offset, std::num::NonZeroU64::new(range_bytes.min(buffer.size().saturating_sub(offset)))));
                }
            }
            match written_into[i] {
                // (the offset given when the group is set)
                Some((cache, _, bytes)) => buffers.push((own[&cache].buffer.clone(), 0, std::num::NonZeroU64::new(bytes))),
                None if s.kernel.dynamic_output => buffers.push((value_buffer(s.out).clone(), 0, std::num::NonZeroU64::new(sizes[s.out]))),
                None => buffers.push(whole(value_buffer(s.out))?),
            }
            let dims_len = (4 * k.symbols.len()).max(4) as u64;
            buffers.push((dims.clone(), dims_at[i], std::num::NonZeroU64::new(dims_len)));
            for &v in &k.vector_views {
                buffers.push(whole(arg_buffer(&s.args[v]))?);
            }
            if let Some((key, group, _)) = &cache[i] {
                if *key == buffers {
                    return Ok(group.clone());
                }
            }
            let entries: Vec<wgpu::BindGroupEntry> = buffers
                .iter()
                .enumerate()
                .map(|(i, (buffer, offset, size))| wgpu::BindGroupEntry { binding: i as u32, resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding { buffer, offset: *offset, size: *size }) })
                .collect();
            let group = dev.create_bind_group(&wgpu::BindGroupDescriptor { label: Some(&k.name), layout: &s.kernel.layout, entries: &entries });
            groups_made += 1;
            // a call's inputs and returned values are new buffers each call:
            // not kept (a cached group would keep them alive), but for
            // caches grown in place (a row written into one is bound at a
            // dynamic offset) and small host inputs kept
            let per_call = s.args.iter().chain([&Loc::Value(s.out)]).any(|a| match a {
                Loc::Input(i) => !grown_inputs.contains(i) && !kept_inputs.contains(i),
                Loc::Value(v) => own.contains_key(v) && !grown_values.contains(v),
                Loc::Param(_) => false,
            });
            let holds_cache = s.args.iter().any(|a| matches!(a, Loc::Input(i) if grown_inputs.contains(i)) || matches!(a, Loc::Value(v) if grown_values.contains(v))) || written_into[i].is_some();
            cache[i] = (!per_call).then(|| (buffers, group.clone(), holds_cache));
            Ok(group)
        };
        let dispatch = |i: usize| -> Result<[u32; 3], RuntimeError> {
            let k = &self.lowered.steps[i].kernel.kernel;
            Ok(k.dispatch(&b).map_err(|sym| kiln_dsl::GraphError::UnboundDim { op: k.name.clone(), sym })?)
        };
        let record = |pass: &mut wgpu::ComputePass, i: usize, group: &wgpu::BindGroup, [x, y, z]: [u32; 3]| {
            if x > 0 && y > 0 && z > 0 {
                let step = &self.lowered.steps[i].kernel;
                pass.set_pipeline(&step.pipeline);
                // (below u32::MAX: written in place only then)
                let offset = [written_into[i].map_or(0, |(_, offset, _)| offset as u32)];
                pass.set_bind_group(0, group, if step.dynamic_output { &offset[..] } else { &[] });
                pass.dispatch_workgroups(x, y, z);
            }
        };
        // an append in place: the new rows after the input's
        let append = |encoder: &mut wgpu::CommandEncoder, i: usize| {
            let (s, (offset, bytes)) = (&self.lowered.steps[i], copies[i].expect("an append in place"));
            let rows = self.appends[i].expect("an append").rows;
            encoder.copy_buffer_to_buffer(value_buffer(rows), 0, &own[&s.out].buffer, offset, bytes);
        };
        let recording = std::time::Instant::now();
        let queries = profile.then(|| dev.create_query_set(&wgpu::QuerySetDescriptor { label: Some("kernel times"), ty: wgpu::QueryType::Timestamp, count: (2 * steps as u32).max(2) }));
        let mut encoder = dev.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(&self.func.name) });
        // step i's pass, timed at its start and end
        fn timed_pass<'e>(encoder: &'e mut wgpu::CommandEncoder, q: &wgpu::QuerySet, i: usize, label: &str) -> wgpu::ComputePass<'e> {
            let timestamp_writes = wgpu::ComputePassTimestampWrites { query_set: q, beginning_of_pass_write_index: Some(2 * i as u32), end_of_pass_write_index: Some(2 * i as u32 + 1) };
            encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(label), timestamp_writes: Some(timestamp_writes) })
        }
        let label = |i: usize| self.lowered.steps[i].kernel.kernel.name.as_str();
        match &queries {
            // a pass per kernel (an append in place: an empty pass, then its
            // copy if its producer did not write the rows), where timestamps
            // cannot go between dispatches
            Some(q) if !g.inner.timestamps_inside_passes => {
                for i in 0..steps {
                    let mut pass = timed_pass(&mut encoder, q, i, label(i));
                    if copies[i].is_none() && !done_by_producer(i) {
                        record(&mut pass, i, &bind_group(i)?, dispatch(i)?);
                    }
                    drop(pass);
                    if copies[i].is_some() {
                        append(&mut encoder, i);
                    }
                }
            }
            // passes of consecutive dispatches, ordered by wgpu's usage
            // tracking, submitted as they are recorded; in a profile, one
            // submission with a timestamp before and after each dispatch
            _ => {
                let every = match &queries {
                    Some(_) => 0,
                    None => std::env::var("KILN_GPU_SUBMIT_EVERY").ok().and_then(|v| v.parse::<usize>().ok()).unwrap_or(SUBMIT_EVERY),
                };
                let every = if every == 0 { steps.max(1) } else { every };
                let (mut i, mut recorded) = (0, 0);
                while i < steps {
                    if copies[i].is_some() {
                        // (in a profile an empty pass timed before the copy)
                        if let Some(q) = &queries {
                            drop(timed_pass(&mut encoder, q, i, label(i)));
                        }
                        append(&mut encoder, i);
                        i += 1;
                        continue;
                    }
                    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(&self.func.name), timestamp_writes: None });
                    while i < steps && copies[i].is_none() && recorded < every {
                        if let Some(q) = &queries {
                            pass.write_timestamp(q, 2 * i as u32);
                        }
                        if !done_by_producer(i) {
                            record(&mut pass, i, &bind_group(i)?, dispatch(i)?);
                            recorded += 1;
                        }
                        if let Some(q) = &queries {
                            pass.write_timestamp(q, 2 * i as u32 + 1);
                        }
                        i += 1;
                    }
                    drop(pass);
                    if recorded == every && i < steps {
                        let done = std::mem::replace(&mut encoder, dev.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(&self.func.name) }));
                        g.inner.queue.submit([done.finish()]);
                        recorded = 0;
                    }
                }
            }
        }
        drop(cache);
        self.bind_groups_made.fetch_add(groups_made as u64, std::sync::atomic::Ordering::Relaxed);
        let steps = steps as u32;
        let resolved = match &queries {
            Some(q) => {
                let resolve = dev.create_buffer(&wgpu::BufferDescriptor { label: Some("timestamps"), size: 16 * steps.max(1) as u64, usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC, mapped_at_creation: false });
                encoder.resolve_query_set(q, 0..2 * steps, &resolve, 0);
                Some(resolve)
            }
            None => None,
        };
        let submitting = std::time::Instant::now();
        g.inner.queue.submit([encoder.finish()]);
        if trace_calls() {
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            eprintln!(
                "kiln: {} on the CPU: {:.3} ms preparing, {:.3} ms recording {steps} dispatches ({groups_made} bind groups made), {:.3} ms submitting the last",
                self.func.name,
                ms(recording - started),
                ms(submitting - recording),
                ms(submitting.elapsed())
            );
        }
        g.check()?;
        drop(pool);
        drop(kept);
        let times = match resolved {
            Some(resolve) => {
                let t = GpuTensor { dtype: DType::I32, shape: vec![4 * steps as usize], buffer: Arc::new(resolve.into()), gpu: g.clone() }.to_host()?;
                let ticks: Vec<u64> = t.data.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))).collect();
                let period = g.inner.queue.get_timestamp_period() as f64;
                ticks.chunks_exact(2).map(|p| Duration::from_nanos((p[1].saturating_sub(p[0]) as f64 * period) as u64)).collect()
            }
            None => Vec::new(),
        };
        let mut out = Vec::new();
        for (loc, id) in self.lowered.outputs.iter().zip(&self.func.outputs) {
            let ty = &self.func.node(*id).ty;
            let shape: Vec<usize> = ty.shape.iter().map(|d| d.eval(&b).unwrap_or(0) as usize).collect();
            out.push(Value::Gpu(match loc {
                Loc::Input(i) => inputs[*i].clone(),
                Loc::Param(n) => params[n.as_str()].clone(),
                Loc::Value(v) => GpuTensor { dtype: ty.dtype, shape, buffer: own[v].clone(), gpu: g.clone() },
            }));
        }
        Ok((out, times))
    }
}

/// Every function of a module compiled for one GPU, with the parameters
/// uploaded once and shared.
pub struct GpuModule {
    gpu: GpuDevice,
    functions: HashMap<String, GpuExecutable>,
    params: HashMap<String, GpuTensor>,
}

impl std::fmt::Debug for GpuModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuModule").field("device", &self.gpu.info().name).field("functions", &self.functions.keys().collect::<Vec<_>>()).finish()
    }
}

impl GpuModule {
    /// Compile every function of `module` for `gpu` and upload `params`,
    /// which must give every declared parameter with its declared type.
    pub fn compile(module: &Module, params: &HashMap<String, HostTensor>, gpu: &GpuDevice, options: &CompileOptions) -> Result<GpuModule, RuntimeError> {
        crate::cpu::check_params(module, params)?;
        let (rewritten, params) = options.rewrite_module(module, Some(params))?;
        let functions = rewritten.into_iter().map(|(f, report)| Ok((f.name.clone(), GpuExecutable::compile_rewritten(f, report, gpu, options)?))).collect::<Result<_, RuntimeError>>()?;
        let mut resident = HashMap::new();
        let mut names: Vec<&String> = params.keys().collect();
        names.sort(); // (upload order does not matter; a fixed one keeps runs alike)
        for name in names {
            resident.insert(name.clone(), gpu.upload(name, &params[name])?);
        }
        gpu.wait()?;
        Ok(GpuModule { gpu: gpu.clone(), functions, params: resident })
    }

    /// The device it runs on.
    pub fn device(&self) -> &GpuDevice {
        &self.gpu
    }

    /// Run function `name`; outputs stay on the GPU.
    pub fn run(&self, name: &str, inputs: &[Value], bindings: &Bindings) -> Result<Vec<Value>, RuntimeError> {
        self.function(name)?.run_module(inputs, &self.params, bindings, false).map(|(out, _)| out)
    }

    /// [`GpuModule::run`], also returning each kernel's GPU time.
    pub fn run_profiled(&self, name: &str, inputs: &[Value], bindings: &Bindings) -> Result<(Vec<Value>, Vec<Duration>), RuntimeError> {
        self.function(name)?.run_module(inputs, &self.params, bindings, true)
    }

    /// [`GpuExecutable::forget_callers_buffers`] for every function.
    pub fn forget_callers_buffers(&self) {
        self.functions.values().for_each(GpuExecutable::forget_callers_buffers);
    }

    /// A compiled function by name.
    pub fn function(&self, name: &str) -> Result<&GpuExecutable, RuntimeError> {
        self.functions.get(name).ok_or_else(|| RuntimeError::NoSuchFunction(name.into()))
    }

    /// Bytes of parameters resident on the device.
    pub fn param_bytes(&self) -> u64 {
        self.params.values().map(|t| t.bytes() as u64).sum()
    }
}
