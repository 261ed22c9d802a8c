//! What gets tuned: one kernel, with a function that runs it alone on
//! random inputs of concrete shapes.

use crate::error::TuneError;
use kiln_dsl::{Bindings, DType, Dim, Function, FunctionBuilder, HostTensor, Module, NodeKind};
use kiln_dsl::ops::AttentionPlan;
use kiln_runtime::CompileOptions;
use kiln_schedule::{LoopNest, WorkloadKey};
use rand::{Rng, SeedableRng};
use std::collections::HashSet;

/// One kernel to tune.
#[derive(Clone, Debug)]
pub struct Workload {
    /// Its key in the tuning database.
    pub key: WorkloadKey,
    /// Where it comes from (`matmul:q4_0:1x4096x11008`, `decode: 30 kernels`).
    pub origin: String,
    /// A function of one op whose kernels include this one; its inputs are
    /// the op's operands.
    pub func: Function,
    /// Values of the symbolic dimensions for measuring.
    pub bindings: Bindings,
    /// The naive nest (what a schedule is applied to).
    pub nest: LoopNest,
    /// Draw inputs in [0.25, 1.25) rather than [-1, 1): for ops that need
    /// positive values (an RMS computed by another kernel, read under a
    /// square root). Set when the reference gives NaN on signed inputs.
    pub positive_inputs: bool,
}

impl Workload {
    /// Random inputs of `func` at `bindings` (floats in [-1, 1), or
    /// [0.25, 1.25) with `positive_inputs`; quantized from those).
    pub fn random_inputs(&self, seed: u64) -> Result<Vec<HostTensor>, TuneError> {
        self.random_inputs_at(&self.bindings, seed)
    }

    /// Random inputs of `func` at other values of its symbolic dimensions.
    pub fn random_inputs_at(&self, bindings: &Bindings, seed: u64) -> Result<Vec<HostTensor>, TuneError> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        self.func
            .inputs()
            .iter()
            .map(|(_, name, ty)| {
                let shape = ty.shape.iter().map(|d| d.eval(bindings).map(|v| v as usize)).collect::<Result<Vec<_>, _>>().map_err(|e| TuneError::Workload(format!("input `{name}`: {e}")))?;
                if !self.positive_inputs || ty.dtype == DType::I32 {
                    return Ok(HostTensor::random(ty.dtype, &shape, 1, &mut rng));
                }
                let values: Vec<f32> = (0..shape.iter().product::<usize>()).map(|_| rng.random_range(0.25f32..1.25)).collect();
                Ok(HostTensor::from_f32(ty.dtype, &shape, &values))
            })
            .collect()
    }

    /// Bytes the kernel reads and writes once each at `bindings` (sources
    /// and output, quantized ones as stored): the memory-bound floor's
    /// numerator.
    pub fn bytes(&self) -> u64 {
        let n = &self.nest;
        n.sources.iter().chain([&n.output]).map(|b| stored_bytes(b.dtype, &b.shape, &self.bindings)).sum()
    }

    /// Floating-point operations of a matmul-class kernel (2 per multiply-add), else 0.
    pub fn flops(&self) -> f64 {
        if !matches!(self.key.class.as_str(), "gemv" | "gemm") {
            return 0.0;
        }
        let points: i64 = self.nest.loops.iter().map(|l| kiln_schedule::eval_int(&l.extent, &self.bindings).unwrap_or(0)).product();
        2.0 * points as f64
    }
}

fn stored_bytes(dtype: DType, shape: &[Dim], bindings: &Bindings) -> u64 {
    let dims: Vec<u64> = shape.iter().map(|d| d.eval(bindings).unwrap_or(0).max(0) as u64).collect();
    match dims.split_last() {
        Some((&last, rows)) if dtype.is_quantized() => rows.iter().product::<u64>() * dtype.storage_bytes(last as usize) as u64,
        _ => dims.iter().product::<u64>() * dtype.block_bytes() as u64,
    }
}

