//! The GPU executor (first slice of the GPU backend): a function over f32
//! and i32 tensors runs as compute shaders on a wgpu device, the whole call
//! recorded in one command encoder.

use crate::error::RuntimeError;
use kiln_codegen::gpu::{lower, GpuKernel, ROW_GROUPS, WORKGROUP};
use kiln_dsl::{product, Bindings, DType, Dim, Function, HostTensor, NodeKind};
use kiln_schedule::LoopNest;
use std::borrow::Cow;
use std::collections::HashMap;

fn gpu_error(message: impl Into<String>) -> RuntimeError {
    RuntimeError::Gpu { message: message.into() }
}

/// An opened GPU: a wgpu device and its queue.
pub struct GpuDevice {
    device: wgpu::Device,
    queue: wgpu::Queue,
    /// What the adapter says of itself.
    pub info: wgpu::AdapterInfo,
}

impl std::fmt::Debug for GpuDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuDevice").field("info", &self.info).finish()
    }
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

impl GpuDevice {
    /// Open adapter `index` of [`gpu_adapters`] (0: the most capable).
    pub fn open(index: usize) -> Result<GpuDevice, RuntimeError> {
        let adapters = gpu_adapters();
        let count = adapters.len();
        let adapter = adapters.into_iter().nth(index).ok_or_else(|| {
            gpu_error(if count == 0 {
                "no GPU adapter found (no Vulkan or Metal driver; on Debian, `apt-get install mesa-vulkan-drivers` gives the lavapipe CPU device)".to_string()
            } else {
                format!("no GPU adapter {index}: there are {count}")
            })
        })?;
        let info = adapter.get_info();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("kiln"),
            required_limits: adapter.limits(),
            ..Default::default()
        }))
        .map_err(|e| gpu_error(format!("opening {}: {e}", info.name)))?;
        Ok(GpuDevice { device, queue, info })
    }
}

/// Where a kernel argument lives.
#[derive(Clone, Debug)]
enum Loc {
    Input(usize),
    Param(String),
    Value(usize),
}

struct GpuStep {
    kernel: GpuKernel,
    pipeline: wgpu::ComputePipeline,
    args: Vec<Loc>,
    out: usize,
}

/// A function compiled for a GPU.
pub struct GpuExecutable {
    func: Function,
    steps: Vec<GpuStep>,
    values: Vec<(DType, Vec<Dim>)>,
    outputs: Vec<Loc>,
}

impl std::fmt::Debug for GpuExecutable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuExecutable").field("function", &self.func.name).field("kernels", &self.steps.len()).finish()
    }
}

