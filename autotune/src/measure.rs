//! Measuring a candidate schedule: compile the workload's function with the
//! candidate's knobs on its kernel (defaults elsewhere), check the first
//! result against the f64 reference, then time the kernel: warm-up runs,
//! then the median of repeats, each on the next of several input sets so
//! that caches do not flatter (GPU timestamp queries; the host clock where
//! a device has none).

use crate::workload::Workload;
use kiln_dsl::HostTensor;
use kiln_runtime::{CompileOptions, CpuExecutable, GpuDevice, GpuExecutable, GpuTensor, Value};
use kiln_schedule::{default_gpu_schedule, default_schedule, Knobs, Target};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Where candidates run.
#[derive(Clone, Debug)]
pub enum Backend {
    /// The CPU (Cranelift JIT).
    Cpu,
    /// A GPU through wgpu.
    Gpu(GpuDevice),
}

/// How to time one candidate.
#[derive(Clone, Copy, Debug)]
pub struct MeasureOptions {
    /// Untimed runs first (at least this many, and on a real GPU for at least 50 ms).
    pub warmup: usize,
    /// Timed runs; the median counts.
    pub repeats: usize,
    /// Largest relative L2 error against the f64 reference a candidate may
    /// have (NaN never passes).
    pub tolerance: f64,
}

impl Default for MeasureOptions {
    fn default() -> Self {
        MeasureOptions { warmup: 3, repeats: 15, tolerance: 1e-3 }
    }
}

/// A timed candidate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timing {
    /// Median kernel time (s).
    pub median_s: f64,
    /// Fastest repeat (s).
    pub min_s: f64,
    /// Timed repeats.
    pub repeats: u32,
}

/// A candidate compiled: the executable and which of its kernels is the tuned one.
pub(crate) struct Compiled {
    exe: Exe,
    kernel: usize,
}

enum Exe {
    Cpu(CpuExecutable),
    Gpu(GpuExecutable),
}

/// The workload's inputs on the backend: several sets to rotate through,
/// and the reference result of the first.
pub(crate) struct Bench {
    backend: Backend,
    sets: Vec<Inputs>,
    /// The correctness check's inputs, dimensions and f64 result.
    check: (Inputs, kiln_dsl::Bindings, Vec<f64>),
    host_clock: bool,
}

enum Inputs {
    Host(Vec<HostTensor>),
    Gpu(Vec<Value>),
}

/// Sustained GPU work before a workload's first timing (clocks ramp up).
const GPU_WARM_UP_MS: u64 = 1000;

/// Input bytes worth rotating through: past the last-level cache.
const ROTATE_BYTES: u64 = 256 << 20;
const MAX_SETS: u64 = 8;
/// Symbolic dimensions (prompt length) are at most this in the
/// correctness check, so the f64 interpreter's GEMM stays quick; the same
/// compiled kernel is then timed at the workload's own values.
pub(crate) const CHECK_DIM: i64 = 8;