/// The workload of `matmul:DTYPE:MxKxN[:ACTS]`: `x[M, K] · w[N, K]ᵀ` with
/// weights of DTYPE (f32, f16, q8_0, q4_0, q4_1, ...) and f32 activations,
/// or activations quantized to ACTS blocks first (q8_0 or q8_1: llama.cpp's
/// arithmetic, whose GEMVs of Q4_0 and Q8_0 weights take packed integer
/// dot products on a GPU). M = 1 is a GEMV.
pub fn workload_from_spec(spec: &str) -> Result<Vec<Workload>, TuneError> {
    let bad = |why: &str| TuneError::Workload(format!("`{spec}`: {why}; expected matmul:DTYPE:MxKxN[:ACTS], e.g. matmul:q4_0:1x4096x11008 or matmul:q4_0:1x4096x11008:q8_0"));
    let parts: Vec<&str> = spec.split(':').collect();
    let (kind, dtype, dims, acts) = match parts[..] {
        [kind, dtype, dims] => (kind, dtype, dims, None),
        [kind, dtype, dims, acts] => (kind, dtype, dims, Some(acts)),
        _ => return Err(bad("three or four parts separated by `:`")),
    };
    if kind != "matmul" {
        return Err(bad(&format!("unknown workload kind `{kind}`")));
    }
    let dtype = DType::parse(dtype).ok_or_else(|| bad(&format!("unknown dtype `{dtype}`")))?;
    let acts = match acts.map(|a| (a, DType::parse(a))) {
        None => None,
        Some((_, Some(a @ (DType::Q8_0 | DType::Q8_1)))) => Some(a),
        Some((a, _)) => return Err(bad(&format!("activations `{a}`: q8_0 or q8_1"))),
    };
    let dims: Vec<i64> = dims.split('x').map(|d| d.parse::<i64>().ok().filter(|&v| v > 0)).collect::<Option<_>>().ok_or_else(|| bad("M, K and N are positive integers"))?;
    let [m, k, n] = dims[..] else { return Err(bad("three dimensions MxKxN")) };
    if let Some(blocks) = [Some(dtype), acts].into_iter().flatten().find(|d| d.is_quantized()).filter(|_| k % 32 != 0) {
        return Err(bad(&format!("K = {k} is not a multiple of the 32-value blocks of {}", blocks.name())));
    }
    let f = FunctionBuilder::new("matmul");
    let x = f.input("x", DType::F32, &[Dim::new(m), Dim::new(k)]);
    let w = f.input("w", dtype, &[Dim::new(n), Dim::new(k)]);
    let x = match acts {
        Some(a) => x.quantize(a),
        None => x,
    };
    let func = f.finish(&[&x.matmul_t(&w)]).map_err(|e| bad(&e.to_string()))?;
    let found = kernels_of(&func, &Bindings::new(), spec, &mut HashSet::new(), &|class| class == "gemv" || class == "gemm")?;
    if found.is_empty() {
        return Err(bad("no matmul kernel"));
    }
    Ok(found)
}

/// The distinct kernels of the classes `wanted` in `module`'s functions as
/// compiled under `options` (rewritten, parameters folded), each as a
/// one-op function whose symbolic dimensions take the value `bindings`
/// gives (a symbol missing there is an error). On a backend that runs
/// attention ops as one kernel (`attention_kernels`: a GPU's), such ops
/// have no stage kernels to tune.
pub fn workloads_of_module(module: &Module, options: &CompileOptions, bindings: &Bindings, attention_kernels: bool, wanted: &dyn Fn(&str) -> bool) -> Result<Vec<Workload>, TuneError> {
    let functions = options.module_functions(module).map_err(|e| TuneError::Workload(e.to_string()))?;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for func in &functions {
        for (i, node) in func.nodes.iter().enumerate() {
            let NodeKind::Op(op) = &node.kind else { continue };
            let in_tys: Vec<_> = node.inputs.iter().map(|x| func.node(*x).ty.clone()).collect();
            if attention_kernels && AttentionPlan::of(op.as_ref(), &op.compute(&in_tys, &node.ty), in_tys.len()).is_some() {
                continue;
            }
            let f = FunctionBuilder::new(&format!("{}_{}", func.name, op.name()));
            let inputs: Vec<_> = node.inputs.iter().enumerate().map(|(j, x)| {
                let ty = &func.node(*x).ty;
                f.input(&format!("in{j}"), ty.dtype, &ty.shape)
            }).collect();
            let y = f.apply(op.clone(), &inputs.iter().collect::<Vec<_>>());
            let one = f.finish(&[&y]).map_err(|e| TuneError::Workload(format!("{} node {i}: {e}", func.name)))?;
            out.extend(kernels_of(&one, bindings, &format!("{} `{}`", func.name, op.name()), &mut seen, wanted)?);
        }
    }
    Ok(out)
}

/// The kernels of `func` (launch order) of a wanted class, not in `seen`.
fn kernels_of(func: &Function, bindings: &Bindings, origin: &str, seen: &mut HashSet<String>, wanted: &dyn Fn(&str) -> bool) -> Result<Vec<Workload>, TuneError> {
    let mut out = Vec::new();
    for node in &func.nodes {
        let NodeKind::Op(op) = &node.kind else { continue };
        let in_tys: Vec<_> = node.inputs.iter().map(|x| func.node(*x).ty.clone()).collect();
        // a later stage also reads the earlier stages' results (as the runtime lowers them)
        let mut src_types: Vec<(DType, Vec<Dim>)> = in_tys.iter().map(|t| (t.dtype, t.shape.clone())).collect();
        for stage in op.compute(&in_tys, &node.ty) {
            let nest = LoopNest::from_stage(&stage, &src_types).map_err(|e| TuneError::Workload(e.to_string()))?;
            src_types.push((stage.dtype, stage.shape.clone()));
            let key = nest.workload_key();
            if !wanted(&key.class) || !seen.insert(key.key.clone()) {
                continue;
            }
            let mut b = Bindings::new();
            for (_, name, ty) in func.inputs() {
                for d in &ty.shape {
                    for sym in d.symbols() {
                        let v = *bindings.get(sym).ok_or_else(|| TuneError::Workload(format!("{origin}: input `{name}` has the symbolic dimension `{sym}`, which has no value to measure at")))?;
                        b.insert(sym.to_string(), v);
                    }
                }
            }
            if func.inputs().iter().any(|(_, _, ty)| ty.dtype == DType::I32) {
                // indices (gathers, positions) would need meaningful values
                continue;
            }
            out.push(Workload { key, origin: origin.to_string(), func: func.clone(), bindings: b, nest, positive_inputs: false });
        }
    }
    Ok(out)
}