impl GpuExecutable {
    /// Compile every op of `func` to compute shaders for `gpu`.
    pub fn compile(func: &Function, gpu: &GpuDevice) -> Result<GpuExecutable, RuntimeError> {
        func.verify()?;
        let mut steps = Vec::new();
        let mut values: Vec<(DType, Vec<Dim>)> = Vec::new();
        let mut loc_of: Vec<Option<Loc>> = vec![None; func.nodes.len()];
        let mut input_no = 0;
        for (i, node) in func.nodes.iter().enumerate() {
            let loc = match &node.kind {
                NodeKind::Input(_) => {
                    input_no += 1;
                    Loc::Input(input_no - 1)
                }
                NodeKind::Param(name) => Loc::Param(name.clone()),
                NodeKind::Op(op) => {
                    let in_tys: Vec<_> = node.inputs.iter().map(|x| func.node(*x).ty.clone()).collect();
                    let stages = op.compute(&in_tys, &node.ty);
                    let mut args: Vec<Loc> = node.inputs.iter().map(|x| loc_of[x.0 as usize].clone().expect("operands precede users")).collect();
                    let mut src_types: Vec<(DType, Vec<Dim>)> = in_tys.iter().map(|t| (t.dtype, t.shape.clone())).collect();
                    let mut last = None;
                    for stage in &stages {
                        let nest = LoopNest::from_stage(stage, &src_types)?.validate()?;
                        let kernel = lower(&nest)?;
                        let module = gpu.device.create_shader_module(wgpu::ShaderModuleDescriptor { label: Some(&kernel.name), source: wgpu::ShaderSource::Naga(Cow::Owned(kernel.module.clone())) });
                        // every binding in the layout, used by the shader or not
                        // (a kernel without symbolic dims never reads `dims`)
                        let entry = |binding: u32, read_only: bool| wgpu::BindGroupLayoutEntry {
                            binding,
                            visibility: wgpu::ShaderStages::COMPUTE,
                            ty: wgpu::BindingType::Buffer { ty: wgpu::BufferBindingType::Storage { read_only }, has_dynamic_offset: false, min_binding_size: None },
                            count: None,
                        };
                        let n = kernel.sources as u32;
                        let entries: Vec<_> = (0..n).map(|i| entry(i, true)).chain([entry(n, false), entry(n + 1, true)]).collect();
                        let group_layout = gpu.device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some(&kernel.name), entries: &entries });
                        let layout = gpu.device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor { label: Some(&kernel.name), bind_group_layouts: &[Some(&group_layout)], immediate_size: 0 });
                        let pipeline = gpu.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                            label: Some(&kernel.name),
                            layout: Some(&layout),
                            module: &module,
                            entry_point: Some("main"),
                            compilation_options: Default::default(),
                            cache: None,
                        });
                        values.push((stage.dtype, stage.shape.clone()));
                        let out = values.len() - 1;
                        steps.push(GpuStep { kernel, pipeline, args: args.clone(), out });
                        args.push(Loc::Value(out));
                        src_types.push((stage.dtype, stage.shape.clone()));
                        last = Some(out);
                    }
                    Loc::Value(last.ok_or_else(|| kiln_dsl::GraphError::Invalid { node: i, message: format!("op `{}` defines no stage", op.name()) })?)
                }
            };
            loc_of[i] = Some(loc);
        }
        let outputs = func.outputs.iter().map(|o| loc_of[o.0 as usize].clone().expect("outputs are nodes")).collect();
        Ok(GpuExecutable { func: func.clone(), steps, values, outputs })
    }

    /// Kernels launched per call.
    pub fn kernel_count(&self) -> usize {
        self.steps.len()
    }

    /// The kernels' shaders, in launch order.
    pub fn kernels(&self) -> impl Iterator<Item = &GpuKernel> {
        self.steps.iter().map(|s| &s.kernel)
    }

    /// Run on `gpu` with `inputs` (the function's input order), module
    /// parameters `params` and bindings for symbolic dims no input gives.
    pub fn run(&self, gpu: &GpuDevice, inputs: &[HostTensor], params: &HashMap<String, HostTensor>, bindings: &Bindings) -> Result<Vec<HostTensor>, RuntimeError> {
        let b = self.func.bind_dims(inputs, params, bindings)?;
        let dev = &gpu.device;
        let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        let upload = |label: &str, bytes: &[u8]| {
            // wgpu buffers are at least 4 bytes and a multiple of 4
            let size = (bytes.len().max(4) as u64).div_ceil(4) * 4;
            let buf = dev.create_buffer(&wgpu::BufferDescriptor { label: Some(label), size, usage, mapped_at_creation: false });
            let mut padded = bytes.to_vec();
            padded.resize(size as usize, 0);
            gpu.queue.write_buffer(&buf, 0, &padded);
            buf
        };
        let inputs_buf: Vec<wgpu::Buffer> = inputs.iter().enumerate().map(|(i, t)| upload(&format!("input {i}"), &t.data)).collect();
        let mut params_buf: HashMap<&str, wgpu::Buffer> = HashMap::new();
        for s in &self.steps {
            for a in &s.args {
                if let Loc::Param(name) = a {
                    if !params_buf.contains_key(name.as_str()) {
                        let t = params.get(name).ok_or_else(|| kiln_dsl::GraphError::Invalid { node: 0, message: format!("parameter `{name}` not given") })?;
                        params_buf.insert(name, upload(name, &t.data));
                    }
                }
            }
        }
        let sizes: Vec<u64> = self
            .values
            .iter()
            .map(|(dt, shape)| {
                let n = product(shape).eval(&b).map_err(|sym| kiln_dsl::GraphError::UnboundDim { op: self.func.name.clone(), sym })?;
                Ok((n.max(0) as u64 * dt.block_bytes() as u64).max(4).div_ceil(4) * 4)
            })
            .collect::<Result<_, RuntimeError>>()?;
        let max_binding = dev.limits().max_storage_buffer_binding_size;
        if let Some(big) = sizes.iter().find(|&&s| s > max_binding) {
            return Err(gpu_error(format!("a {big}-byte buffer is above this device's max_storage_buffer_binding_size of {max_binding} bytes")));
        }
        let value_buf: Vec<wgpu::Buffer> = sizes.iter().enumerate().map(|(i, &size)| dev.create_buffer(&wgpu::BufferDescriptor { label: Some(&format!("value {i}")), size, usage, mapped_at_creation: false })).collect();
        let mut encoder = dev.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(&self.func.name) });
        let mut keep = Vec::new();
        for s in &self.steps {
            let dims: Vec<i32> = s.kernel.symbols.iter().map(|sym| b[sym] as i32).collect();
            let dims_bytes: Vec<u8> = dims.iter().flat_map(|d| d.to_le_bytes()).collect();
            let dims_buf = upload("dims", &dims_bytes);
            let mut buffers: Vec<&wgpu::Buffer> = s
                .args
                .iter()
                .take(s.kernel.sources)
                .map(|a| match a {
                    Loc::Input(i) => &inputs_buf[*i],
                    Loc::Param(n) => &params_buf[n.as_str()],
                    Loc::Value(v) => &value_buf[*v],
                })
                .collect();
            buffers.push(&value_buf[s.out]);
            buffers.push(&dims_buf);
            let layout = s.pipeline.get_bind_group_layout(0);
            let entries: Vec<wgpu::BindGroupEntry> = buffers.iter().enumerate().map(|(i, buf)| wgpu::BindGroupEntry { binding: i as u32, resource: buf.as_entire_binding() }).collect();
            let group = dev.create_bind_group(&wgpu::BindGroupDescriptor { label: Some(&s.kernel.name), layout: &layout, entries: &entries });
            let n = kiln_schedule::eval_int(&s.kernel.outputs, &b).map_err(|sym| kiln_dsl::GraphError::UnboundDim { op: s.kernel.name.clone(), sym })?.max(0) as u64;
            let groups = n.div_ceil(WORKGROUP as u64);
            let (x, y) = if groups <= ROW_GROUPS as u64 { (groups as u32, 1) } else { (ROW_GROUPS, groups.div_ceil(ROW_GROUPS as u64) as u32) };
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(&s.kernel.name), timestamp_writes: None });
                pass.set_pipeline(&s.pipeline);
                pass.set_bind_group(0, &group, &[]);
                if n > 0 {
                    pass.dispatch_workgroups(x, y, 1);
                }
            }
            keep.push(dims_buf);
        }
        // read the outputs back
        let mut readbacks = Vec::new();
        for loc in &self.outputs {
            if let Loc::Value(v) = loc {
                let staging = dev.create_buffer(&wgpu::BufferDescriptor { label: Some("readback"), size: sizes[*v], usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST, mapped_at_creation: false });
                encoder.copy_buffer_to_buffer(&value_buf[*v], 0, &staging, 0, sizes[*v]);
                readbacks.push(Some(staging));
            } else {
                readbacks.push(None);
            }
        }
        gpu.queue.submit([encoder.finish()]);
        let mut out = Vec::new();
        for ((loc, id), staging) in self.outputs.iter().zip(&self.func.outputs).zip(readbacks) {
            let ty = &self.func.node(*id).ty;
            let shape: Vec<usize> = ty.shape.iter().map(|d| d.eval(&b).unwrap_or(0) as usize).collect();
            out.push(match (loc, staging) {
                (Loc::Input(i), _) => inputs[*i].clone(),
                (Loc::Param(n), _) => params[n].clone(),
                (Loc::Value(_), Some(staging)) => {
                    let slice = staging.slice(..);
                    let (tx, rx) = std::sync::mpsc::channel();
                    slice.map_async(wgpu::MapMode::Read, move |r| {
                        let _ = tx.send(r);
                    });
                    dev.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| gpu_error(format!("waiting for the GPU: {e}")))?;
                    rx.recv().map_err(|e| gpu_error(e.to_string()))?.map_err(|e| gpu_error(format!("reading back: {e}")))?;
                    let bytes = shape.iter().product::<usize>() * ty.dtype.block_bytes();
                    let data = slice.get_mapped_range().map_err(|e| gpu_error(format!("reading back: {e}")))?[..bytes].to_vec();
                    HostTensor { dtype: ty.dtype, shape, data: data.into() }
                }
                (Loc::Value(_), None) => unreachable!("a readback per value output"),
            });
        }
        Ok(out)
    }
}
