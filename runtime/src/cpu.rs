//! The CPU executor: a function compiled to a fixed sequence of JIT kernels
//! over buffers laid out by the static memory plan.

use crate::error::RuntimeError;
use crate::plan::{lower_function, Buffers, KernelSource, Loc, Lowered, WholeKernels};
use kiln_codegen::cpu::{compile, CpuKernel};
use kiln_dsl::{Bindings, Function, HostTensor, Module};
use kiln_rewrite::{CostModel, Optimizer, Report};
use kiln_schedule::{default_schedule, Knobs, LoopNest, ScheduleError, Target, TunedSchedules, Validated};
use rayon::prelude::*;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Picks the schedule of each kernel.
pub type Scheduler = Arc<dyn Fn(LoopNest) -> Result<Validated, ScheduleError> + Send + Sync>;

/// How to compile a function.
#[derive(Clone)]
pub struct CompileOptions {
    /// Schedule for each kernel; the default schedule of its class if unset.
    pub scheduler: Option<Scheduler>,
    /// Give each intermediate value its own buffer (no reuse); for measuring
    /// what the memory plan saves.
    pub disable_memory_plan: bool,
    /// Rewrite each function with this graph optimizer first (fusion: fewer
    /// kernels); `None` compiles the graph as written.
    pub optimizer: Option<Optimizer>,
    /// Knobs the autotuner stored for this device, used for the kernels
    /// whose workload they name (unless `scheduler` is set); other kernels
    /// get the default schedule.
    pub tuned: Option<Arc<TunedSchedules>>,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions { scheduler: None, disable_memory_plan: false, optimizer: None, tuned: None }
    }
}

impl CompileOptions {
    /// These options with the built-in graph optimizer for `cost` (e.g.
    /// [`CostModel::gpu`]).
    pub fn rewriting(mut self, cost: CostModel) -> CompileOptions {
        self.optimizer = Some(Optimizer::new(cost));
        self
    }

    /// `func` as the optimizer rewrites it (unchanged without one), and its
    /// report.
    pub(crate) fn rewrite(&self, func: &Function) -> Result<(Function, Option<Report>), RuntimeError> {
        match &self.optimizer {
            None => Ok((func.clone(), None)),
            Some(o) => {
                let (f, r) = o.optimize(func)?;
                Ok((f, Some(r)))
            }
        }
    }

    /// The functions of `module` as [`CpuModule::compile`] and
    /// [`GpuModule`](crate::GpuModule) compile them (rewritten, ops of
    /// parameters alone folded), without parameter values: what the
    /// autotuner takes a model's kernels from.
    pub fn module_functions(&self, module: &Module) -> Result<Vec<Function>, RuntimeError> {
        Ok(self.rewrite_module(module, None)?.0.into_iter().map(|(f, _)| f).collect())
    }

    /// Rewrite every function of `module` as a module's are: parameters are
    /// known when it is compiled, so ops of parameters alone (the merged
    /// weights of projections sharing an input) are computed once here
    /// ([`kiln_dsl::fold::fold_params`]). Returns each function rewritten
    /// and folded with its report, and the parameters the functions read:
    /// `params` and the folded ones, less those no function reads any more.
    /// Without `params`, only the functions' form (no parameter values).
    pub(crate) fn rewrite_module(&self, module: &Module, params: Option<&HashMap<String, HostTensor>>) -> Result<(Vec<(Function, Option<Report>)>, HashMap<String, HostTensor>), RuntimeError> {
        // (the functions rewrite in parallel)
        let rewritten: Vec<(Function, Option<Report>)> = match &self.optimizer {
            None => module.functions.iter().map(|f| (f.clone(), None)).collect(),
            Some(o) => o.clone().folding_params().optimize_all(&module.functions).into_iter().map(|r| r.map(|(f, report)| (f, Some(report)))).collect::<Result<_, _>>()?,
        };
        let mut made: HashMap<String, HostTensor> = HashMap::new();
        let mut functions = Vec::new();
        for (rewritten, report) in rewritten {
            let folded = match params {
                Some(params) => {
                    // (host tensors share their bytes: the merged map is cheap)
                    let known: HashMap<String, HostTensor> = params.iter().chain(&made).map(|(n, t)| (n.clone(), t.clone())).collect();
                    let (folded, new) = kiln_dsl::fold::fold_params(&rewritten, &known)?;
                    made.extend(new);
                    folded
                }
                None => kiln_dsl::fold::fold_param_ops(&rewritten)?,
            };
            functions.push((folded, report));
        }
        let used: std::collections::HashSet<&str> = functions.iter().flat_map(|(f, _)| f.params().into_iter().map(|(_, name, _)| name)).collect();
        let mut kept: HashMap<String, HostTensor> = params.into_iter().flatten().filter(|(n, _)| used.contains(n.as_str())).map(|(n, t)| (n.clone(), t.clone())).collect();
        kept.extend(made.into_iter().filter(|(n, _)| used.contains(n.as_str())));
        Ok((functions, kept))
    }