impl Bench {
    /// Random input sets of `w` on `backend` (enough to exceed the caches,
    /// at most 8), and the check's inputs with the reference interpreter's
    /// result (symbolic dimensions at most [`CHECK_DIM`]).
    /// Where signed inputs make the reference NaN (a square root of an
    /// input), `w` switches to positive ones.
    pub fn new(backend: &Backend, w: &mut Workload) -> Result<Bench, crate::TuneError> {
        let check_bindings: kiln_dsl::Bindings = w.bindings.iter().map(|(k, &v)| (k.clone(), v.min(CHECK_DIM))).collect();
        let reference_of = |w: &Workload| -> Result<(Vec<HostTensor>, Vec<f64>), crate::TuneError> {
            let inputs = w.random_inputs_at(&check_bindings, 1000)?;
            let out = kiln_dsl::interpret(&w.func, &inputs, &HashMap::new(), &check_bindings).map_err(|e| crate::TuneError::Reference(e.to_string()))?;
            Ok((inputs, out.into_iter().next().ok_or_else(|| crate::TuneError::Reference("no output".into()))?.data))
        };
        let (mut check_inputs, mut reference) = reference_of(w)?;
        if reference.iter().any(|v| !v.is_finite()) {
            w.positive_inputs = true;
            (check_inputs, reference) = reference_of(w)?;
            if reference.iter().any(|v| !v.is_finite()) {
                return Err(crate::TuneError::Reference(format!("{} is not finite on random inputs, signed or positive", w.key.description)));
            }
        }
        let first = w.random_inputs(0)?;
        let set_bytes: u64 = first.iter().map(|t| t.data.len() as u64).sum::<u64>().max(1);
        let n_sets = ROTATE_BYTES.div_ceil(set_bytes).clamp(1, MAX_SETS);
        let mut host_sets = vec![first];
        for seed in 1..n_sets {
            host_sets.push(w.random_inputs(seed)?);
        }
        let place = |set: Vec<HostTensor>| -> Result<Inputs, crate::TuneError> {
            Ok(match backend {
                Backend::Cpu => Inputs::Host(set),
                Backend::Gpu(gpu) => Inputs::Gpu(set.iter().map(|t| gpu.upload("tuning input", t).map(Value::Gpu)).collect::<Result<Vec<_>, _>>()?),
            })
        };
        let sets = host_sets.into_iter().map(place).collect::<Result<Vec<_>, _>>()?;
        let host_clock = match backend {
            Backend::Cpu => true,
            Backend::Gpu(gpu) => {
                // the uploads done, and the clocks up, before anything is timed
                let _ = gpu.raw().0.poll(wgpu::PollType::wait_indefinitely());
                gpu.warm_up(std::time::Duration::from_millis(GPU_WARM_UP_MS))?;
                !gpu.has_timestamps()
            }
        };
        Ok(Bench { backend: backend.clone(), sets, check: (place(check_inputs)?, check_bindings, reference), host_clock })
    }

    /// Input sets rotated through.
    pub fn sets(&self) -> usize {
        self.sets.len()
    }

    /// Whether times come from the host clock (no timestamp queries).
    pub fn host_clock(&self) -> bool {
        self.host_clock
    }

    /// Compile `w` with `knobs` on its kernel.
    pub fn compile(&self, w: &Workload, knobs: Knobs) -> Result<Compiled, String> {
        let (options, at) = options_with(&self.backend, w, knobs);
        let exe = match &self.backend {
            Backend::Cpu => Exe::Cpu(CpuExecutable::compile(&w.func, &options).map_err(|e| e.to_string())?),
            Backend::Gpu(gpu) => Exe::Gpu(GpuExecutable::compile(&w.func, gpu, &options).map_err(|e| e.to_string())?),
        };
        let kernel = at.load(Ordering::SeqCst);
        if kernel == usize::MAX {
            return Err(format!("compiling the workload's function did not meet kernel {}", w.key.key));
        }
        Ok(Compiled { exe, kernel })
    }

    /// One run on `inputs` at `bindings`: the output (when `want_output`)
    /// and the tuned kernel's time in seconds.
    fn run(&self, c: &Compiled, inputs: &Inputs, bindings: &kiln_dsl::Bindings, want_output: bool) -> Result<(Option<Vec<f64>>, f64), String> {
        let params = HashMap::new();
        match (&c.exe, inputs) {
            (Exe::Cpu(exe), Inputs::Host(inputs)) => {
                let (out, times) = exe.run_profiled(inputs, &params, bindings).map_err(|e| e.to_string())?;
                Ok((want_output.then(|| out[0].to_f64()), times[c.kernel].as_secs_f64()))
            }
            (Exe::Gpu(exe), Inputs::Gpu(inputs)) => {
                let gpu_params: HashMap<String, GpuTensor> = HashMap::new();
                let (out, t) = if self.host_clock {
                    let Backend::Gpu(gpu) = &self.backend else { unreachable!("GPU inputs come with a GPU") };
                    let started = Instant::now();
                    let out = exe.run_values(inputs, &gpu_params, bindings).map_err(|e| e.to_string())?;
                    let _ = gpu.raw().0.poll(wgpu::PollType::wait_indefinitely());
                    (out, started.elapsed().as_secs_f64())
                } else {
                    let (out, times) = exe.run_profiled(inputs, &gpu_params, bindings).map_err(|e| e.to_string())?;
                    (out, times[c.kernel].as_secs_f64())
                };
                let values = if want_output { Some(out[0].to_host().map_err(|e| e.to_string())?.to_f64()) } else { None };
                Ok((values, t))
            }
            _ => unreachable!("inputs live where the executable runs"),
        }
    }

