//! The CPU backend: validated loop nests compiled to native code with
//! Cranelift's JIT, cached per process.
//!
//! Kernel ABI: `fn(buffers: *const *mut u8, dims: *const i64, start: i64,
//! end: i64)`. `buffers` holds the source buffers then the output; `dims` the
//! values of [`CpuKernel::symbols`]; `start..end` is the range of the
//! outermost loop this call runs (the runtime splits it across threads when
//! that loop is parallel).

mod emit;
mod helpers;
mod templates;

use crate::error::CodegenError;
use cranelift_codegen::ir::{types, AbiParam, InstBuilder, MemFlagsData, UserFuncName};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Linkage, Module};
use kiln_dsl::{Bindings, Dim, Expr, UnOp};
use kiln_schedule::{eval_int, LoopKind, Validated};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

pub use emit::LANES;

type KernelFn = unsafe extern "C" fn(*const *mut u8, *const i64, i64, i64);

/// A compiled CPU kernel.
pub struct CpuKernel {
    /// Owns the executable memory `func` points into.
    _module: JITModule,
    func: KernelFn,
    /// Symbolic dims the kernel reads, in the order of its `dims` argument.
    pub symbols: Vec<String>,
    /// Kernel name.
    pub name: String,
    /// Trip count of the outermost loop (1 when there are no loops).
    outer_extent: Expr,
    /// Whether the outermost loop may be split across threads.
    pub parallel: bool,
    /// Product of all loop trip counts: an estimate of the work.
    work: Vec<Expr>,
}

// SAFETY: the JIT module is not touched after finalization; the code it holds
// is immutable and the kernel function is reentrant (it writes only through
// the pointers it is given).
unsafe impl Send for CpuKernel {}
unsafe impl Sync for CpuKernel {}

impl std::fmt::Debug for CpuKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuKernel").field("name", &self.name).field("symbols", &self.symbols).field("parallel", &self.parallel).finish()
    }
}

impl CpuKernel {
    /// Trip count of the outermost loop under `bindings`.
    pub fn outer_extent(&self, bindings: &Bindings) -> Result<i64, String> {
        eval_int(&self.outer_extent, bindings)
    }

    /// Estimated point count (product of loop trip counts) under `bindings`.
    pub fn work(&self, bindings: &Bindings) -> Result<i64, String> {
        self.work.iter().try_fold(1i64, |acc, e| Ok(acc.saturating_mul(eval_int(e, bindings)?.max(0))))
    }

    /// Run iterations `start..end` of the outermost loop.
    ///
    /// # Safety
    /// `buffers` must hold one pointer per source plus the output, each to a
    /// buffer at least as large as its shape under the bindings that gave
    /// `dims`; `dims` must hold the values of [`CpuKernel::symbols`]; calls
    /// running concurrently must use disjoint `start..end` ranges.
    pub unsafe fn run(&self, buffers: &[*mut u8], dims: &[i64], start: i64, end: i64) {
        debug_assert_eq!(dims.len(), self.symbols.len());
        unsafe { (self.func)(buffers.as_ptr(), dims.as_ptr(), start, end) }
    }
}

fn collect_dims(e: &Expr, out: &mut BTreeSet<Dim>) {
    e.visit(&mut |x| {
        if let Expr::Dim(d) = x {
            out.insert(d.clone());
        }
    });
}

/// Whether the host executes fused multiply-add natively (Cranelift would
/// otherwise call `fmaf`).
fn host_has_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::is_x86_feature_detected!("fma");
    #[cfg(target_arch = "aarch64")]
    return true;
    #[allow(unreachable_code)]
    false
}

fn kernel_cache() -> &'static Mutex<HashMap<String, Arc<CpuKernel>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<CpuKernel>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Number of kernels compiled so far in this process (cache misses).
pub fn compiled_kernel_count() -> usize {
    kernel_cache().lock().map(|c| c.len()).unwrap_or(0)
}

/// Compile a validated nest, or return the cached kernel for an identical one.
pub fn compile(v: &Validated) -> Result<Arc<CpuKernel>, CodegenError> {
    let key = v.to_string();
    if let Some(k) = kernel_cache().lock().expect("kernel cache poisoned").get(&key) {
        return Ok(k.clone());
    }
    let k = Arc::new(compile_uncached(v)?);
    kernel_cache().lock().expect("kernel cache poisoned").insert(key, k.clone());
    Ok(k)
}

fn backend(kernel: &str, e: impl std::fmt::Display) -> CodegenError {
    CodegenError::Backend { kernel: kernel.to_string(), message: e.to_string() }
}

/// Compile without consulting the cache.
pub fn compile_uncached(v: &Validated) -> Result<CpuKernel, CodegenError> {
    Ok(build(v, false)?.0)
}

/// The kernel template that computes `v`'s stage instead of the generic
/// emitter, if one does (its description, e.g. `QuantMatmul { .. }`): for
/// tests and people checking that a stage gets the arithmetic they expect.
pub fn template_of(v: &Validated) -> Option<String> {
    templates::recognize(v).map(|t| format!("{t:?}"))
}

/// The machine code Cranelift generates for `v`, as assembly text (for
/// people reading what a schedule turns into).
pub fn disassemble(v: &Validated) -> Result<String, CodegenError> {
    Ok(build(v, true)?.1.unwrap_or_default())
}