    /// Schedule `nest` with [`CompileOptions::scheduler`], else with its
    /// tuned knobs for this backend (`gpu`), else with the backend's
    /// `default` schedule. Tuned knobs that no longer fit the nest (a record
    /// from another kiln) fall back to the default.
    pub(crate) fn schedule(&self, nest: LoopNest, gpu: bool, default: impl FnOnce(LoopNest) -> Result<Validated, ScheduleError>) -> Result<Validated, ScheduleError> {
        if let Some(s) = &self.scheduler {
            return s(nest);
        }
        let Some(tuned) = &self.tuned else { return default(nest) };
        match tuned.lookup(&nest).filter(|k| matches!(k, Knobs::Gpu(_)) == gpu).map(|k| k.schedule(nest.clone(), Target::CPU)) {
            Some(Ok(v)) => {
                tuned.applied();
                Ok(v)
            }
            _ => default(nest),
        }
    }
}

impl fmt::Debug for CompileOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompileOptions")
            .field("custom_scheduler", &self.scheduler.is_some())
            .field("disable_memory_plan", &self.disable_memory_plan)
            .field("rewriting", &self.optimizer.as_ref().map(|o| o.rules.len()))
            .field("tuned_workloads", &self.tuned.as_ref().map(|t| t.len()))
            .finish()
    }
}

/// A CPU kernel and the nest it was compiled from.
#[derive(Debug)]
struct CpuStep {
    kernel: Arc<CpuKernel>,
    nest: Validated,
}

/// A function compiled for the CPU.
#[derive(Debug)]
pub struct CpuExecutable {
    func: Function,
    lowered: Lowered<CpuStep>,
    report: Option<Report>,
    /// What binding a call's shapes checks, gathered once.
    shape_checks: kiln_dsl::ShapeChecks,
}

/// kiln's thread pool (rayon's default size: one thread per core, or
/// `RAYON_NUM_THREADS`), made on first use.
fn pool() -> &'static rayon::ThreadPool {
    static POOL: std::sync::OnceLock<rayon::ThreadPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| rayon::ThreadPoolBuilder::new().thread_name(|i| format!("kiln-{i}")).build().expect("a thread pool"))
}

/// Work below this many loop iterations runs on one thread.
const PARALLEL_MIN_WORK: i64 = 1 << 14;

struct SendPtrs(Vec<*mut u8>);
// SAFETY: the pointers are only used by kernels, which write disjoint
// iteration ranges of the output and only read the other buffers.
unsafe impl Send for SendPtrs {}
unsafe impl Sync for SendPtrs {}

impl SendPtrs {
    fn get(&self) -> &[*mut u8] {
        &self.0
    }
}

impl CpuExecutable {
    /// Compile every op of `func` to CPU kernels.
    pub fn compile(func: &Function, options: &CompileOptions) -> Result<CpuExecutable, RuntimeError> {
        let (func, report) = options.rewrite(func)?;
        CpuExecutable::compile_rewritten(func, report, options)
    }

    /// Compile `func`, already rewritten (what `report` says was done).
    fn compile_rewritten(func: Function, report: Option<Report>, options: &CompileOptions) -> Result<CpuExecutable, RuntimeError> {
        // (attention ops run stage by stage here: the CPU's kernel templates
        // compute them in llama.cpp's summation order)
        let lowered = lower_function(&func, if options.disable_memory_plan { Buffers::OnePerValue } else { Buffers::SharedInPlace }, WholeKernels::default(), |source| {
            let KernelSource::Nest(nest) = source else { unreachable!("the CPU asks for no whole kernels") };
            let nest = options.schedule(nest, false, |n| Ok(default_schedule(n, Target::CPU)?.0))?;
            Ok(CpuStep { kernel: compile(&nest)?, nest })
        })?;
        let shape_checks = func.shape_checks();
        Ok(CpuExecutable { func, lowered, report, shape_checks })
    }