    /// Check `c` against the reference, then time it. A candidate whose
    /// first three timed runs are all over 10 times `cutoff_s` (the best so
    /// far) stops there: its median is not going to matter.
    pub fn measure(&self, c: &Compiled, w: &Workload, o: &MeasureOptions, cutoff_s: Option<f64>) -> Result<Timing, String> {
        let (check_inputs, check_bindings, reference) = &self.check;
        let (out, _) = self.run(c, check_inputs, check_bindings, true)?;
        let err = rel_l2(&out.unwrap_or_default(), reference);
        if !(err <= o.tolerance) {
            return Err(format!("wrong result: relative L2 error {err:.3e} against the f64 reference (tolerance {:.0e})", o.tolerance));
        }
        // warm-up: `warmup` runs, on a real GPU for at least 50 ms (the
        // device busy right before timing, its clocks up)
        let busy_ms = match &self.backend {
            Backend::Gpu(g) if g.adapter_kind() == kiln_schedule::AdapterKind::Gpu => 50,
            _ => 0,
        };
        let started = Instant::now();
        let mut i = 0;
        while i < o.warmup || started.elapsed().as_millis() < busy_ms {
            self.run(c, &self.sets[i % self.sets.len()], &w.bindings, false)?;
            i += 1;
        }
        let mut times = Vec::with_capacity(o.repeats);
        for i in 0..o.repeats.max(1) {
            times.push(self.run(c, &self.sets[(o.warmup + i) % self.sets.len()], &w.bindings, false)?.1);
            if times.len() == 3 && cutoff_s.is_some_and(|c| times.iter().all(|&t| t > 10.0 * c)) {
                break;
            }
        }
        times.sort_by(f64::total_cmp);
        Ok(Timing { median_s: times[times.len() / 2], min_s: times[0], repeats: times.len() as u32 })
    }
}

/// ‖a − b‖ / ‖b‖; infinite where the lengths differ, NaN where `a` has one.
pub fn rel_l2(a: &[f64], b: &[f64]) -> f64 {
    if a.len() != b.len() {
        return f64::INFINITY;
    }
    let (mut num, mut den) = (0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        num += (x - y) * (x - y);
        den += y * y;
    }
    (num / den.max(f64::MIN_POSITIVE)).sqrt()
}

/// Compile options scheduling `w`'s kernel with `knobs` and every other
/// kernel by default; the index the kernel gets among the function's
/// (set while compiling).
fn options_with(backend: &Backend, w: &Workload, knobs: Knobs) -> (CompileOptions, Arc<AtomicUsize>) {
    let key = w.key.key.clone();
    let seen = Arc::new(AtomicUsize::new(0));
    let at = Arc::new(AtomicUsize::new(usize::MAX));
    let adapter = match backend {
        Backend::Gpu(g) => Some(g.adapter_kind()),
        Backend::Cpu => None,
    };
    let at2 = at.clone();
    let mut options = CompileOptions::default();
    options.scheduler = Some(Arc::new(move |nest| {
        let i = seen.fetch_add(1, Ordering::SeqCst);
        if nest.workload_key().key == key {
            at2.store(i, Ordering::SeqCst);
            return knobs.schedule(nest, Target::CPU);
        }
        match adapter {
            Some(a) => Ok(default_gpu_schedule(nest, a)?.0),
            None => Ok(default_schedule(nest, Target::CPU)?.0),
        }
    }));
    (options, at)
}

/// What identifies the kernel `knobs` make of `w`'s on a GPU: its
/// shader, workgroup and grid (lowered, without a pipeline). Knobs a
/// kernel ignores give the same text (the integer-dot GEMV reads only
/// some; attention and quantize kernels built whole read fewer), so a
/// search measures each kernel once. None on the CPU or where the knobs
/// do not lower.
pub fn kernel_identity(backend: &Backend, w: &Workload, knobs: Knobs) -> Option<String> {
    let Backend::Gpu(gpu) = backend else { return None };
    let (options, at) = options_with(backend, w, knobs);
    let kernels = kiln_runtime::gpu_kernels(&w.func, &gpu.target(), gpu.adapter_kind(), &options).ok()?;
    let (_, k) = kernels.get(at.load(Ordering::SeqCst))?;
    Some(format!("{:?} {:?}\n{}", k.workgroup_size, k.grid, k.wgsl().ok()?))
}