fn build(v: &Validated, disasm: bool) -> Result<(CpuKernel, Option<String>), CodegenError> {
    let nest = v.nest();
    let name = nest.name.clone();
    let err = |e: &dyn std::fmt::Display| backend(&name, e);
    let template = templates::recognize(v);
    if template.is_none() && nest.output.dtype.is_quantized() {
        // only the row-quantization template writes quantized blocks
        let what = format!("writing {} blocks from {} rows (the CPU quantizes f32 rows)", nest.output.dtype, nest.sources.first().map_or("no".to_string(), |b| b.dtype.to_string()));
        return Err(CodegenError::Unsupported { kernel: name, target: "cpu", what });
    }

    // Every dim the kernel mentions, and the symbols they use.
    let mut dims = BTreeSet::new();
    for l in &nest.loops {
        collect_dims(&l.extent, &mut dims);
    }
    collect_dims(&v.point_body(), &mut dims);
    for (a, b) in v.guard_exprs() {
        collect_dims(&a, &mut dims);
        collect_dims(&b, &mut dims);
    }
    for e in v.store_index() {
        collect_dims(&e, &mut dims);
    }
    for b in nest.sources.iter().chain([&nest.output]) {
        dims.extend(b.shape.iter().cloned());
    }
    let symbols: Vec<String> = dims.iter().flat_map(|d| d.symbols().map(String::from).collect::<Vec<_>>()).collect::<BTreeSet<_>>().into_iter().collect();

    let mut flag_builder = settings::builder();
    // Cranelift's optimizer is off on purpose: its e-graph rematerializes
    // the index arithmetic that the emitter hoists out of loops back into
    // the innermost loop (measured: GEMM inner loop 33 integer instructions
    // per 16 FMAs). The emitter does its own hoisting, value numbering and
    // constant folding instead.
    flag_builder.set("opt_level", "none").map_err(|e| err(&e))?;
    flag_builder.set("enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" }).map_err(|e| err(&e))?;
    flag_builder.set("use_colocated_libcalls", "false").map_err(|e| err(&e))?;
    flag_builder.set("is_pic", "false").map_err(|e| err(&e))?;
    let isa = cranelift_native::builder().map_err(|e| err(&e))?.finish(settings::Flags::new(flag_builder)).map_err(|e| err(&e))?;
    let mut jb = JITBuilder::with_isa(isa, default_libcall_names());
    for (sym, addr) in helpers::all() {
        jb.symbol(sym, addr);
    }
    let mut module = JITModule::new(jb);
    let ptr = module.target_config().pointer_type();

    let mut sig = module.make_signature();
    for t in [ptr, ptr, types::I64, types::I64] {
        sig.params.push(AbiParam::new(t));
    }
    let func_id = module.declare_function(&format!("kiln_{name}"), Linkage::Export, &sig).map_err(|e| err(&e))?;

    let mut unary_sig = module.make_signature();
    unary_sig.params.push(AbiParam::new(types::F32));
    unary_sig.returns.push(AbiParam::new(types::F32));
    let mut declare = |sym: &str, sig: &cranelift_codegen::ir::Signature| module.declare_function(sym, Linkage::Import, sig);
    let unary_ids: Vec<(UnOp, cranelift_module::FuncId)> = [
        (UnOp::Log, "kiln_logf"),
        (UnOp::Tanh, "kiln_tanhf"),
        (UnOp::Erf, "kiln_erff"),
        (UnOp::Sin, "kiln_sinf"),
        (UnOp::Cos, "kiln_cosf"),
    ]
    .into_iter()
    .map(|(op, s)| declare(s, &unary_sig).map(|id| (op, id)))
    .collect::<Result<_, _>>()
    .map_err(|e| err(&e))?;

    let tcfg = module.target_config();
    let mut ctx = module.make_context();
    ctx.func.signature = sig;
    ctx.func.name = UserFuncName::user(0, func_id.as_u32());
    let mut fctx = FunctionBuilderContext::new();
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let params = b.block_params(entry).to_vec();
        let flags = MemFlagsData::trusted().with_readonly();
        let bufs = (0..=nest.sources.len()).map(|i| b.ins().load(ptr, flags, params[0], (8 * i) as i32)).collect();
        let syms: HashMap<String, _> = symbols.iter().enumerate().map(|(i, s)| (s.clone(), b.ins().load(types::I64, flags, params[1], (8 * i) as i32))).collect();
        let helpers = emit::Helpers {
            unary: unary_ids.iter().map(|(op, id)| (*op, module.declare_func_in_func(*id, b.func))).collect(),
        };
        match template {
            Some(t) => templates::TemplateEmitter::new(&mut b, bufs, syms, (params[2], params[3]), host_has_fma()).emit(t, v),
            None => {
                let mut e = emit::Emitter::new(&mut b, v, bufs, syms, helpers, (params[2], params[3]));
                let dims: Vec<Dim> = dims.into_iter().collect();
                e.prepare_dims(&dims);
                e.use_fma(host_has_fma());
                e.emit()?;
            }
        }
        b.ins().return_(&[]);
        b.seal_all_blocks();
        b.finalize(tcfg);
    }
    ctx.set_disasm(disasm);
    module.define_function(func_id, &mut ctx).map_err(|e| backend(&name, format!("{e:?}")))?;
    let asm = ctx.compiled_code().and_then(|c| c.vcode.clone());
    module.clear_context(&mut ctx);
    module.finalize_definitions().map_err(|e| err(&e))?;
    let code = module.get_finalized_function(func_id);
    // SAFETY: the function was declared with exactly this signature.
    let func = unsafe { std::mem::transmute::<*const u8, KernelFn>(code) };
    let (outer_extent, parallel, work) = match template {
        Some(t) => (t.outer_extent(v), true, t.work(v)),
        None => (
            nest.loops.first().map_or(Expr::Int(1), |l| l.extent.clone()),
            nest.loops.first().is_some_and(|l| l.kind == LoopKind::Parallel),
            nest.loops.iter().map(|l| l.extent.clone()).collect(),
        ),
    };
    Ok((CpuKernel { _module: module, func, symbols, name, outer_extent, parallel, work }, asm))
}