    /// What the graph optimizer did, if the options set one.
    pub fn rewrite_report(&self) -> Option<&Report> {
        self.report.as_ref()
    }

    /// Kernels launched per call.
    pub fn kernel_count(&self) -> usize {
        self.lowered.steps.len()
    }

    /// The scheduled loop nest of every kernel, in launch order, with the op it comes from.
    pub fn kernels(&self) -> impl Iterator<Item = (&str, &Validated)> {
        self.lowered.steps.iter().map(|s| (s.op.as_str(), &s.kernel.nest))
    }

    /// Bytes of intermediate buffers under `bindings`: with the memory plan,
    /// and if every value had its own buffer.
    pub fn intermediate_bytes(&self, bindings: &Bindings) -> Result<(u64, u64), RuntimeError> {
        let sizes = self.lowered.value_sizes(bindings, &self.func.name)?;
        Ok((self.lowered.slot_sizes(&sizes).iter().sum(), sizes.iter().sum()))
    }

    /// Run on `inputs` (in the function's input order) with module parameters
    /// `params`; `bindings` may give symbolic dims no input shape determines.
    pub fn run(&self, inputs: &[HostTensor], params: &HashMap<String, HostTensor>, bindings: &Bindings) -> Result<Vec<HostTensor>, RuntimeError> {
        self.run_inner(inputs, params, bindings, None)
    }

    /// [`CpuExecutable::run`], also returning the wall time of every kernel
    /// launch, in launch order (see [`CpuExecutable::kernels`] for what each is).
    pub fn run_profiled(&self, inputs: &[HostTensor], params: &HashMap<String, HostTensor>, bindings: &Bindings) -> Result<(Vec<HostTensor>, Vec<std::time::Duration>), RuntimeError> {
        let mut times = Vec::with_capacity(self.lowered.steps.len());
        let out = self.run_inner(inputs, params, bindings, Some(&mut times))?;
        Ok((out, times))
    }

    fn run_inner(&self, inputs: &[HostTensor], params: &HashMap<String, HostTensor>, bindings: &Bindings, mut profile: Option<&mut Vec<std::time::Duration>>) -> Result<Vec<HostTensor>, RuntimeError> {
        let descs: Vec<kiln_dsl::TensorDesc> = inputs.iter().map(kiln_dsl::TensorDesc::of).collect();
        let b = self.func.bind_shapes_with(&self.shape_checks, &descs, &|name| params.get(name).map(kiln_dsl::TensorDesc::of), bindings)?;
        let sizes = self.lowered.value_sizes(&b, &self.func.name)?;
        let plan = &self.lowered.plan;
        // 16-byte words so every buffer is aligned for f32x4.
        let mut slots: Vec<Vec<u128>> = self.lowered.slot_sizes(&sizes).iter().map(|&n| vec![0u128; n.div_ceil(16) as usize + 1]).collect();
        let slot_ptrs = SendPtrs(slots.iter_mut().map(|s| s.as_mut_ptr() as *mut u8).collect());
        let ptr = |loc: &Loc| -> *mut u8 {
            match loc {
                Loc::Input(i) => inputs[*i].data.as_ptr() as *mut u8,
                Loc::Param(name) => params[name].data.as_ptr() as *mut u8,
                Loc::Value(v) => slot_ptrs.get()[plan.slot_of[*v]],
            }
        };
        // The whole function runs on a worker of kiln's thread pool: a
        // parallel kernel launched from inside the pool costs ~0.1 us to
        // split, from outside ~10 us (measured; the caller blocks on a latch
        // and a sleeping worker has to be woken), and a decode step launches
        // some 300 parallel kernels.
        pool().install(|| -> Result<(), RuntimeError> {
            for step in &self.lowered.steps {
                let started = profile.is_some().then(std::time::Instant::now);
                let mut bufs: Vec<*mut u8> = step.args.iter().map(ptr).collect();
                bufs.push(slot_ptrs.get()[plan.slot_of[step.out]]);
                let k = &step.kernel.kernel;
                let dims: Vec<i64> = k.symbols.iter().map(|s| b[s]).collect();
                let unbound = |sym: String| kiln_dsl::GraphError::UnboundDim { op: step.op.clone(), sym };
                let extent = k.outer_extent(&b).map_err(unbound)?;
                let work = k.work(&b).map_err(unbound)?;
                let threads = rayon::current_num_threads() as i64;
                if k.parallel && work >= PARALLEL_MIN_WORK && threads > 1 && extent > 1 {
                    let chunks = (threads * 4).min(extent);
                    let ptrs = SendPtrs(bufs);
                    (0..chunks).into_par_iter().for_each(|c| {
                        let (lo, hi) = (extent * c / chunks, extent * (c + 1) / chunks);
                        // SAFETY: buffers are sized from the bound shapes, which
                        // bind_dims checked against the inputs; chunks are disjoint.
                        unsafe { k.run(ptrs.get(), &dims, lo, hi) }
                    });
                } else {
                    // SAFETY: as above, with the whole range on this thread.
                    unsafe { k.run(&bufs, &dims, 0, extent) }
                }
                if let (Some(times), Some(t)) = (profile.as_deref_mut(), started) {
                    times.push(t.elapsed());
                }
            }
            Ok(())
        })?;
        let mut out = Vec::new();
        for (loc, id) in self.lowered.outputs.iter().zip(&self.func.outputs) {
            let ty = &self.func.node(*id).ty;
            let shape: Vec<usize> = ty.shape.iter().map(|d| d.eval(&b).unwrap_or(0) as usize).collect();
            out.push(match loc {
                Loc::Input(i) => inputs[*i].clone(),
                Loc::Param(n) => params[n].clone(),
                Loc::Value(v) => {
                    let bytes = sizes[*v] as usize;
                    let src = &slots[plan.slot_of[*v]];
                    // SAFETY: the slot holds at least `bytes` initialized bytes.
                    let data = unsafe { std::slice::from_raw_parts(src.as_ptr() as *const u8, bytes) }.to_vec();
                    HostTensor { dtype: ty.dtype, shape, data: data.into() }
                }
            });
        }
        Ok(out)
    }
}

/// Error unless `params` gives every parameter `module` declares, with its
/// declared type.
pub(crate) fn check_params(module: &Module, params: &HashMap<String, HostTensor>) -> Result<(), RuntimeError> {
    for p in &module.params {
        let v = params.get(&p.name).ok_or_else(|| kiln_dsl::GraphError::Input { name: p.name.clone(), message: "parameter has no value".into() })?;
        let shape_ok = v.shape.len() == p.ty.rank() && p.ty.shape.iter().zip(&v.shape).all(|(d, &n)| d.as_const().is_none_or(|c| c == n as i64));
        if v.dtype != p.ty.dtype || !shape_ok {
            return Err(kiln_dsl::GraphError::Input { name: p.name.clone(), message: format!("declared {}, got {}{:?}", p.ty, v.dtype, v.shape) }.into());
        }
    }
    Ok(())
}

/// Every function of a module compiled for the CPU, with the parameters
/// they share held once.
#[derive(Debug)]
pub struct CpuModule {
    functions: HashMap<String, CpuExecutable>,
    params: HashMap<String, HostTensor>,
}

impl CpuModule {
    /// Compile every function of `module`; `params` must give every declared
    /// parameter with its declared type.
    pub fn compile(module: &Module, params: HashMap<String, HostTensor>, options: &CompileOptions) -> Result<CpuModule, RuntimeError> {
        check_params(module, &params)?;
        let (rewritten, params) = options.rewrite_module(module, Some(&params))?;
        let functions = rewritten.into_iter().map(|(f, report)| Ok((f.name.clone(), CpuExecutable::compile_rewritten(f, report, options)?))).collect::<Result<_, RuntimeError>>()?;
        Ok(CpuModule { functions, params })
    }

    /// Run function `name`.
    pub fn run(&self, name: &str, inputs: &[HostTensor], bindings: &Bindings) -> Result<Vec<HostTensor>, RuntimeError> {
        self.function(name)?.run(inputs, &self.params, bindings)
    }

    /// [`CpuModule::run`], also returning each kernel launch's wall time.
    pub fn run_profiled(&self, name: &str, inputs: &[HostTensor], bindings: &Bindings) -> Result<(Vec<HostTensor>, Vec<std::time::Duration>), RuntimeError> {
        self.function(name)?.run_profiled(inputs, &self.params, bindings)
    }

    /// A compiled function by name.
    pub fn function(&self, name: &str) -> Result<&CpuExecutable, RuntimeError> {
        self.functions.get(name).ok_or_else(|| RuntimeError::NoSuchFunction(name.into()))
    }
}

