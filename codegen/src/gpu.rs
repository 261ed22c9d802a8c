//! The GPU backend's code generator: a scheduled loop nest lowered to a
//! compute shader built directly as a [`naga::Module`] (no shader text is
//! pasted together), checked by naga's validator, and written by naga's back
//! ends as WGSL, SPIR-V or MSL.
//!
//! How loops map (see `kiln_schedule::default_gpu_schedule` for the
//! defaults):
//! - `gpu_block.x` is the workgroup id: `wid.x + wid.y * ROW_GROUPS`, so a
//!   grid of more than 65535 workgroups spills into `y`; `gpu_block.y` is
//!   `wid.z`.
//! - `gpu_thread.{x,y,z}` are the invocation ids within the workgroup; their
//!   constant extents are the workgroup size.
//! - A reduction loop bound to `gpu_thread` is shared by the workgroup's
//!   invocations: each keeps a partial result, which a tree in workgroup
//!   memory combines (with barriers) before invocation 0 stores it. Where
//!   the target has subgroup arithmetic and the workgroup only reduces,
//!   `subgroupAdd` (min/max) combines each subgroup's partials and one
//!   barrier the subgroups' results.
//! - A source cached at a serial reduction loop (`kiln_schedule::Cache`)
//!   is staged in workgroup memory: at the start of each iteration the
//!   workgroup copies in the tile its invocations and the loops inside will
//!   read (the load's index must be affine in those loops, with constant
//!   extents), a barrier, the loads read the tile, and a barrier before the
//!   next fill.
//! - A vectorized loop (constant extent W, innermost) is unrolled. Each
//!   load of an f32, i32 or f16 source that its lanes read as W
//!   consecutive elements from a multiple of W (proved on the index
//!   expressions, with the source's length a multiple of W) is read once
//!   as vectors before the lanes, through a second binding of that source
//!   typed as an array of vectors ([`GpuKernel::vector_views`]).
//! - Every other loop (serial, unrolled) is an ordinary loop in each
//!   invocation.
//!
//! Buffers: group 0, the sources in order, then the output, then
//! `dims: array<i32>` holding the values of [`GpuKernel::symbols`], then the
//! vector views. A source
//! of constant shape larger than a binding may be ([`GpuTarget::range_words`])
//! takes several bindings, consecutive ranges of its buffer, and each load
//! picks its range with a `switch` ([`GpuKernel::ranges`]). f32 and
//! i32 tensors are `array<f32>`/`array<i32>`; f16 and block-quantized ones
//! are `array<u32>` of their little-endian storage words, read with shifts
//! (bytes) and `unpack2x16float` (halves), which every adapter has. A byte
//! at a multiple of 4 plus a constant (a vectorized loop's lanes walking a
//! block) reads its word once for every lane sharing it; Q4_0 sources are
//! stored as split rows ([`GpuTarget::split_q4_0`]) so that 8 consecutive
//! weights are one aligned word.
//! f16 outputs are written with atomic AND/OR on their words, since two
//! invocations may share one. A quantize stage (f32 rows to Q8_0 or Q8_1
//! blocks) is built whole (`quantize`): 8 invocations a block, whole words
//! assembled in workgroup memory, no atomics; with the reduction over its
//! rows that it reads (an RMSNorm's mean), each workgroup computes its
//! row's value first ([`lower_row_reduced`]); so does an f32 stage reading
//! such a reduction (the norm's scaling), a workgroup per row.
//!
//! Matrix units: on a target with them ([`GpuTarget::matrix_units`]) a
//! matmul over rows ([`MatrixGemm`]) is not lowered loop by loop but as
//! cooperative-matrix tile products over f16 tiles staged in workgroup
//! memory (`lower_matrix_gemm`): four subgroups a 64 x 64 block of
//! outputs, each invocation converting half a block of weights per step
//! with the lanes' shared scale and words read once.
//!
//! Integer dot products: a GEMV of 8-bit activations and Q4_0 weights
//! ([`IntDotGemv`], `int_dot`) is built whole too, a block of weights per
//! invocation multiplied by `dot4I8Packed`, with its epilogue (a residual
//! add) once per output.
//!
//! Attention ([`lower_attention`]): one kernel of a workgroup per query and
//! head, or for a few queries (decode) three that split each query's keys
//! over workgroups ([`AttentionPart`]).
//!
//! Bounds: every kernel says whether its accesses are proven in bounds
//! ([`GpuKernel::bounds_proof`]), in which case the runtime creates its
//! shader without wgpu's injected checks (on the H100 kiln's quantized
//! GEMVs ran 1.03-1.05x faster without them; `benches/RESULTS.md`).

use crate::error::CodegenError;
use kiln_dsl::ops::AttentionPlan;
use kiln_dsl::quant::QuantLayout;
use kiln_dsl::{BinOp, Bindings, DType, Dim, Expr, KernelClass, ReduceOp, ScalarKind, UnOp};
use kiln_schedule::{eval_int, LoopKind, Validated};
use naga::{
    AddressSpace, BinaryOperator, Binding, Block, BuiltIn, EntryPoint, Expression, Function, FunctionArgument, GlobalVariable, Handle, Literal, LocalVariable, MathFunction,
    Module, ResourceBinding, Scalar, ShaderStage, Span, Statement, StorageAccess, Type, TypeInner, UnaryOperator, VectorSize,
};
use std::collections::{BTreeSet, HashMap};

mod attention;
mod int_dot;
mod quantize;
mod row_reduced;
pub use attention::{lower_attention, runs_on_matrix_units, AttentionPart, FusedAttention, MATRIX_WORKGROUP_BYTES};
pub use int_dot::IntDotGemv;
pub use row_reduced::lower_row_reduced;

/// Workgroups per dispatch row: a grid past this spills into `wid.y`.
pub const ROW_GROUPS: u32 = 32768;

/// Invocations a workgroup may have (WebGPU's default limit).
pub const MAX_WORKGROUP: u32 = 256;

/// Bytes of workgroup memory a shader may use (WebGPU's default limit).
pub const MAX_WORKGROUP_BYTES: i64 = 16384;

/// What an adapter can do that changes the generated code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct GpuTarget {
    /// `unpack2x16float` and `pack2x16float` are usable (core WGSL, but
    /// llvmpipe needs native f16 for them); otherwise f16 values convert by
    /// integer arithmetic.
    pub f16_in_f32: bool,
    /// The words (4 bytes) one storage binding may hold, a power of two (the
    /// adapter's `max_storage_buffer_binding_size` rounded down), or 0 for no
    /// limit. A larger source of constant shape is bound as several ranges
    /// of this size: how a 7B model's 262 MB embedding table runs on a device
    /// that binds 128 MiB.
    pub range_words: u32,
    /// Subgroup arithmetic (wgpu's `SUBGROUP` feature): a workgroup that
    /// only reduces combines its partial results with `subgroupAdd` (or
    /// min/max) and one barrier, not a barrier tree.
    pub subgroups: bool,
    /// Native f16 (wgpu's `SHADER_F16`): f16 tensors are read as
    /// `array<f16>`, one element per load (otherwise as u32 words, split
    /// with shifts). f16 outputs are still written as words: a native
    /// f32-to-f16 conversion need not round to nearest even.
    pub native_f16: bool,
    /// Not a device feature but a code generator choice, on for every
    /// adapter unless `KILN_GPU_DISABLE` names `fold_lanes` (off in the
    /// portable default): in a vectorized loop, an integer division or
    /// remainder that is the same in every lane but for a constant (a
    /// quantized weight's block index, its scale) is computed once per
    /// vector instead of once per lane.
    pub fold_lanes: bool,
    /// Q4_0 tensors are kept in the device's memory as rows split into
    /// their nibbles and their scales ([`QuantLayout::SplitQ4_0Rows`]: the
    /// runtime converts them on upload and read-back), so every block's
    /// nibbles are whole aligned words; otherwise as GGUF's 18-byte blocks.
    /// On for every adapter unless `KILN_GPU_DISABLE` names `split_q4_0`.
    pub split_q4_0: bool,
    /// A code generator choice (on unless `KILN_GPU_DISABLE` names
    /// `float_by_exponent`): an integer of at most 2^22 in magnitude (a
    /// byte, a nibble) converted to float and offset by an integer constant
    /// (Q4_0's `q - 8`) becomes
    /// `bitcast<f32>(q + 0x4B400000) - (12582912.0 + 8.0)`
    /// (exact: 1.5 * 2^23 has a unit last place): an integer add and
    /// a float subtract at full rate instead of a conversion (quarter rate
    /// on NVIDIA GPUs) and a subtract. On the H100 Q4_0 GEMVs ran
    /// 1.02-1.03x faster; a bare conversion done this way (Q4_1, Q8_0) costs
    /// an instruction more and ran 0.94-0.98x, so it is left alone
    /// (`benches/RESULTS.md`).
    pub float_by_exponent: bool,
    /// Matrix units through cooperative matrices (wgpu's
    /// `EXPERIMENTAL_COOPERATIVE_MATRIX`, where the adapter lists 16x16x16
    /// tiles of f16 inputs and f32 accumulators; needs native f16): a
    /// matmul over rows ([`MatrixGemm`]) becomes four subgroups of 32
    /// invocations per 64 x 64 outputs, its activations and weights
    /// converted to f16 tiles in workgroup memory; a prompt's attention
    /// likewise ([`runs_on_matrix_units`]). Off unless the device has them,
    /// subgroups of 32 and [`MATRIX_WORKGROUP_BYTES`] of workgroup memory,
    /// or where `KILN_GPU_DISABLE` names `matrix_units`.
    pub matrix_units: bool,
    /// A code generator choice (on unless `KILN_GPU_DISABLE` names
    /// `attention_kernels`): an attention op the graph optimizer made an
    /// [`kiln_dsl::ops::AttentionKernel`] runs as one kernel
    /// ([`lower_attention`]), not stage by stage.
    pub attention_kernels: bool,
    /// A code generator choice (on unless `KILN_GPU_DISABLE` names
    /// `split_attention`): with attention kernels, an attention of a few
    /// queries (decode) splits each query's keys over several workgroups,
    /// three kernels ([`FusedAttention::parts`]), where one workgroup per
    /// query and head would leave most of the GPU idle.
    pub split_attention: bool,
    /// A code generator choice (on unless `KILN_GPU_DISABLE` names
    /// `int_dot`; needs subgroups): a GEMV of 8-bit activation blocks and
    /// Q4_0 (split rows) or Q8_0 weights ([`IntDotGemv`], llama.cpp's
    /// arithmetic) multiplies with packed integer dot products, a block of
    /// weights per invocation, not weight by weight in f32.
    pub int_dot: bool,
    /// A code generator choice (on unless `KILN_GPU_DISABLE` names
    /// `row_reductions`): a quantize or f32 stage and the reduction over
    /// each of its rows that it reads (an RMSNorm's mean of squares,
    /// [`kiln_dsl::ops::RowReduced`]) run as one kernel, each workgroup
    /// computing its row's value before it quantizes or scales the row
    /// ([`lower_row_reduced`]).
    pub row_reductions: bool,
}

impl GpuTarget {
    /// How quantized tensors are laid out in the device's memory.
    pub fn quant_layout(&self) -> QuantLayout {
        if self.split_q4_0 {
            QuantLayout::SplitQ4_0Rows
        } else {
            QuantLayout::Gguf
        }
    }

    fn validator(&self) -> naga::valid::Validator {
        use naga::valid::{Capabilities, SubgroupOperationSet, ValidationFlags, Validator};
        let mut caps = Capabilities::empty();
        caps.set(Capabilities::SHADER_FLOAT16_IN_FLOAT32, self.f16_in_f32);
        caps.set(Capabilities::SUBGROUP, self.subgroups);
        caps.set(Capabilities::SHADER_FLOAT16, self.native_f16);
        caps.set(Capabilities::COOPERATIVE_MATRIX, self.matrix_units);
        let mut v = Validator::new(ValidationFlags::all(), caps);
        if self.subgroups {
            v.subgroup_stages(naga::valid::ShaderStages::COMPUTE).subgroup_operations(SubgroupOperationSet::BASIC | SubgroupOperationSet::ARITHMETIC);
        }
        v
    }
}

/// A compute shader for one stage.
#[derive(Debug)]
pub struct GpuKernel {
    /// Kernel name (the stage's).
    pub name: String,
    /// The shader.
    pub module: Module,
    /// naga's validation result, which the back ends need.
    pub info: naga::valid::ModuleInfo,
    /// Symbolic dims, in the order of the `dims` buffer.
    pub symbols: Vec<String>,
    /// Workgroups along block axes x and y (integer expressions over dims).
    pub grid: [Expr; 2],
    /// Invocations per workgroup along x, y, z.
    pub workgroup_size: [u32; 3],
    /// Sources read.
    pub sources: usize,
    /// Bindings of each source, in binding order before the output: source
    /// `i` is `ranges[i]` consecutive ranges of `range_words` words of its
    /// buffer (the last range shorter), usually one range, the whole buffer.
    pub ranges: Vec<u32>,
    /// Sources bound a second time, after `dims`, as arrays of vectors (in
    /// binding order): the whole buffer, read-only.
    pub vector_views: Vec<usize>,
    /// The target it was generated for (`range_words` sizes the ranges).
    pub target: GpuTarget,
    /// The scheduled loop nest it was lowered from, as text.
    pub nest: String,
    /// `Ok` when every buffer access of the shader is proven in bounds and
    /// every integer division by a positive value, for symbols bound to 1
    /// or more: the loads of the stage by [`kiln_schedule::prove_in_bounds`],
    /// the divisions of the scheduled index arithmetic by
    /// [`kiln_schedule::prove_divisors`], the rest by construction (stores
    /// and the scheduled loads only at points inside the stage, under its
    /// guards; tile fills checked against both ends of the source; reduction
    /// partials indexed by invocation). Such a shader may run without wgpu's
    /// run-time checks; `Err` says what was not proven.
    pub bounds_proof: Result<(), String>,
}

impl GpuKernel {
    /// Bytes of workgroup memory the shader declares, by WGSL's layout
    /// rules (what the device's `max_compute_workgroup_storage_size` must
    /// hold).
    pub fn workgroup_bytes(&self) -> u32 {
        let mut layouter = naga::proc::Layouter::default();
        layouter.update(self.module.to_ctx()).expect("a validated module's types have layouts");
        self.module.global_variables.iter().filter(|(_, g)| g.space == AddressSpace::WorkGroup).map(|(_, g)| layouter[g.ty].to_stride()).sum()
    }

    /// The shader as WGSL.
    pub fn wgsl(&self) -> Result<String, CodegenError> {
        naga::back::wgsl::write_string(&self.module, &self.info, naga::back::wgsl::WriterFlags::empty()).map_err(|e| self.backend(e))
    }

    /// The shader as SPIR-V words (version 1.3 where subgroup operations
    /// need it, else 1.0).
    pub fn spirv(&self) -> Result<Vec<u32>, CodegenError> {
        let mut options = naga::back::spv::Options::default();
        if self.target.subgroups {
            options.lang_version = (1, 3);
        }
        naga::back::spv::write_vec(&self.module, &self.info, &options, None).map_err(|e| self.backend(e))
    }

    /// The shader as Metal Shading Language.
    pub fn msl(&self) -> Result<String, CodegenError> {
        let pipeline = naga::back::msl::PipelineOptions::default();
        naga::back::msl::write_string(&self.module, &self.info, &naga::back::msl::Options::default(), &pipeline).map(|(s, _)| s).map_err(|e| self.backend(e))
    }

    /// Workgroups to dispatch along x, y, z under `bindings` (an unbound
    /// symbol is returned as the error).
    pub fn dispatch(&self, bindings: &Bindings) -> Result<[u32; 3], String> {
        let groups = |e: &Expr| -> Result<u64, String> { Ok(eval_int(e, bindings)?.max(0) as u64) };
        let (x, z) = (groups(&self.grid[0])?, groups(&self.grid[1])?);
        let (x, y) = if x <= ROW_GROUPS as u64 { (x, 1) } else { (ROW_GROUPS as u64, x.div_ceil(ROW_GROUPS as u64)) };
        let fit = |n: u64| u32::try_from(n).map_err(|_| format!("{n} workgroups"));
        Ok([fit(x)?, fit(y)?, fit(z)?])
    }

    fn backend(&self, e: impl std::fmt::Display) -> CodegenError {
        CodegenError::Backend { kernel: self.name.clone(), message: e.to_string() }
    }
}

/// The value kinds shader expressions take.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Float,
    Int,
}

/// How a source's elements are stored in the shader.
fn storage_scalar(d: DType, target: &GpuTarget) -> Scalar {
    match d {
        DType::F32 => Scalar::F32,
        DType::I32 => Scalar::I32,
        DType::F16 if target.native_f16 => Scalar::F16,
        _ => Scalar::U32,
    }
}

type Res<T> = Result<T, CodegenError>;

/// The key of an expression's value in [`Builder::known`] (its debug text;
/// [`Builder::bind`] forgets those naming a rebound loop).
fn known_key(e: &Expr) -> String {
    format!("{e:?}")
}

/// A source as the shader sees it: one global per bound range.
#[derive(Clone)]
struct Source {
    ranges: Vec<Handle<Expression>>,
    range_words: u32,
    shape: Vec<Dim>,
    dtype: DType,
    /// The source bound as an array of vectors, for a vectorized loop.
    view: Option<(Handle<Expression>, VectorView)>,
}

/// How a vectorized loop's consecutive elements of one source are read.
#[derive(Clone, Copy, Debug)]
struct VectorView {
    /// The vectors' scalar (u32 for f16 kept in words).
    scalar: Scalar,
    /// Components per vector (2 or 4).
    components: u32,
    /// Elements per vector: `components`, or twice that for f16 in words.
    elements: u32,
}

impl VectorView {
    /// The view of a `dtype` source for `lanes` lanes, if vectors help.
    fn for_lanes(dtype: DType, lanes: i64, target: &GpuTarget) -> Option<VectorView> {
        if !matches!(dtype, DType::F32 | DType::I32 | DType::F16) {
            return None;
        }
        let scalar = storage_scalar(dtype, target);
        let halves_in_words = dtype == DType::F16 && scalar == Scalar::U32;
        let components = if halves_in_words { lanes / 2 } else { lanes }.min(4) as u32;
        (components >= 2).then_some(VectorView { scalar, components, elements: if halves_in_words { 2 * components } else { components } })
    }
}

struct Builder {
    f: Function,
    /// Expressions appended since the last `Emit`.
    pending: Option<(Handle<Expression>, Handle<Expression>)>,
    block: Block,
    /// Each source's (and last, the output's) global pointer, shape, dtype.
    globals: Vec<Source>,
    dims_global: Handle<Expression>,
    symbols: Vec<String>,
    /// Each loop's variable (by loop id).
    vars: HashMap<u32, Handle<Expression>>,
    /// Values already computed, by expression (its debug text), per
    /// enclosing block: a body reads the same scale or word many times,
    /// and not every driver merges the loads (lavapipe does not).
    known: Vec<HashMap<String, (Handle<Expression>, Kind)>>,
    i32_ty: Handle<Type>,
    u32_ty: Handle<Type>,
    /// Only with native f16 (an f16 type needs the capability).
    f16_ty: Option<Handle<Type>>,
    f32_ty: Handle<Type>,
    vec2_f32: Handle<Type>,
    target: GpuTarget,
    kernel: String,
    /// Sources staged in workgroup memory, and those staged now (the tile's
    /// first element along each axis).
    caches: Vec<CachePlan>,
    cache_bases: HashMap<u32, (Vec<Handle<Expression>>, CachePlan)>,
    lidx: Handle<Expression>,
    workgroup_len: u32,
    /// The vectorized loop's id, width and the lane being generated, while
    /// one is: integer divisions the lanes share are computed once
    /// ([`crate::lanes::fold_at_lane`]).
    lane: Option<(u32, i64, i64)>,
}

/// Loop ids standing for a tile element's offsets while a cache fills
/// (counting down from here; no nest has this many loops).
const CACHE_OFFSET_IDS: u32 = u32::MAX;

/// A source staged in workgroup memory at a loop: the tile every
/// invocation of the workgroup reads in one iteration of that loop.
#[derive(Clone, Debug)]
struct CachePlan {
    src: u32,
    at: u32,
    /// The tile's first element along each axis of the source (the load's
    /// index with every loop that varies inside the tile at 0).
    base: Vec<Expr>,
    /// Its length along each axis.
    extents: Vec<i64>,
    /// The workgroup array.
    shared: Handle<Expression>,
}

impl Builder {
    /// A builder of the compute function `f` of `kernel` for `target`,
    /// reading `globals` (the sources, then the output) and the `dims`
    /// buffer holding `symbols`, in workgroups of `workgroup` = (the local
    /// index expression, invocations), staging `caches`; the scalar types
    /// it uses are made in `module`.
    #[allow(clippy::too_many_arguments)]
    fn new(
        module: &mut Module,
        target: &GpuTarget,
        kernel: &str,
        f: Function,
        globals: Vec<Source>,
        dims_global: Handle<Expression>,
        symbols: Vec<String>,
        workgroup: (Handle<Expression>, u32),
        caches: Vec<CachePlan>,
    ) -> Builder {
        let vec2_f32 = module.types.insert(Type { name: None, inner: TypeInner::Vector { size: VectorSize::Bi, scalar: Scalar::F32 } }, Span::UNDEFINED);
        Builder {
            caches,
            cache_bases: HashMap::new(),
            lidx: workgroup.0,
            workgroup_len: workgroup.1,
            lane: None,
            f,
            pending: None,
            block: Block::new(),
            globals,
            dims_global,
            symbols,
            vars: HashMap::new(),
            known: vec![HashMap::new()],
            i32_ty: scalar_type(&mut module.types, Scalar::I32),
            u32_ty: scalar_type(&mut module.types, Scalar::U32),
            f16_ty: target.native_f16.then(|| scalar_type(&mut module.types, Scalar::F16)),
            f32_ty: scalar_type(&mut module.types, Scalar::F32),
            vec2_f32,
            target: *target,
            kernel: kernel.to_string(),
        }
    }

    fn unsupported(&self, what: impl Into<String>) -> CodegenError {
        CodegenError::Unsupported { kernel: self.kernel.clone(), target: "gpu", what: what.into() }
    }

    /// Append an expression that must be emitted before use.
    fn emit(&mut self, e: Expression) -> Handle<Expression> {
        let h = self.f.expressions.append(e, Span::UNDEFINED);
        self.pending = Some(match self.pending {
            None => (h, h),
            Some((first, _)) => (first, h),
        });
        h
    }

    /// Append an expression that is never emitted (literals, globals,
    /// local variables), after closing the pending range.
    fn pre(&mut self, e: Expression) -> Handle<Expression> {
        self.flush();
        self.f.expressions.append(e, Span::UNDEFINED)
    }

    fn flush(&mut self) {
        if let Some((first, last)) = self.pending.take() {
            self.block.push(Statement::Emit(naga::Range::new_from_bounds(first, last)), Span::UNDEFINED);
        }
    }

    fn push(&mut self, s: Statement) {
        self.flush();
        self.block.push(s, Span::UNDEFINED);
    }

    /// A workgroup barrier.
    fn barrier(&mut self) {
        self.push(Statement::ControlBarrier(naga::Barrier::WORK_GROUP));
    }

    /// Every invocation's `value` combined by `op` over the workgroup: stored
    /// at `lane` (the i32 local index) of the workgroup array `shared` of
    /// `lanes` (a power of two) elements, then halved by a barrier tree.
    /// Returns the result, which every invocation has read before it
    /// returns (the array may be written again).
    fn workgroup_tree(&mut self, shared: Handle<Expression>, lane: Handle<Expression>, lanes: u32, value: Handle<Expression>, op: ReduceOp) -> Res<Handle<Expression>> {
        let mine = self.emit(Expression::Access { base: shared, index: lane });
        self.push(Statement::Store { pointer: mine, value });
        self.barrier();
        let mut stride = lanes / 2;
        while stride > 0 {
            let st = self.int(stride as i64)?;
            let active = self.bin(BinaryOperator::Less, lane, st);
            self.if_(active, |b| {
                let other = b.bin(BinaryOperator::Add, lane, st);
                let oa = b.emit(Expression::Access { base: shared, index: other });
                let o = b.emit(Expression::Load { pointer: oa });
                let ma = b.emit(Expression::Access { base: shared, index: lane });
                let v = b.emit(Expression::Load { pointer: ma });
                let r = b.combine(op, v, o);
                b.push(Statement::Store { pointer: ma, value: r });
                Ok(())
            })?;
            self.barrier();
            stride /= 2;
        }
        let zero = self.int(0)?;
        let first = self.emit(Expression::Access { base: shared, index: zero });
        let total = self.emit(Expression::Load { pointer: first });
        self.barrier();
        Ok(total)
    }

    /// Build a nested block with `body`.
    fn nested(&mut self, body: impl FnOnce(&mut Self) -> Res<()>) -> Res<Block> {
        self.flush();
        let outer = std::mem::take(&mut self.block);
        self.known.push(HashMap::new());
        let r = body(self);
        self.known.pop();
        r?;
        self.flush();
        Ok(std::mem::replace(&mut self.block, outer))
    }

    /// Bind loop `id`'s variable, forgetting values computed with an
    /// earlier binding.
    fn bind(&mut self, id: u32, v: Handle<Expression>) {
        self.vars.insert(id, v);
        let axis = format!("Axis({id})");
        for level in &mut self.known {
            level.retain(|k, _| !k.contains(&axis));
        }
    }

    /// `if condition { accept }`.
    fn if_(&mut self, condition: Handle<Expression>, accept: impl FnOnce(&mut Self) -> Res<()>) -> Res<()> {
        let accept = self.nested(accept)?;
        self.push(Statement::If { condition, accept, reject: Block::new() });
        Ok(())
    }

    /// `for var in 0..extent { body }`, with the variable under loop id `id`.
    fn serial_loop(&mut self, id: u32, extent: &Expr, body: impl FnOnce(&mut Self) -> Res<()>) -> Res<()> {
        let (extent, _) = self.value(extent)?;
        self.loop_to(format!("l{id}"), extent, |b, v| {
            b.bind(id, v);
            body(b)
        })
    }

    /// The first of subgroup `subgroup`'s own 256 values in a matrix
    /// kernel's workgroup scratch (a 16 x 16 tile each).
    fn subgroup_tile(&mut self, subgroup: Handle<Expression>) -> Res<Handle<Expression>> {
        let two_fifty_six = self.int(256)?;
        Ok(self.bin(BinaryOperator::Multiply, subgroup, two_fifty_six))
    }

    /// Stores a subgroup's 16 x 16 f32 accumulator `acc` to `out_g` through
    /// its own tile of the workgroup scratch `scratch_g` (at `own_tile`):
    /// each of the 32 lanes (`lane`, an i32) moves every 32nd element,
    /// `place(row, column)` of the tile giving whether it exists and its
    /// index in `out_g`. Barriers before and after, so the scratch can be
    /// reused.
    fn store_matrix_tile(
        &mut self,
        acc: Handle<Expression>,
        scratch_g: Handle<Expression>,
        own_tile: Handle<Expression>,
        lane: Handle<Expression>,
        out_g: Handle<Expression>,
        place: impl FnOnce(&mut Self, Handle<Expression>, Handle<Expression>) -> Res<(Handle<Expression>, Handle<Expression>)>,
    ) -> Res<()> {
        use naga::CooperativeData;
        let pointer = self.emit(Expression::Access { base: scratch_g, index: own_tile });
        let value = self.emit(Expression::Load { pointer: acc });
        let stride = self.uint(16);
        self.push(Statement::CooperativeStore { target: value, data: CooperativeData { pointer, stride, row_major: true } });
        self.barrier();
        let per_lane = self.int(256 / MATRIX_LANES)?;
        self.loop_to("store".into(), per_lane, |b, t| {
            let lanes = b.int(MATRIX_LANES)?;
            let tl = b.bin(BinaryOperator::Multiply, t, lanes);
            let e = b.bin(BinaryOperator::Add, lane, tl);
            let sixteen = b.int(16)?;
            let r = b.bin(BinaryOperator::Divide, e, sixteen);
            let c = b.bin(BinaryOperator::Modulo, e, sixteen);
            let (inside, index) = place(b, r, c)?;
            b.if_(inside, |b| {
                let at = b.bin(BinaryOperator::Add, own_tile, e);
                let from = b.emit(Expression::Access { base: scratch_g, index: at });
                let value = b.emit(Expression::Load { pointer: from });
                let to = b.emit(Expression::Access { base: out_g, index });
                b.push(Statement::Store { pointer: to, value });
                Ok(())
            })
        })?;
        self.barrier();
        Ok(())
    }

    /// `for var in 0..extent { body(var) }` for an i32 `extent`.
    fn loop_to(&mut self, name: String, extent: Handle<Expression>, body: impl FnOnce(&mut Self, Handle<Expression>) -> Res<()>) -> Res<()> {
        let var = self.f.local_variables.append(LocalVariable { name: Some(name), ty: self.i32_ty, init: None }, Span::UNDEFINED);
        let ptr = self.pre(Expression::LocalVariable(var));
        let zero = self.int(0)?;
        self.push(Statement::Store { pointer: ptr, value: zero });
        let body = self.nested(|b| {
            let v = b.emit(Expression::Load { pointer: ptr });
            let done = b.bin(BinaryOperator::GreaterEqual, v, extent);
            b.if_(done, |b| {
                b.push(Statement::Break);
                Ok(())
            })?;
            body(b, v)
        })?;
        let continuing = self.nested(|b| {
            let v = b.emit(Expression::Load { pointer: ptr });
            let one = b.int(1)?;
            let next = b.bin(BinaryOperator::Add, v, one);
            b.push(Statement::Store { pointer: ptr, value: next });
            Ok(())
        })?;
        self.push(Statement::Loop { body, continuing, break_if: None });
        Ok(())
    }

    fn int(&mut self, v: i64) -> Res<Handle<Expression>> {
        let v = i32::try_from(v).map_err(|_| self.unsupported(format!("use the integer {v}, which does not fit i32")))?;
        Ok(self.pre(Expression::Literal(Literal::I32(v))))
    }

    fn uint(&mut self, v: u32) -> Handle<Expression> {
        self.pre(Expression::Literal(Literal::U32(v)))
    }

    fn float(&mut self, v: f64) -> Res<Handle<Expression>> {
        let v = v as f32;
        if !v.is_finite() {
            // naga literals are finite: ±inf as a bit pattern
            let bits = self.uint(v.to_bits());
            return Ok(self.emit(Expression::As { expr: bits, kind: naga::ScalarKind::Float, convert: None }));
        }
        Ok(self.pre(Expression::Literal(Literal::F32(v))))
    }

    fn bin(&mut self, op: BinaryOperator, left: Handle<Expression>, right: Handle<Expression>) -> Handle<Expression> {
        self.emit(Expression::Binary { op, left, right })
    }

    fn math(&mut self, fun: MathFunction, arg: Handle<Expression>, arg1: Option<Handle<Expression>>, arg2: Option<Handle<Expression>>) -> Handle<Expression> {
        self.emit(Expression::Math { fun, arg, arg1, arg2, arg3: None })
    }

    /// Reinterpret (`convert: None`) or convert to a 32-bit scalar kind.
    fn cast(&mut self, expr: Handle<Expression>, kind: naga::ScalarKind, convert: bool) -> Handle<Expression> {
        self.emit(Expression::As { expr, kind, convert: convert.then_some(4) })
    }

    fn dim(&mut self, d: &Dim) -> Res<Handle<Expression>> {
        let mut total: Option<Handle<Expression>> = None;
        for (mono, c) in d.terms() {
            let mut term = self.int(c)?;
            for s in mono {
                let i = self.symbols.iter().position(|x| x == s).expect("symbols collected");
                let i = self.int(i as i64)?;
                let at = self.emit(Expression::Access { base: self.dims_global, index: i });
                let v = self.emit(Expression::Load { pointer: at });
                term = self.bin(BinaryOperator::Multiply, term, v);
            }
            total = Some(match total {
                None => term,
                Some(t) => self.bin(BinaryOperator::Add, t, term),
            });
        }
        match total {
            Some(t) => Ok(t),
            None => self.int(0),
        }
    }

    /// Row-major flat index of `index` into `shape`.
    fn flat(&mut self, index: &[Expr], shape: &[Dim]) -> Res<Handle<Expression>> {
        let mut flat: Option<Handle<Expression>> = None;
        for (e, d) in index.iter().zip(shape) {
            let (i, _) = self.value(e)?;
            flat = Some(match flat {
                None => i,
                Some(f) => {
                    let n = self.dim(d)?;
                    let scaled = self.bin(BinaryOperator::Multiply, f, n);
                    self.bin(BinaryOperator::Add, scaled, i)
                }
            });
        }
        match flat {
            Some(f) => Ok(f),
            None => self.int(0),
        }
    }

    fn to_int(&mut self, (h, k): (Handle<Expression>, Kind)) -> Handle<Expression> {
        match k {
            Kind::Int => h,
            Kind::Float => self.cast(h, naga::ScalarKind::Sint, true),
        }
    }

    fn to_float(&mut self, (h, k): (Handle<Expression>, Kind)) -> Handle<Expression> {
        match k {
            Kind::Float => h,
            Kind::Int => self.cast(h, naga::ScalarKind::Float, true),
        }
    }

    fn to_bool(&mut self, (h, k): (Handle<Expression>, Kind)) -> Res<Handle<Expression>> {
        let zero = if k == Kind::Int { self.int(0)? } else { self.float(0.0)? };
        Ok(self.bin(BinaryOperator::NotEqual, h, zero))
    }

    /// Element `index` (i32) of source `src` as stored (f32, i32, or a u32
    /// word of f16 and quantized tensors); a load from a source bound as
    /// several ranges switches on the range.
    fn element(&mut self, src: u32, index: Handle<Expression>) -> Res<Handle<Expression>> {
        let source = self.source(src)?;
        if let [global] = source.ranges[..] {
            let at = self.emit(Expression::Access { base: global, index });
            return Ok(self.emit(Expression::Load { pointer: at }));
        }
        let scalar = storage_scalar(source.dtype, &self.target);
        let ty = match scalar {
            Scalar::F32 => self.f32_ty,
            Scalar::I32 => self.i32_ty,
            Scalar::F16 => self.f16_ty.ok_or_else(|| self.unsupported("declare an f16 value without native f16"))?,
            _ => self.u32_ty,
        };
        let var = self.f.local_variables.append(LocalVariable { name: Some(format!("s{src}_element")), ty, init: None }, Span::UNDEFINED);
        let ptr = self.pre(Expression::LocalVariable(var));
        let per_range = source.range_words * 4 / scalar.width as u32;
        let shift = self.uint(per_range.trailing_zeros());
        let range = self.bin(BinaryOperator::ShiftRight, index, shift);
        let mask = self.int(per_range as i64 - 1)?;
        let offset = self.bin(BinaryOperator::And, index, mask);
        let last = source.ranges.len() - 1;
        let mut cases = Vec::new();
        for (r, &global) in source.ranges.iter().enumerate() {
            let body = self.nested(|b| {
                let at = b.emit(Expression::Access { base: global, index: offset });
                let v = b.emit(Expression::Load { pointer: at });
                b.push(Statement::Store { pointer: ptr, value: v });
                Ok(())
            })?;
            // the last range takes every other value: naga wants a default
            let value = if r == last { naga::SwitchValue::Default } else { naga::SwitchValue::I32(r as i32) };
            cases.push(naga::SwitchCase { value, body, fall_through: false });
        }
        self.push(Statement::Switch { selector: range, cases });
        Ok(self.emit(Expression::Load { pointer: ptr }))
    }

    /// The function built, as `module`'s compute entry point `main` of
    /// `workgroup_size` invocations, and naga's validation of the module.
    fn finish(self, module: &mut Module, workgroup_size: [u32; 3]) -> Res<naga::valid::ModuleInfo> {
        let mut function = self.f;
        function.body = self.block;
        module.entry_points.push(EntryPoint {
            name: "main".into(),
            stage: ShaderStage::Compute,
            early_depth_test: None,
            workgroup_size,
            workgroup_size_overrides: None,
            function,
            mesh_info: None,
            task_payload: None,
            incoming_ray_payload: None,
        });
        self.target.validator().validate(module).map_err(|e| CodegenError::Backend { kernel: self.kernel.clone(), message: format!("naga rejects the shader: {}", e.emit_to_string("")) })
    }

    /// Word `index` (an integer expression) of source `src`, loaded once
    /// per block however many bytes of it are read.
    fn word(&mut self, src: u32, index: &Expr) -> Res<Handle<Expression>> {
        let (w, _) = self.remembered(format!("word of s{src} at {}", known_key(index)), |b| {
            let (i, _) = b.value(index)?;
            Ok((b.element(src, i)?, Kind::Int))
        })?;
        Ok(w)
    }

    /// The workgroup's index along the grid's first axis (i32):
    /// `wid.x + wid.y * ROW_GROUPS`, a grid of more than [`ROW_GROUPS`]
    /// workgroups spilling into `y`.
    fn workgroup_index(&mut self, wid: Handle<Expression>) -> Handle<Expression> {
        let x = self.emit(Expression::AccessIndex { base: wid, index: 0 });
        let y = self.emit(Expression::AccessIndex { base: wid, index: 1 });
        let row = self.uint(ROW_GROUPS);
        let yr = self.bin(BinaryOperator::Multiply, y, row);
        let block = self.bin(BinaryOperator::Add, x, yr);
        self.cast(block, naga::ScalarKind::Sint, false)
    }

    /// [`Builder::workgroup_index`], after which the idle workgroups at the
    /// end of a grid spilling into `y` (at or past `blocks`, uniform per
    /// workgroup) return.
    fn live_workgroup_index(&mut self, wid: Handle<Expression>, blocks: &Expr) -> Res<Handle<Expression>> {
        let block = self.workgroup_index(wid);
        let (blocks, _) = self.value(blocks)?;
        let idle = self.bin(BinaryOperator::GreaterEqual, block, blocks);
        self.if_(idle, |b| {
            b.push(Statement::Return { value: None });
            Ok(())
        })?;
        Ok(block)
    }

    /// The f16 at half-word index `half` (i32) of a source, as f32.
    fn half(&mut self, src: u32, half: Handle<Expression>) -> Res<Handle<Expression>> {
        if storage_scalar(self.source(src)?.dtype, &self.target) == Scalar::F16 {
            let h = self.element(src, half)?;
            return Ok(self.widen_f16(h));
        }
        let one = self.uint(1);
        let word_index = self.bin(BinaryOperator::ShiftRight, half, one);
        let w = self.element(src, word_index)?;
        let one = self.int(1)?;
        let lane = self.bin(BinaryOperator::And, half, one);
        let lane = self.cast(lane, naga::ScalarKind::Uint, false);
        let sixteen = self.uint(16);
        let shift = self.bin(BinaryOperator::Multiply, lane, sixteen);
        self.f16_in_word(w, shift)
    }

    /// A native f16 value as f32.
    fn widen_f16(&mut self, h: Handle<Expression>) -> Handle<Expression> {
        self.emit(Expression::As { expr: h, kind: naga::ScalarKind::Float, convert: Some(4) })
    }

    /// The f16 `shift` (u32: 0 or 16) bits up in u32 `word`, as f32.
    fn f16_in_word(&mut self, word: Handle<Expression>, shift: Handle<Expression>) -> Res<Handle<Expression>> {
        let bits = self.bin(BinaryOperator::ShiftRight, word, shift);
        let mask = self.uint(0xffff);
        let bits = self.bin(BinaryOperator::And, bits, mask);
        self.f16_to_f32(bits)
    }

    /// The f16 in the low 16 bits of a u32, as f32.
    fn f16_to_f32(&mut self, bits: Handle<Expression>) -> Res<Handle<Expression>> {
        if self.target.f16_in_f32 {
            let pair = self.math(MathFunction::Unpack2x16float, bits, None, None);
            return Ok(self.emit(Expression::AccessIndex { base: pair, index: 0 }));
        }
        let u = |b: &mut Self, v: u32| b.uint(v);
        let (m8000, m3ff, m1f) = (u(self, 0x8000), u(self, 0x3ff), u(self, 0x1f));
        let (sixteen, ten, thirteen, twenty_three) = (u(self, 16), u(self, 10), u(self, 13), u(self, 23));
        let sign = self.bin(BinaryOperator::And, bits, m8000);
        let sign = self.bin(BinaryOperator::ShiftLeft, sign, sixteen);
        let exp = self.bin(BinaryOperator::ShiftRight, bits, ten);
        let exp = self.bin(BinaryOperator::And, exp, m1f);
        let mant = self.bin(BinaryOperator::And, bits, m3ff);
        let mant_hi = self.bin(BinaryOperator::ShiftLeft, mant, thirteen);
        let bias = u(self, 112);
        let e32 = self.bin(BinaryOperator::Add, exp, bias);
        let e32 = self.bin(BinaryOperator::ShiftLeft, e32, twenty_three);
        let normal = self.bin(BinaryOperator::InclusiveOr, sign, e32);
        let normal = self.bin(BinaryOperator::InclusiveOr, normal, mant_hi);
        let inf = u(self, 0x7f80_0000);
        let special = self.bin(BinaryOperator::InclusiveOr, sign, inf);
        let special = self.bin(BinaryOperator::InclusiveOr, special, mant_hi);
        let is_special = self.bin(BinaryOperator::Equal, exp, m1f);
        let wide = self.emit(Expression::Select { condition: is_special, accept: special, reject: normal });
        let wide = self.cast(wide, naga::ScalarKind::Float, false);
        // zero and subnormals: mant * 2^-24
        let mf = self.cast(mant, naga::ScalarKind::Float, true);
        let tiny = self.float(1.0 / 16_777_216.0)?;
        let sub = self.bin(BinaryOperator::Multiply, mf, tiny);
        let neg = self.emit(Expression::Unary { op: UnaryOperator::Negate, expr: sub });
        let zero = u(self, 0);
        let negative = self.bin(BinaryOperator::NotEqual, sign, zero);
        let sub = self.emit(Expression::Select { condition: negative, accept: neg, reject: sub });
        let is_sub = self.bin(BinaryOperator::Equal, exp, zero);
        Ok(self.emit(Expression::Select { condition: is_sub, accept: sub, reject: wide }))
    }

    /// An f32 rounded to f16 (nearest, ties to even), in the low 16 bits of a u32.
    fn f32_to_f16(&mut self, v: Handle<Expression>) -> Res<Handle<Expression>> {
        if self.target.f16_in_f32 {
            let zero = self.float(0.0)?;
            let pair = self.emit(Expression::Compose { ty: self.vec2_f32, components: vec![v, zero] });
            let packed = self.math(MathFunction::Pack2x16float, pair, None, None);
            let mask = self.uint(0xffff);
            return Ok(self.bin(BinaryOperator::And, packed, mask));
        }
        use BinaryOperator as B;
        let u = |b: &mut Self, v: u32| b.uint(v);
        let x = self.cast(v, naga::ScalarKind::Uint, false);
        let (sixteen, twenty_three, thirteen) = (u(self, 16), u(self, 23), u(self, 13));
        let sign = self.bin(B::ShiftRight, x, sixteen);
        let m8000 = u(self, 0x8000);
        let sign = self.bin(B::And, sign, m8000);
        let e = self.bin(B::ShiftRight, x, twenty_three);
        let mff = u(self, 0xff);
        let e = self.bin(B::And, e, mff);
        let m7fffff = u(self, 0x7f_ffff);
        let m = self.bin(B::And, x, m7fffff);
        let e = self.cast(e, naga::ScalarKind::Sint, false);
        let bias = self.int(112)?;
        let e16 = self.bin(B::Subtract, e, bias);
        // rounds `base` up when the dropped `rem` is above half of `unit`, or
        // exactly half and `base` is odd
        let round = |b: &mut Self, base: Handle<Expression>, rem: Handle<Expression>, half: Handle<Expression>| {
            let above = b.bin(B::Greater, rem, half);
            let tie = b.bin(B::Equal, rem, half);
            let one = b.uint(1);
            let odd = b.bin(B::And, base, one);
            let odd = b.bin(B::Equal, odd, one);
            let tie_odd = b.bin(B::LogicalAnd, tie, odd);
            let up = b.bin(B::LogicalOr, above, tie_odd);
            let up = b.cast(up, naga::ScalarKind::Uint, true);
            b.bin(B::Add, base, up)
        };
        // normal results
        let ten = u(self, 10);
        let eu = self.cast(e16, naga::ScalarKind::Uint, false);
        let base = self.bin(B::ShiftLeft, eu, ten);
        let top = self.bin(B::ShiftRight, m, thirteen);
        let base = self.bin(B::InclusiveOr, base, top);
        let m1fff = u(self, 0x1fff);
        let rem = self.bin(B::And, m, m1fff);
        let h1000 = u(self, 0x1000);
        let normal = round(self, base, rem, h1000);
        // subnormal results: the implicit bit shifted down by 14 - e16
        let implicit = u(self, 0x80_0000);
        let mm = self.bin(B::InclusiveOr, m, implicit);
        let fourteen = self.int(14)?;
        let shift = self.bin(B::Subtract, fourteen, e16);
        let max_shift = self.int(25)?;
        let shift = self.math(MathFunction::Min, shift, Some(max_shift), None);
        let shift = self.cast(shift, naga::ScalarKind::Uint, false);
        let sub_base = self.bin(B::ShiftRight, mm, shift);
        let one = u(self, 1);
        let unit = self.bin(B::ShiftLeft, one, shift);
        let low = self.bin(B::Subtract, unit, one);
        let sub_rem = self.bin(B::And, mm, low);
        let half = self.bin(B::ShiftRight, unit, one);
        let sub = round(self, sub_base, sub_rem, half);
        // choose: NaN/inf input, overflow, normal, subnormal
        let zero = u(self, 0);
        let has_mant = self.bin(B::NotEqual, m, zero);
        let quiet = u(self, 0x200);
        let nan_bit = self.emit(Expression::Select { condition: has_mant, accept: quiet, reject: zero });
        let inf = u(self, 0x7c00);
        let nan_inf = self.bin(B::InclusiveOr, inf, nan_bit);
        let one_i = self.int(1)?;
        let is_normal = self.bin(B::GreaterEqual, e16, one_i);
        let r = self.emit(Expression::Select { condition: is_normal, accept: normal, reject: sub });
        let thirty_one = self.int(31)?;
        let overflow = self.bin(B::GreaterEqual, e16, thirty_one);
        let r = self.emit(Expression::Select { condition: overflow, accept: inf, reject: r });
        let c255 = self.int(255)?;
        let special = self.bin(B::Equal, e, c255);
        let r = self.emit(Expression::Select { condition: special, accept: nan_inf, reject: r });
        Ok(self.bin(B::InclusiveOr, sign, r))
    }

    /// Write the low `width` bits of `bits` (u32) at byte offset `offset`
    /// (i32, a multiple of width / 8, not crossing a word) of the output,
    /// whose words are atomic: other invocations may write the rest of the word.
    fn write_bits(&mut self, offset: Handle<Expression>, bits: Handle<Expression>, width: u32) -> Res<()> {
        let out = self.globals.last().expect("the output").ranges[0];
        let two = self.uint(2);
        let word = self.bin(BinaryOperator::ShiftRight, offset, two);
        let three = self.int(3)?;
        let byte = self.bin(BinaryOperator::And, offset, three);
        let byte = self.cast(byte, naga::ScalarKind::Uint, false);
        let eight = self.uint(8);
        let shift = self.bin(BinaryOperator::Multiply, byte, eight);
        let ones = self.uint(if width == 32 { u32::MAX } else { (1 << width) - 1 });
        let bits = self.bin(BinaryOperator::And, bits, ones);
        let mask = self.bin(BinaryOperator::ShiftLeft, ones, shift);
        let keep = self.emit(Expression::Unary { op: UnaryOperator::BitwiseNot, expr: mask });
        let value = self.bin(BinaryOperator::ShiftLeft, bits, shift);
        let pointer = self.emit(Expression::Access { base: out, index: word });
        self.push(Statement::Atomic { pointer, fun: naga::AtomicFunction::And, value: keep, result: None });
        self.push(Statement::Atomic { pointer, fun: naga::AtomicFunction::InclusiveOr, value, result: None });
        Ok(())
    }

    fn source(&self, src: u32) -> Res<Source> {
        self.globals.get(src as usize).cloned().ok_or_else(|| self.unsupported(format!("read source {src}, which the kernel does not have")))
    }

    fn value(&mut self, e: &Expr) -> Res<(Handle<Expression>, Kind)> {
        if let Some((lane, w, j)) = self.lane {
            if crate::lanes::mentions(e, lane) {
                // this lane's expression, its lane-shared parts lane-free
                return self.value(&crate::lanes::at_lane(e, lane, w, j));
            }
        }
        if matches!(e, Expr::Float(_) | Expr::Int(_) | Expr::Axis(_)) {
            return self.compute(e);
        }
        self.remembered(known_key(e), |b| b.compute(e))
    }

    /// The value known under `key` in this block or an enclosing one, else
    /// `make`'s, remembered in this block.
    fn remembered(&mut self, key: String, make: impl FnOnce(&mut Self) -> Res<(Handle<Expression>, Kind)>) -> Res<(Handle<Expression>, Kind)> {
        if let Some(&v) = self.known.iter().rev().find_map(|level| level.get(&key)) {
            return Ok(v);
        }
        let v = make(self)?;
        self.known.last_mut().expect("a level per block").insert(key, v);
        Ok(v)
    }

    fn compute(&mut self, e: &Expr) -> Res<(Handle<Expression>, Kind)> {
        Ok(match e {
            Expr::Float(v) => (self.float(*v)?, Kind::Float),
            Expr::Int(v) => (self.int(*v)?, Kind::Int),
            Expr::Axis(a) => (*self.vars.get(a).ok_or_else(|| self.unsupported(format!("find loop {a}")))?, Kind::Int),
            Expr::Dim(d) => (self.dim(d)?, Kind::Int),
            Expr::Load { src, index } => {
                if let Some(v) = self.cached_load(*src, index)? {
                    return Ok((v, Kind::Float));
                }
                let Source { shape, dtype, .. } = self.source(*src)?;
                let flat = self.flat(index, &shape)?;
                match dtype {
                    DType::F32 | DType::I32 => (self.element(*src, flat)?, if dtype == DType::F32 { Kind::Float } else { Kind::Int }),
                    DType::F16 => (self.half(*src, flat)?, Kind::Float),
                    _ => return Err(self.unsupported(format!("load a {dtype} element without its dequantization rule"))),
                }
            }
            Expr::LoadByte { src, offset, signed } => {
                let (w, shift) = match aligned_part(offset) {
                    // byte `c` (a constant) past a multiple of 4: a word that
                    // every lane, or load, sharing that multiple reads once
                    Some((rest, c)) => {
                        let word = Expr::Binary(BinOp::Add, Box::new(Expr::Binary(BinOp::Div, Box::new(rest), Box::new(Expr::Int(4)))), Box::new(Expr::Int(c.div_euclid(4))));
                        (self.word(*src, &word)?, self.uint(c.rem_euclid(4) as u32 * 8))
                    }
                    None => {
                        let (off, _) = self.value(offset)?;
                        let two = self.uint(2);
                        let word_index = self.bin(BinaryOperator::ShiftRight, off, two);
                        let w = self.element(*src, word_index)?;
                        let three = self.int(3)?;
                        let byte_in_word = self.bin(BinaryOperator::And, off, three);
                        let byte_in_word = self.cast(byte_in_word, naga::ScalarKind::Uint, false);
                        let eight = self.uint(8);
                        (w, self.bin(BinaryOperator::Multiply, byte_in_word, eight))
                    }
                };
                if *signed {
                    // move the byte to the top, then shift it down arithmetically
                    let twenty_four = self.uint(24);
                    let up = self.bin(BinaryOperator::Subtract, twenty_four, shift);
                    let top = self.bin(BinaryOperator::ShiftLeft, w, up);
                    let top = self.cast(top, naga::ScalarKind::Sint, false);
                    let twenty_four = self.uint(24);
                    (self.bin(BinaryOperator::ShiftRight, top, twenty_four), Kind::Int)
                } else {
                    let down = self.bin(BinaryOperator::ShiftRight, w, shift);
                    let mask = self.uint(255);
                    let byte = self.bin(BinaryOperator::And, down, mask);
                    (self.cast(byte, naga::ScalarKind::Sint, false), Kind::Int)
                }
            }
            Expr::LoadHalf { src, offset } => {
                let (off, _) = self.value(offset)?;
                let one = self.uint(1);
                let half = self.bin(BinaryOperator::ShiftRight, off, one);
                (self.half(*src, half)?, Kind::Float)
            }
            Expr::Unary(op, a) => {
                let (x, kind) = self.value(a)?;
                if kind == Kind::Int {
                    return Ok(match op {
                        UnOp::Neg => (self.emit(Expression::Unary { op: UnaryOperator::Negate, expr: x }), Kind::Int),
                        UnOp::Abs => (self.math(MathFunction::Abs, x, None, None), Kind::Int),
                        _ => return Err(self.unsupported(format!("take {op:?} of an integer"))),
                    });
                }
                let fun = match op {
                    UnOp::Neg => return Ok((self.emit(Expression::Unary { op: UnaryOperator::Negate, expr: x }), Kind::Float)),
                    UnOp::Abs => MathFunction::Abs,
                    UnOp::Exp => MathFunction::Exp,
                    UnOp::Log => MathFunction::Log,
                    UnOp::Sqrt => MathFunction::Sqrt,
                    UnOp::Rsqrt => {
                        let s = self.math(MathFunction::Sqrt, x, None, None);
                        let one = self.float(1.0)?;
                        return Ok((self.bin(BinaryOperator::Divide, one, s), Kind::Float));
                    }
                    UnOp::Tanh => MathFunction::Tanh,
                    UnOp::Sin => MathFunction::Sin,
                    UnOp::Cos => MathFunction::Cos,
                    UnOp::Erf => return Ok((self.erf(x)?, Kind::Float)),
                };
                (self.math(fun, x, None, None), Kind::Float)
            }
            Expr::Binary(op @ (BinOp::Add | BinOp::Sub), a, b) if self.target.float_by_exponent && small_int_cast(a).is_some() && matches!(**b, Expr::Float(c) if c.fract() == 0.0 && c.abs() <= SMALL_INT) => {
                let (Some(q), Expr::Float(c)) = (small_int_cast(a), &**b) else { unreachable!("matched above") };
                (self.float_by_exponent(q, if *op == BinOp::Sub { *c } else { -*c })?, Kind::Float)
            }
            Expr::Binary(op, a, b) => {
                let (x, ka) = self.value(a)?;
                let (y, kb) = self.value(b)?;
                // mixed operands compute in float, as in the interpreter
                let (x, y, k) = if ka == kb || matches!(op, BinOp::Shr | BinOp::And) {
                    (x, y, ka)
                } else {
                    (self.to_float((x, ka)), self.to_float((y, kb)), Kind::Float)
                };
                use BinOp::*;
                match op {
                    Add | Sub | Mul | Div | Rem | And => {
                        let bop = match op {
                            Add => BinaryOperator::Add,
                            Sub => BinaryOperator::Subtract,
                            Mul => BinaryOperator::Multiply,
                            Div => BinaryOperator::Divide,
                            Rem => BinaryOperator::Modulo,
                            _ => BinaryOperator::And,
                        };
                        (self.bin(bop, x, y), k)
                    }
                    Max | Min => (self.math(if *op == Max { MathFunction::Max } else { MathFunction::Min }, x, Some(y), None), k),
                    Shr => {
                        let count = self.cast(y, naga::ScalarKind::Uint, false);
                        (self.bin(BinaryOperator::ShiftRight, x, count), Kind::Int)
                    }
                    Lt | Le | Eq => {
                        let bop = match op {
                            Lt => BinaryOperator::Less,
                            Le => BinaryOperator::LessEqual,
                            _ => BinaryOperator::Equal,
                        };
                        let c = self.bin(bop, x, y);
                        (self.cast(c, naga::ScalarKind::Sint, true), Kind::Int)
                    }
                }
            }
            Expr::Select(c, a, b) => {
                let c = self.value(c)?;
                let condition = self.to_bool(c)?;
                let (accept, ka) = self.value(a)?;
                let (reject, kb) = self.value(b)?;
                let (accept, reject, k) = if ka == kb { (accept, reject, ka) } else { (self.to_float((accept, ka)), self.to_float((reject, kb)), Kind::Float) };
                (self.emit(Expression::Select { condition, accept, reject }), k)
            }
            Expr::MulAdd(a, b, c) => {
                let x = self.value(a)?;
                let y = self.value(b)?;
                let z = self.value(c)?;
                let (x, y, z) = (self.to_float(x), self.to_float(y), self.to_float(z));
                (self.math(MathFunction::Fma, x, Some(y), Some(z)), Kind::Float)
            }
            Expr::Cast(ScalarKind::Float, a) => {
                let v = self.value(a)?;
                (self.to_float(v), Kind::Float)
            }
            Expr::Cast(ScalarKind::Int, a) => {
                let v = self.value(a)?;
                (self.to_int(v), Kind::Int)
            }
        })
    }

    /// Integer `q` (at most [`SMALL_INT`] in magnitude) as a float, less
    /// `minus` (an integer of at most that magnitude), by adding its bits to
    /// those of 1.5 * 2^23: exact, and without a conversion instruction.
    fn float_by_exponent(&mut self, q: &Expr, minus: f64) -> Res<Handle<Expression>> {
        let (v, _) = self.value(q)?;
        let magic = self.int(0x4B40_0000)?;
        let bits = self.bin(BinaryOperator::Add, v, magic);
        let f = self.emit(Expression::As { expr: bits, kind: naga::ScalarKind::Float, convert: None });
        let k = self.float(12_582_912.0 + minus)?;
        Ok(self.bin(BinaryOperator::Subtract, f, k))
    }

    /// erf, which WGSL lacks: its Maclaurin series below 0.5, and Numerical
    /// Recipes' erfc fit (relative error < 1.2e-7) above.
    fn erf(&mut self, x: Handle<Expression>) -> Res<Handle<Expression>> {
        let poly = |b: &mut Self, t: Handle<Expression>, coeffs: &[f64]| -> Res<Handle<Expression>> {
            let mut acc = b.float(*coeffs.last().expect("coefficients"))?;
            for &c in coeffs.iter().rev().skip(1) {
                let c = b.float(c)?;
                acc = b.math(MathFunction::Fma, acc, Some(t), Some(c));
            }
            Ok(acc)
        };
        let a = self.math(MathFunction::Abs, x, None, None);
        let x2 = self.bin(BinaryOperator::Multiply, x, x);
        let series = poly(self, x2, &[1.128_379_167_095_512_6, -0.376_126_389_031_837_5, 0.112_837_916_709_551_26, -0.026_866_170_645_131_25, 0.005_223_977_625_442_188])?;
        let small = self.bin(BinaryOperator::Multiply, x, series);
        let one = self.float(1.0)?;
        let half = self.float(0.5)?;
        let denom = self.math(MathFunction::Fma, half, Some(a), Some(one));
        let t = self.bin(BinaryOperator::Divide, one, denom);
        let fit = poly(self, t, &[-1.265_512_23, 1.000_023_68, 0.374_091_96, 0.096_784_18, -0.186_288_06, 0.278_868_07, -1.135_203_98, 1.488_515_87, -0.822_152_23, 0.170_872_77])?;
        let neg_x2 = self.emit(Expression::Unary { op: UnaryOperator::Negate, expr: x2 });
        let arg = self.bin(BinaryOperator::Add, neg_x2, fit);
        let e = self.math(MathFunction::Exp, arg, None, None);
        let erfc = self.bin(BinaryOperator::Multiply, t, e);
        let large = self.bin(BinaryOperator::Subtract, one, erfc);
        let sign = self.math(MathFunction::Sign, x, None, None);
        let large = self.bin(BinaryOperator::Multiply, sign, large);
        let is_small = self.bin(BinaryOperator::Less, a, half);
        Ok(self.emit(Expression::Select { condition: is_small, accept: small, reject: large }))
    }

    /// At the start of an iteration of loop `at`: each source cached there
    /// copied into its workgroup memory by the whole workgroup (zeros past
    /// the source's end), then a barrier; its loads read from there until
    /// [`Self::release_caches`]. Returns whether any was.
    fn fill_caches(&mut self, at: u32) -> Res<bool> {
        let caches: Vec<CachePlan> = self.caches.iter().filter(|c| c.at == at).cloned().collect();
        for c in &caches {
            let bases = c.base.iter().map(|e| Ok(self.value(e)?.0)).collect::<Res<Vec<_>>>()?;
            let size: i64 = c.extents.iter().product();
            let rounds = self.int((size + self.workgroup_len as i64 - 1) / self.workgroup_len as i64)?;
            let lidx = self.cast(self.lidx, naga::ScalarKind::Sint, false);
            self.loop_to(format!("fill_s{}", c.src), rounds, |b, round| {
                let len = b.int(b.workgroup_len as i64)?;
                let first = b.bin(BinaryOperator::Multiply, round, len);
                let e = b.bin(BinaryOperator::Add, first, lidx);
                let n = b.int(size)?;
                let inside = b.bin(BinaryOperator::Less, e, n);
                b.if_(inside, |b| {
                    // the element's offset along each axis of the tile
                    let mut rest = e;
                    let mut index = vec![Expr::Int(0); c.extents.len()];
                    for (a, &extent) in c.extents.iter().enumerate().rev() {
                        let ext = b.int(extent)?;
                        let off = b.bin(BinaryOperator::Modulo, rest, ext);
                        rest = b.bin(BinaryOperator::Divide, rest, ext);
                        let id = CACHE_OFFSET_IDS - a as u32;
                        b.bind(id, off);
                        index[a] = Expr::Binary(BinOp::Add, Box::new(c.base[a].clone()), Box::new(Expr::Axis(id)));
                    }
                    let at = b.emit(Expression::Access { base: c.shared, index: e });
                    let zero = b.float(0.0)?;
                    b.push(Statement::Store { pointer: at, value: zero });
                    let shape = b.source(c.src)?.shape;
                    // both ends: a tile's edge may lie outside the source
                    let below = index.iter().map(|i| (Expr::Int(-1), i.clone()));
                    let guards: Vec<(Expr, Expr)> = below.chain(index.iter().zip(&shape).map(|(i, d)| (i.clone(), kiln_dsl::dim(d)))).collect();
                    let within = b.all_below(&guards)?;
                    b.guarded(within, |b| {
                        let v = b.value(&Expr::Load { src: c.src, index: index.clone() })?;
                        let v = b.to_float(v);
                        b.push(Statement::Store { pointer: at, value: v });
                        Ok(())
                    })
                })
            })?;
            self.cache_bases.insert(c.src, (bases, c.clone()));
        }
        if !caches.is_empty() {
            self.barrier();
        }
        Ok(!caches.is_empty())
    }

    /// After the iteration of loop `at` that [`Self::fill_caches`] began: a
    /// barrier before the next fill overwrites what was read.
    fn release_caches(&mut self, at: u32) {
        self.cache_bases.retain(|_, (_, c)| c.at != at);
        self.barrier();
    }

    /// A load of cached source `src` at `index`: its element in workgroup
    /// memory.
    fn cached_load(&mut self, src: u32, index: &[Expr]) -> Res<Option<Handle<Expression>>> {
        let Some((bases, c)) = self.cache_bases.get(&src).cloned() else { return Ok(None) };
        let mut offset: Option<Handle<Expression>> = None;
        for ((e, base), &extent) in index.iter().zip(&bases).zip(&c.extents) {
            let (i, _) = self.value(e)?;
            let within = self.bin(BinaryOperator::Subtract, i, *base);
            offset = Some(match offset {
                None => within,
                Some(o) => {
                    let ext = self.int(extent)?;
                    let scaled = self.bin(BinaryOperator::Multiply, o, ext);
                    self.bin(BinaryOperator::Add, scaled, within)
                }
            });
        }
        let offset = match offset {
            Some(o) => o,
            None => self.int(0)?,
        };
        let at = self.emit(Expression::Access { base: c.shared, index: offset });
        Ok(Some(self.emit(Expression::Load { pointer: at })))
    }

    /// `loops` nested in order around `inner`, the vectorized loop `lanes`
    /// (innermost) by [`Self::vectorized_loop`] over `body` and `guards`.
    fn loop_nest(&mut self, loops: &[(u32, Expr)], lanes: Option<(u32, i64)>, body: &Expr, guards: &[(Expr, Expr)], inner: &mut dyn FnMut(&mut Self, bool) -> Res<()>) -> Res<()> {
        match (loops.split_first(), lanes) {
            (None, _) => inner(self, false),
            (Some(((id, _), [])), Some((lane, w))) if *id == lane => self.vectorized_loop(lane, w, body, guards, inner),
            (Some(((id, extent), rest)), _) => self.serial_loop(*id, extent, |b| {
                let cached = b.fill_caches(*id)?;
                b.loop_nest(rest, lanes, body, guards, inner)?;
                if cached {
                    b.release_caches(*id);
                }
                Ok(())
            }),
        }
    }

    /// Vectorized loop `id` of `lanes` lanes, unrolled: `per_lane` runs once
    /// per lane with the loop variable a literal, told whether `guards`
    /// (the point's) are known to hold. Where `body` loads from a source
    /// with a vector view at an index the lanes read consecutively from an
    /// aligned start, those elements are read as vectors once, under the
    /// guards (which then must not depend on the lanes), and each lane's
    /// load is its element.
    fn vectorized_loop(&mut self, id: u32, lanes: i64, body: &Expr, guards: &[(Expr, Expr)], per_lane: &mut dyn FnMut(&mut Self, bool) -> Res<()>) -> Res<()> {
        let mut loads: Vec<(String, u32, Vec<Expr>)> = Vec::new();
        body.visit(&mut |e| {
            if let Expr::Load { src, index } = e {
                let key = known_key(e);
                let viewed = self.globals.get(*src as usize).is_some_and(|s| s.view.is_some() && crate::lanes::consecutive_aligned(index, &s.shape, lanes, id));
                if viewed && !loads.iter().any(|l| l.0 == key) {
                    loads.push((key, *src, index.clone()));
                }
            }
        });
        let mut each_lane = |b: &mut Self, values: &[Vec<(Expr, (Handle<Expression>, Kind))>], checked: bool| -> Res<()> {
            for lane in 0..lanes {
                let v = b.int(lane)?;
                b.bind(id, v);
                b.lane = b.target.fold_lanes.then_some((id, lanes, lane));
                for (load, value) in values.get(lane as usize).into_iter().flatten() {
                    // keyed as the lane's loads will be looked up
                    let key = known_key(&if b.lane.is_some() { crate::lanes::at_lane(load, id, lanes, lane) } else { load.clone() });
                    b.known.last_mut().expect("a level per block").insert(key, *value);
                }
                per_lane(b, checked)?;
            }
            b.lane = None;
            Ok(())
        };
        if loads.is_empty() {
            return each_lane(self, &[], false);
        }
        let zero = self.int(0)?;
        self.bind(id, zero);
        let cond = self.all_below(guards)?;
        self.guarded(cond, |b| {
            let mut values = vec![Vec::new(); lanes as usize];
            for (_, src, index) in &loads {
                let source = b.source(*src)?;
                let (global, view) = source.view.expect("only viewed sources");
                let first = b.flat(index, &source.shape)?;
                let per_vector = b.int(view.elements as i64)?;
                let first = b.bin(BinaryOperator::Divide, first, per_vector);
                for j in 0..lanes as u32 / view.elements {
                    let offset = b.int(j as i64)?;
                    let at = b.bin(BinaryOperator::Add, first, offset);
                    let at = b.emit(Expression::Access { base: global, index: at });
                    let vector = b.emit(Expression::Load { pointer: at });
                    for e in 0..view.elements {
                        let value = match view.scalar {
                            Scalar::F32 => (b.emit(Expression::AccessIndex { base: vector, index: e }), Kind::Float),
                            Scalar::I32 => (b.emit(Expression::AccessIndex { base: vector, index: e }), Kind::Int),
                            Scalar::F16 => {
                                let h = b.emit(Expression::AccessIndex { base: vector, index: e });
                                (b.widen_f16(h), Kind::Float)
                            }
                            _ => {
                                let word = b.emit(Expression::AccessIndex { base: vector, index: e / 2 });
                                let shift = b.uint(16 * (e % 2));
                                (b.f16_in_word(word, shift)?, Kind::Float)
                            }
                        };
                        values[(j * view.elements + e) as usize].push((Expr::Load { src: *src, index: index.clone() }, value));
                    }
                }
            }
            each_lane(b, &values, true)
        })
    }

    /// `all (value < bound)` over `guards`, or None when there are none.
    fn all_below(&mut self, guards: &[(Expr, Expr)]) -> Res<Option<Handle<Expression>>> {
        let mut all = None;
        for (v, bound) in guards {
            let (v, _) = self.value(v)?;
            let (bound, _) = self.value(bound)?;
            let c = self.bin(BinaryOperator::Less, v, bound);
            all = Some(match all {
                None => c,
                Some(a) => self.bin(BinaryOperator::LogicalAnd, a, c),
            });
        }
        Ok(all)
    }

    /// Run `body` where `condition` holds (always when None).
    fn guarded(&mut self, condition: Option<Handle<Expression>>, body: impl FnOnce(&mut Self) -> Res<()>) -> Res<()> {
        match condition {
            Some(c) => self.if_(c, body),
            None => body(self),
        }
    }

    /// Convert a value to the output's kind.
    fn as_kind(&mut self, v: (Handle<Expression>, Kind), want: Kind) -> Handle<Expression> {
        match want {
            Kind::Float => self.to_float(v),
            Kind::Int => self.to_int(v),
        }
    }

    fn combine(&mut self, op: ReduceOp, a: Handle<Expression>, b: Handle<Expression>) -> Handle<Expression> {
        match op {
            ReduceOp::Sum => self.bin(BinaryOperator::Add, a, b),
            ReduceOp::Max => self.math(MathFunction::Max, a, Some(b), None),
            ReduceOp::Min => self.math(MathFunction::Min, a, Some(b), None),
        }
    }
}

/// The magnitude below which integers convert to floats by their bits
/// ([`GpuTarget::float_by_exponent`]): 2^22.
const SMALL_INT: f64 = 4_194_304.0;

/// The integer `q` of a cast `Cast(Float, q)` whose magnitude is at most
/// [`SMALL_INT`] by its form (loaded bytes, masks, and sums, products and
/// right shifts of such).
fn small_int_cast(e: &Expr) -> Option<&Expr> {
    fn bound(e: &Expr) -> Option<f64> {
        match e {
            Expr::Int(c) => Some(c.unsigned_abs() as f64),
            Expr::LoadByte { .. } => Some(255.0),
            Expr::Binary(BinOp::And, a, b) => match (&**a, &**b) {
                (_, Expr::Int(m)) | (Expr::Int(m), _) if *m >= 0 => Some(*m as f64),
                _ => None,
            },
            Expr::Binary(BinOp::Shr, a, _) => bound(a),
            Expr::Binary(BinOp::Add | BinOp::Sub, a, b) => Some(bound(a)? + bound(b)?),
            Expr::Binary(BinOp::Mul, a, b) => Some(bound(a)? * bound(b)?),
            Expr::Select(_, a, b) => Some(bound(a)?.max(bound(b)?)),
            _ => None,
        }
    }
    match e {
        Expr::Cast(ScalarKind::Float, q) if bound(q).is_some_and(|b| b <= SMALL_INT) => Some(q),
        _ => None,
    }
}

/// A byte offset as `rest + c` with `rest` a multiple of 4 and `c` a
/// constant (the form lanes' offsets take, [`crate::lanes::at_lane`]).
fn aligned_part(offset: &Expr) -> Option<(Expr, i64)> {
    let (rest, c) = match offset {
        Expr::Binary(BinOp::Add, rest, c) => match **c {
            Expr::Int(c) => ((**rest).clone(), c),
            _ => (offset.clone(), 0),
        },
        _ => (offset.clone(), 0),
    };
    kiln_schedule::multiple_of(&rest, 4).then_some((rest, c))
}

fn scalar_type(types: &mut naga::UniqueArena<Type>, s: Scalar) -> Handle<Type> {
    types.insert(Type { name: None, inner: TypeInner::Scalar(s) }, Span::UNDEFINED)
}

/// What the nest's loops become.
struct LoopPlan {
    grid: [Expr; 2],
    block_loops: [Option<u32>; 2],
    workgroup_size: [u32; 3],
    thread_loops: [Option<u32>; 3],
    /// The reduction loop shared by the workgroup: (id, thread axis).
    shared_reduction: Option<(u32, usize)>,
    /// Ordinary loops in nest order: (id, extent, is a reduction loop).
    serial: Vec<(u32, Expr, bool)>,
}

fn plan_loops(v: &Validated) -> Res<LoopPlan> {
    let nest = v.nest();
    let unsupported = |what: String| CodegenError::Unsupported { kernel: nest.name.clone(), target: "gpu", what };
    let mut p = LoopPlan { grid: [Expr::Int(1), Expr::Int(1)], block_loops: [None; 2], workgroup_size: [1; 3], thread_loops: [None; 3], shared_reduction: None, serial: Vec::new() };
    let mut seen_reduction = false;
    for l in &nest.loops {
        match l.kind {
            LoopKind::GpuBlock(a) if (a as usize) < 2 => {
                if p.block_loops[a as usize].replace(l.id).is_some() {
                    return Err(unsupported(format!("bind two loops to gpu_block axis {a}")));
                }
                p.grid[a as usize] = l.extent.clone();
            }
            LoopKind::GpuBlock(a) => return Err(unsupported(format!("bind a loop to gpu_block axis {a} (x and y only)"))),
            LoopKind::GpuThread(a) if (a as usize) < 3 => {
                let n = l.const_extent().ok_or_else(|| unsupported(format!("size a workgroup by the symbolic extent of loop {}", l.id)))?;
                if p.thread_loops[a as usize].replace(l.id).is_some() {
                    return Err(unsupported(format!("bind two loops to gpu_thread axis {a}")));
                }
                p.workgroup_size[a as usize] = u32::try_from(n).map_err(|_| unsupported(format!("make a workgroup of {n} invocations")))?;
                if l.reduction {
                    if p.shared_reduction.is_some() {
                        return Err(unsupported("share two reduction loops across a workgroup".into()));
                    }
                    p.shared_reduction = Some((l.id, a as usize));
                }
            }
            LoopKind::GpuThread(a) => return Err(unsupported(format!("bind a loop to gpu_thread axis {a}"))),
            LoopKind::Parallel => return Err(unsupported(format!("run loop {} on CPU threads (schedule it for the GPU)", l.id))),
            LoopKind::Serial | LoopKind::Unrolled | LoopKind::Vectorized => {
                if seen_reduction && !l.reduction {
                    return Err(unsupported(format!("keep a register tile (spatial loop {} inside the reduction)", l.id)));
                }
                seen_reduction |= l.reduction;
                p.serial.push((l.id, l.extent.clone(), l.reduction));
            }
        }
    }
    let size: u32 = p.workgroup_size.iter().product();
    if size > MAX_WORKGROUP || size == 0 {
        return Err(unsupported(format!("run {size} invocations per workgroup (at most {MAX_WORKGROUP})")));
    }
    Ok(p)
}

/// Lower a scheduled nest (see the module docs for how loops map) to a
/// validated compute shader for `target`.
pub fn lower(v: &Validated, target: &GpuTarget) -> Result<GpuKernel, CodegenError> {
    if let Some(gemm) = MatrixGemm::of(v.nest(), target) {
        return lower_matrix_gemm(v, target, &gemm);
    }
    if let Some(gemv) = IntDotGemv::of(v.nest(), target) {
        return int_dot::lower_int_dot_gemv(v, target, &gemv);
    }
    if v.nest().class == KernelClass::Quantize {
        return quantize::lower_quantize(v, target);
    }
    let nest = v.nest();
    let kernel = nest.name.clone();
    let unsupported = |what: String| CodegenError::Unsupported { kernel: kernel.clone(), target: "gpu", what };
    let out_kind = match nest.output.dtype {
        DType::F32 | DType::F16 => Kind::Float,
        DType::I32 => Kind::Int,
        d => return Err(unsupported(format!("write {d} outputs outside a quantize stage"))),
    };
    let plan = plan_loops(v)?;
    let body = v.point_body_in(target.quant_layout());
    let store_index = v.store_index();
    let all_guards = v.guard_exprs();
    let spatial_guards = v.spatial_guard_exprs();
    let bounds_proof = nest.bounds_proof().map_err(String::from).and_then(|()| {
        let dtypes: Vec<DType> = nest.sources.iter().map(|b| b.dtype).collect();
        let guards = all_guards.iter().flat_map(|(g, bound)| [g, bound]);
        let extents = plan.serial.iter().map(|l| &l.1).chain(&plan.grid);
        std::iter::once(&body).chain(&store_index).chain(guards).chain(extents).try_for_each(|e| kiln_schedule::prove_divisors(e, &dtypes))
    });

    let exprs = std::iter::once(&body).chain(&store_index).chain(all_guards.iter().flat_map(|(g, bound)| [g, bound])).chain(plan.serial.iter().map(|(_, e, _)| e)).chain([&plan.grid[0]]);
    let symbols = symbols_of(exprs, nest.sources.iter().chain([&nest.output]).flat_map(|b| &b.shape));

    let mut module = Module::default();
    let i32_ty = scalar_type(&mut module.types, Scalar::I32);
    let u32_ty = scalar_type(&mut module.types, Scalar::U32);
    let f32_ty = scalar_type(&mut module.types, Scalar::F32);
    let vec3_u32 = module.types.insert(Type { name: None, inner: TypeInner::Vector { size: VectorSize::Tri, scalar: Scalar::U32 } }, Span::UNDEFINED);
    let n_src = nest.sources.len();
    let storage = storage_global;
    // a source of constant shape above a binding's size takes several ranges
    let ranges = source_ranges(&nest.sources.iter().map(|b| (b.dtype, b.shape.clone())).collect::<Vec<_>>(), target);
    let mut source_vars = source_globals(&mut module, &nest.sources.iter().map(|b| b.dtype).collect::<Vec<_>>(), &ranges, target);
    let binding = ranges.iter().sum::<u32>() as usize;
    let out_binding = binding;
    let out_var = if matches!(nest.output.dtype, DType::F32 | DType::I32) {
        storage(&mut module, "out".into(), out_binding, storage_scalar(nest.output.dtype, target), StorageAccess::LOAD | StorageAccess::STORE)
    } else {
        // f16 outputs: invocations share words, written atomically
        let atomic = module.types.insert(Type { name: None, inner: TypeInner::Atomic(Scalar::U32) }, Span::UNDEFINED);
        let ty = module.types.insert(Type { name: None, inner: TypeInner::Array { base: atomic, size: naga::ArraySize::Dynamic, stride: 4 } }, Span::UNDEFINED);
        module.global_variables.append(
            GlobalVariable {
                name: Some("out".into()),
                space: AddressSpace::Storage { access: StorageAccess::LOAD | StorageAccess::STORE },
                binding: Some(ResourceBinding { group: 0, binding: out_binding as u32 }),
                ty,
                init: None,
                memory_decorations: Default::default(),
            },
            Span::UNDEFINED,
        )
    };
    source_vars.push(vec![out_var]);
    let dims_var = storage(&mut module, "dims".into(), out_binding + 1, Scalar::I32, StorageAccess::LOAD);
    // the vectorized loop, and the sources its lanes may read as vectors:
    // only where no guard depends on the lanes (the vectors are read once
    // for all of them)
    let lanes = nest.loops.iter().find(|l| l.kind == LoopKind::Vectorized).and_then(|l| Some((l.id, l.const_extent()?)));
    let mut views: Vec<Option<VectorView>> = vec![None; n_src];
    if let Some((lane, w)) = lanes {
        let guarded = all_guards.iter().any(|(g, bound)| crate::lanes::mentions(g, lane) || crate::lanes::mentions(bound, lane));
        body.visit(&mut |e| {
            if let Expr::Load { src, index } = e {
                let (i, b) = (*src as usize, &nest.sources[*src as usize]);
                if !guarded && ranges[i] == 1 && crate::lanes::consecutive_aligned(index, &b.shape, w, lane) {
                    views[i] = views[i].or(VectorView::for_lanes(b.dtype, w, target));
                }
            }
        });
    }
    let mut vector_views = Vec::new();
    let view_vars: Vec<Option<(Handle<GlobalVariable>, VectorView)>> = views
        .iter()
        .enumerate()
        .map(|(i, view)| {
            let view = (*view)?;
            let size = if view.components == 2 { VectorSize::Bi } else { VectorSize::Quad };
            let base = module.types.insert(Type { name: None, inner: TypeInner::Vector { size, scalar: view.scalar } }, Span::UNDEFINED);
            let stride = view.components * view.scalar.width as u32;
            let ty = module.types.insert(Type { name: None, inner: TypeInner::Array { base, size: naga::ArraySize::Dynamic, stride } }, Span::UNDEFINED);
            vector_views.push(i);
            let binding = ResourceBinding { group: 0, binding: (out_binding + 1 + vector_views.len()) as u32 };
            let var = GlobalVariable { name: Some(format!("s{i}_vectors")), space: AddressSpace::Storage { access: StorageAccess::LOAD }, binding: Some(binding), ty, init: None, memory_decorations: Default::default() };
            Some((module.global_variables.append(var, Span::UNDEFINED), view))
        })
        .collect();
    let workgroup_len: u32 = plan.workgroup_size.iter().product();
    let shared_var = plan.shared_reduction.map(|_| {
        let base = if out_kind == Kind::Float { f32_ty } else { i32_ty };
        let size = naga::ArraySize::Constant(std::num::NonZeroU32::new(workgroup_len).expect("checked"));
        let ty = module.types.insert(Type { name: None, inner: TypeInner::Array { base, size, stride: 4 } }, Span::UNDEFINED);
        module.global_variables.append(
            GlobalVariable { name: Some("partial".into()), space: AddressSpace::WorkGroup, binding: None, ty, init: None, memory_decorations: Default::default() },
            Span::UNDEFINED,
        )
    });

    // the sources staged in workgroup memory: the tile of each that the
    // loops inside its loop and the workgroup's invocations read
    let mut cache_tiles = Vec::new();
    for c in &nest.caches {
        let mut indices: Vec<Vec<Expr>> = Vec::new();
        body.visit(&mut |e| {
            if let Expr::Load { src, index } = e {
                if *src == c.src && !indices.contains(index) {
                    indices.push(index.clone());
                }
            }
        });
        let [index] = &indices[..] else { return Err(unsupported(format!("stage s{} in workgroup memory: it is loaded at {} different indices", c.src, indices.len()))) };
        let at = nest.loops.iter().position(|l| l.id == c.at).expect("validated");
        let mut varying = Vec::new();
        for (i, l) in nest.loops.iter().enumerate() {
            if i > at || matches!(l.kind, LoopKind::GpuThread(_)) {
                varying.push((l.id, l.const_extent().ok_or_else(|| unsupported(format!("stage s{} in workgroup memory over loop {} of symbolic extent", c.src, l.id)))?));
            }
        }
        let mut base = Vec::new();
        let mut extents = Vec::new();
        for e in index {
            let mut extent = 1;
            for &(id, n) in &varying {
                match crate::lanes::lane_coefficient(e, id, 0) {
                    Some(k) if k >= 0 => extent += k * (n - 1),
                    _ => return Err(unsupported(format!("stage s{} in workgroup memory: its index {e:?} is not affine in loop {id}", c.src))),
                }
            }
            base.push(e.rewrite(&mut |x| matches!(x, Expr::Axis(a) if varying.iter().any(|v| v.0 == *a)).then_some(Expr::Int(0))));
            extents.push(extent);
        }
        let len: i64 = extents.iter().product();
        let size = u32::try_from(len).ok().and_then(std::num::NonZeroU32::new).ok_or_else(|| unsupported(format!("stage a tile of {len} elements")))?;
        let ty = module.types.insert(Type { name: None, inner: TypeInner::Array { base: f32_ty, size: naga::ArraySize::Constant(size), stride: 4 } }, Span::UNDEFINED);
        let var = GlobalVariable { name: Some(format!("s{}_tile", c.src)), space: AddressSpace::WorkGroup, binding: None, ty, init: None, memory_decorations: Default::default() };
        cache_tiles.push((c.src, c.at, base, extents, module.global_variables.append(var, Span::UNDEFINED)));
    }
    let tile_bytes: i64 = cache_tiles.iter().map(|t| 4 * t.3.iter().product::<i64>()).sum::<i64>() + if shared_var.is_some() { 4 * workgroup_len as i64 } else { 0 };
    if tile_bytes > MAX_WORKGROUP_BYTES {
        return Err(unsupported(format!("use {tile_bytes} bytes of workgroup memory (at most {MAX_WORKGROUP_BYTES})")));
    }
    // a workgroup that only reduces can combine its partials by subgroups
    let by_subgroups = target.subgroups && plan.shared_reduction.is_some_and(|(_, axis)| plan.workgroup_size[axis] == workgroup_len);
    let mut f = Function { name: Some("main".into()), ..Default::default() };
    let mut builtins = vec![("wid", vec3_u32, BuiltIn::WorkGroupId), ("lid", vec3_u32, BuiltIn::LocalInvocationId), ("lidx", u32_ty, BuiltIn::LocalInvocationIndex)];
    if by_subgroups {
        builtins.extend([("subgroup", u32_ty, BuiltIn::SubgroupId), ("lane", u32_ty, BuiltIn::SubgroupInvocationId), ("subgroups", u32_ty, BuiltIn::NumSubgroups)]);
    }
    for (name, ty, builtin) in builtins {
        f.arguments.push(FunctionArgument { name: Some(name.into()), ty, binding: Some(Binding::BuiltIn(builtin)) });
    }
    let wid = f.expressions.append(Expression::FunctionArgument(0), Span::UNDEFINED);
    let lid = f.expressions.append(Expression::FunctionArgument(1), Span::UNDEFINED);
    let lidx = f.expressions.append(Expression::FunctionArgument(2), Span::UNDEFINED);
    let subgroup_args = by_subgroups.then(|| [3, 4, 5].map(|i| f.expressions.append(Expression::FunctionArgument(i), Span::UNDEFINED)));
    let dims_global = f.expressions.append(Expression::GlobalVariable(dims_var), Span::UNDEFINED);
    let shared = shared_var.map(|g| f.expressions.append(Expression::GlobalVariable(g), Span::UNDEFINED));
    let mut globals = Vec::new();
    for (i, (vars, buf)) in source_vars.iter().zip(nest.sources.iter().chain([&nest.output])).enumerate() {
        let ranges = vars.iter().map(|&g| f.expressions.append(Expression::GlobalVariable(g), Span::UNDEFINED)).collect();
        let view = view_vars.get(i).copied().flatten().map(|(g, v)| (f.expressions.append(Expression::GlobalVariable(g), Span::UNDEFINED), v));
        globals.push(Source { ranges, range_words: target.range_words, shape: buf.shape.clone(), dtype: buf.dtype, view });
    }
    let caches = cache_tiles.into_iter().map(|(src, at, base, extents, g)| CachePlan { src, at, base, extents, shared: f.expressions.append(Expression::GlobalVariable(g), Span::UNDEFINED) }).collect();
    let mut b = Builder::new(&mut module, target, &kernel, f, globals, dims_global, symbols.clone(), (lidx, workgroup_len), caches);

    // GPU-bound loop variables
    let mut grid_guard = Vec::new();
    if let Some(id) = plan.block_loops[0] {
        let block = b.workgroup_index(wid);
        b.bind(id, block);
        // a grid spilling into y has idle workgroups at its end
        grid_guard.push((Expr::Axis(id), plan.grid[0].clone()));
    }
    if let Some(id) = plan.block_loops[1] {
        let z = b.emit(Expression::AccessIndex { base: wid, index: 2 });
        let z = b.cast(z, naga::ScalarKind::Sint, false);
        b.bind(id, z);
    }
    for (axis, id) in plan.thread_loops.iter().enumerate() {
        if let Some(id) = id {
            let t = b.emit(Expression::AccessIndex { base: lid, index: axis as u32 });
            let t = b.cast(t, naga::ScalarKind::Sint, false);
            b.bind(*id, t);
        }
    }
    let store_guards: Vec<(Expr, Expr)> = grid_guard.iter().cloned().chain(spatial_guards).collect();
    let point_guards: Vec<(Expr, Expr)> = grid_guard.iter().cloned().chain(all_guards).collect();

    let out_global = b.globals[n_src].ranges[0];
    let out_dtype = nest.output.dtype;
    let store = |b: &mut Builder, value: Handle<Expression>| -> Res<()> {
        let out_shape = nest.output.shape.clone();
        let idx = b.flat(&store_index, &out_shape)?;
        if out_dtype == DType::F16 {
            let bits = b.f32_to_f16(value)?;
            let two = b.int(2)?;
            let offset = b.bin(BinaryOperator::Multiply, idx, two);
            return b.write_bits(offset, bits, 16);
        }
        let at = b.emit(Expression::Access { base: out_global, index: idx });
        b.push(Statement::Store { pointer: at, value });
        Ok(())
    };
    let spatial_serial: Vec<(u32, Expr)> = plan.serial.iter().filter(|l| !l.2).map(|l| (l.0, l.1.clone())).collect();
    let reduction_serial: Vec<(u32, Expr)> = plan.serial.iter().filter(|l| l.2).map(|l| (l.0, l.1.clone())).collect();

    // one output point (per invocation) at the innermost spatial loop
    // (`checked`: the point guards are known to hold)
    let mut point = |b: &mut Builder, checked: bool| -> Res<()> {
        let Some(op) = nest.reduce else {
            let cond = if checked { None } else { b.all_below(&point_guards)? };
            return b.guarded(cond, |b| {
                let v = b.value(&body)?;
                let v = b.as_kind(v, out_kind);
                store(b, v)
            });
        };
        let ident_kind = if out_kind == Kind::Float { ScalarKind::Float } else { ScalarKind::Int };
        let identity = op.identity(ident_kind);
        let ident = if out_kind == Kind::Float { b.float(identity)? } else { b.int(identity as i64)? };
        let acc_var = b.f.local_variables.append(LocalVariable { name: Some("acc".into()), ty: if out_kind == Kind::Float { b.f32_ty } else { b.i32_ty }, init: None }, Span::UNDEFINED);
        let acc = b.pre(Expression::LocalVariable(acc_var));
        b.push(Statement::Store { pointer: acc, value: ident });
        b.loop_nest(&reduction_serial, lanes, &body, &point_guards, &mut |b, checked| {
            let cond = if checked { None } else { b.all_below(&point_guards)? };
            b.guarded(cond, |b| {
                let x = b.value(&body)?;
                let x = b.as_kind(x, out_kind);
                let old = b.emit(Expression::Load { pointer: acc });
                let new = b.combine(op, old, x);
                b.push(Statement::Store { pointer: acc, value: new });
                Ok(())
            })
        })?;
        let total = b.emit(Expression::Load { pointer: acc });
        let Some((red_id, axis)) = plan.shared_reduction else {
            let cond = b.all_below(&store_guards)?;
            return b.guarded(cond, |b| store(b, total));
        };
        let shared = shared.expect("a shared reduction has workgroup memory");
        let r = b.vars[&red_id];
        // the workgroup's first invocation, where the point is stored
        let first_storing = |b: &mut Builder| -> Res<Handle<Expression>> {
            let zero = b.int(0)?;
            let first = b.bin(BinaryOperator::Equal, r, zero);
            Ok(match b.all_below(&store_guards)? {
                Some(c) => b.bin(BinaryOperator::LogicalAnd, first, c),
                None => first,
            })
        };
        if let Some([subgroup, lane, subgroups]) = subgroup_args {
            // each subgroup's result to workgroup memory, then invocation 0
            // combines those
            let result = b.pre(Expression::SubgroupOperationResult { ty: if out_kind == Kind::Float { b.f32_ty } else { b.i32_ty } });
            let sg_op = match op {
                ReduceOp::Sum => naga::SubgroupOperation::Add,
                ReduceOp::Max => naga::SubgroupOperation::Max,
                ReduceOp::Min => naga::SubgroupOperation::Min,
            };
            b.push(Statement::SubgroupCollectiveOperation { op: sg_op, collective_op: naga::CollectiveOperation::Reduce, argument: total, result });
            let zero = b.uint(0);
            let leader = b.bin(BinaryOperator::Equal, lane, zero);
            b.if_(leader, |b| {
                let at = b.emit(Expression::Access { base: shared, index: subgroup });
                b.push(Statement::Store { pointer: at, value: result });
                Ok(())
            })?;
            b.barrier();
            let cond = first_storing(b)?;
            b.if_(cond, |b| {
                b.push(Statement::Store { pointer: acc, value: ident });
                let n = b.cast(subgroups, naga::ScalarKind::Sint, false);
                b.loop_to("subgroup_partial".into(), n, |b, i| {
                    let at = b.emit(Expression::Access { base: shared, index: i });
                    let theirs = b.emit(Expression::Load { pointer: at });
                    let old = b.emit(Expression::Load { pointer: acc });
                    let new = b.combine(op, old, theirs);
                    b.push(Statement::Store { pointer: acc, value: new });
                    Ok(())
                })?;
                let v = b.emit(Expression::Load { pointer: acc });
                store(b, v)
            })?;
            b.barrier();
            return Ok(());
        }
        // combine the workgroup's partial results: a tree in workgroup memory
        let slot = b.emit(Expression::Access { base: shared, index: lidx });
        b.push(Statement::Store { pointer: slot, value: total });
        b.barrier();
        let threads = plan.workgroup_size[axis];
        let stride: u32 = plan.workgroup_size[..axis].iter().product();
        let mut step = threads.next_power_of_two() / 2;
        while step >= 1 {
            let s = b.int(step as i64)?;
            let n = b.int(threads as i64)?;
            let low = b.bin(BinaryOperator::Less, r, s);
            let partner = b.bin(BinaryOperator::Add, r, s);
            let inside = b.bin(BinaryOperator::Less, partner, n);
            let active = b.bin(BinaryOperator::LogicalAnd, low, inside);
            b.if_(active, |b| {
                let off = b.uint(step * stride);
                let other = b.bin(BinaryOperator::Add, lidx, off);
                let mine_at = b.emit(Expression::Access { base: shared, index: lidx });
                let other_at = b.emit(Expression::Access { base: shared, index: other });
                let mine = b.emit(Expression::Load { pointer: mine_at });
                let theirs = b.emit(Expression::Load { pointer: other_at });
                let sum = b.combine(op, mine, theirs);
                b.push(Statement::Store { pointer: mine_at, value: sum });
                Ok(())
            })?;
            b.barrier();
            step /= 2;
        }
        let cond = first_storing(b)?;
        b.if_(cond, |b| {
            let at = b.emit(Expression::Access { base: shared, index: lidx });
            let v = b.emit(Expression::Load { pointer: at });
            store(b, v)
        })?;
        // the next point reuses the workgroup memory
        b.barrier();
        Ok(())
    };
    b.loop_nest(&spatial_serial, lanes, &body, &point_guards, &mut point)?;
    b.push(Statement::Return { value: None });
    let info = b.finish(&mut module, plan.workgroup_size)?;
    Ok(GpuKernel { name: kernel, module, info, symbols, grid: plan.grid, workgroup_size: plan.workgroup_size, sources: n_src, ranges, vector_views, target: *target, nest: v.to_string(), bounds_proof })
}

/// A matmul over rows the matrix units take ([`GpuTarget::matrix_units`]):
/// `out[m, n] = Σ_k x[m, k] · w[n, k]` with `x` f32 (or Q8_0 blocks:
/// llama.cpp's arithmetic, dequantized into the f16 tiles) of a symbolic
/// row count (a prefill's tokens; decode's constant rows stay on the GEMV
/// kernels), `w` f16 or Q4_0/Q4_1/Q8_0 with `K` a multiple of 32 (whole
/// steps, whole blocks), each bound whole; the target must have subgroups
/// (the kernel's four subgroups pick their tiles by their subgroup id).
pub struct MatrixGemm {
    n: i64,
    k: i64,
}

impl MatrixGemm {
    /// The matmul `nest` is, if `target` can run it on its matrix units.
    pub fn of(nest: &kiln_schedule::LoopNest, target: &GpuTarget) -> Option<MatrixGemm> {
        if !target.matrix_units || !target.native_f16 || !target.subgroups || nest.class != KernelClass::Matmul || nest.reduce != Some(ReduceOp::Sum) || nest.output.dtype != DType::F32 {
            return None;
        }
        let [x, w] = &nest.sources[..] else { return None };
        let ([m, k], [n, wk]) = (&x.shape[..], &w.shape[..]) else { return None };
        let (n, k) = (n.as_const()?, k.as_const()?);
        let whole = |bytes: usize| target.range_words == 0 || bytes.div_ceil(4) <= target.range_words as usize;
        let fits = m.as_const().is_none() && wk.as_const() == Some(k) && n > 0 && k % MATRIX_STEP == 0 && whole(w.dtype.storage_bytes((n * k) as usize));
        let product = kiln_dsl::load(0, vec![kiln_dsl::ax(0), kiln_dsl::ax(2)]).mul(kiln_dsl::load(1, vec![kiln_dsl::ax(1), kiln_dsl::ax(2)]));
        (fits && matches!(x.dtype, DType::F32 | DType::Q8_0) && matches!(w.dtype, DType::F16 | DType::Q4_0 | DType::Q4_1 | DType::Q8_0) && nest.body == product).then_some(MatrixGemm { n, k })
    }
}

/// Invocations of a subgroup (the adapter's fixed subgroup size, checked
/// where the runtime turns the matrix units on); each computes 32 x 32
/// outputs as 2 x 2 tiles of 16 x 16.
const MATRIX_LANES: i64 = 32;

/// Subgroups of a matrix-unit workgroup along its rows and along its
/// columns: a block of 64 x 64 outputs.
const MATRIX_SUBGROUPS: [i64; 2] = [2, 2];

/// The block of outputs a workgroup computes: rows of `x`, rows of `w`.
const MATRIX_BLOCK: [i64; 2] = [32 * MATRIX_SUBGROUPS[0], 32 * MATRIX_SUBGROUPS[1]];

/// Invocations of a matrix-unit workgroup.
const MATRIX_INVOCATIONS: i64 = MATRIX_LANES * MATRIX_SUBGROUPS[0] * MATRIX_SUBGROUPS[1];

/// The length of K staged per step: one quantized block per row.
const MATRIX_STEP: i64 = 32;

/// Consecutive elements of one row an invocation converts per step, as
/// the lanes of a vectorized loop (a block's scale and words read once).
const MATRIX_RUN: i64 = 16;

// loop ids of the element expressions: the row of `x`, the row of `w`,
// and k = run * MATRIX_RUN + lane
const ROW_AXIS: u32 = 0;
const WEIGHT_ROW_AXIS: u32 = 1;
const K_AXIS: u32 = 2;
const LANE_AXIS: u32 = 3;
const RUN_AXIS: u32 = 4;

/// The matrix-unit kernel of `gemm`: workgroups of four 32-invocation
/// subgroups computing a block of 64 x 64 outputs, each subgroup 32 x 32
/// of them as 2 x 2 tiles of 16 x 16 f32 accumulators. Per 32-long step
/// of K every invocation converts 16 consecutive activations of one row
/// and 16 weights of one row (a half block: its scale and words read once,
/// the lanes of a vectorized loop) to f16 tiles in workgroup memory, and
/// each subgroup multiplies and adds its eight tile products; the
/// accumulators go through workgroup memory to the outputs that exist.
/// Its accesses are in bounds by construction (rows past M and N are
/// clamped when read and not written).
fn lower_matrix_gemm(v: &Validated, target: &GpuTarget, gemm: &MatrixGemm) -> Result<GpuKernel, CodegenError> {
    use naga::{CooperativeData, CooperativeRole, CooperativeSize};
    let nest = v.nest();
    let kernel = nest.name.clone();
    let sources: Vec<(DType, Vec<Dim>)> = nest.sources.iter().map(|b| (b.dtype, b.shape.clone())).collect();
    let Expr::Binary(BinOp::Mul, x_value, w_value) = kiln_dsl::quant::expand_quant_loads_in(target.quant_layout(), &nest.body, &sources) else {
        unreachable!("MatrixGemm::of matched a product")
    };
    // k as a run's first element plus a lane: what lets the lanes share
    let k_of_lane = Expr::Axis(RUN_AXIS).mul(Expr::Int(MATRIX_RUN)).add(Expr::Axis(LANE_AXIS));
    let by_lanes = |e: &Expr| e.rewrite(&mut |x| (*x == Expr::Axis(K_AXIS)).then(|| k_of_lane.clone()));
    let (x_value, w_value) = (by_lanes(&x_value), by_lanes(&w_value));
    let rows = nest.sources[0].shape[0].clone();
    let symbols = symbols_of(std::iter::empty(), [&rows]);
    let [block_m, block_n] = MATRIX_BLOCK;
    let tile_len = |rows: i64| u32::try_from(rows * MATRIX_STEP).expect("a small tile");

    let mut module = Module::default();
    let u32_ty = scalar_type(&mut module.types, Scalar::U32);
    let vec3_u32 = module.types.insert(Type { name: None, inner: TypeInner::Vector { size: VectorSize::Tri, scalar: Scalar::U32 } }, Span::UNDEFINED);
    let array = array_type;
    let global = |module: &mut Module, name: &str, space: AddressSpace, binding: Option<u32>, ty: Handle<Type>| global_variable(module, name.into(), space, binding, ty);
    // the bindings `lower` gives a nest of two sources bound whole
    let read = AddressSpace::Storage { access: StorageAccess::LOAD };
    let ty = array(&mut module, storage_scalar(nest.sources[0].dtype, target), None);
    let x_var = global(&mut module, "s0", read, Some(0), ty);
    let ty = array(&mut module, storage_scalar(nest.sources[1].dtype, target), None);
    let w_var = global(&mut module, "s1", read, Some(1), ty);
    let ty = array(&mut module, Scalar::F32, None);
    let out_var = global(&mut module, "out", AddressSpace::Storage { access: StorageAccess::LOAD | StorageAccess::STORE }, Some(2), ty);
    let ty = array(&mut module, Scalar::I32, None);
    let dims_var = global(&mut module, "dims", read, Some(3), ty);
    // f16 tiles of the block's rows (or weight rows) by the step, by rows,
    // and a 16 x 16 f32 tile per subgroup for its outputs
    let ty = array(&mut module, Scalar::F16, Some(tile_len(block_m)));
    let a_tile = global(&mut module, "x_tile", AddressSpace::WorkGroup, None, ty);
    let ty = array(&mut module, Scalar::F16, Some(tile_len(block_n)));
    let b_tile = global(&mut module, "w_tile", AddressSpace::WorkGroup, None, ty);
    let subgroups = MATRIX_SUBGROUPS[0] * MATRIX_SUBGROUPS[1];
    let ty = array(&mut module, Scalar::F32, Some(256 * subgroups as u32));
    let c_tile = global(&mut module, "out_tile", AddressSpace::WorkGroup, None, ty);
    let acc_ty = matrix_tile_types(&mut module);
    let (mut f, wid, lidx) = workgroup_entry(vec3_u32, u32_ty);
    let (subgroup, lane_in_subgroup) = subgroup_arguments(&mut f, u32_ty);
    let mut handle = |g| f.expressions.append(Expression::GlobalVariable(g), Span::UNDEFINED);
    let (x_g, w_g, out_g, dims_g, a_g, b_g, c_g) = (handle(x_var), handle(w_var), handle(out_var), handle(dims_var), handle(a_tile), handle(b_tile), handle(c_tile));
    let source = |g, i: usize| Source { ranges: vec![g], range_words: target.range_words, shape: nest.sources[i].shape.clone(), dtype: nest.sources[i].dtype, view: None };
    let globals = vec![source(x_g, 0), source(w_g, 1), Source { ranges: vec![out_g], range_words: target.range_words, shape: nest.output.shape.clone(), dtype: DType::F32, view: None }];
    let mut b = Builder::new(&mut module, target, &kernel, f, globals, dims_g, symbols.clone(), (lidx, MATRIX_INVOCATIONS as u32), Vec::new());
    let (n, k) = (gemm.n, gemm.k);
    let column_blocks = (n + block_n - 1) / block_n;
    // blocks of outputs, by rows of N / 64
    let grid = [Expr::Dim(rows.clone()).add(Expr::Int(block_m - 1)).div(Expr::Int(block_m)).mul(Expr::Int(column_blocks)), Expr::Int(1)];
    let block = b.live_workgroup_index(wid, &grid[0])?;
    let (m, _) = b.value(&Expr::Dim(rows.clone()))?;
    let column_blocks = b.int(column_blocks)?;
    let mb = b.bin(BinaryOperator::Divide, block, column_blocks);
    let nb = b.bin(BinaryOperator::Modulo, block, column_blocks);
    let bm = b.int(block_m)?;
    let m0 = b.bin(BinaryOperator::Multiply, mb, bm);
    let bn = b.int(block_n)?;
    let n0 = b.bin(BinaryOperator::Multiply, nb, bn);
    let one = b.int(1)?;
    let last_row = b.bin(BinaryOperator::Subtract, m, one);
    let last_weight_row = b.int(n - 1)?;
    // this invocation's run: a row of each tile, and which run of the step
    let lane = b.cast(lidx, naga::ScalarKind::Sint, false);
    let runs = b.int(MATRIX_STEP / MATRIX_RUN)?;
    let tile_row = b.bin(BinaryOperator::Divide, lane, runs);
    let run_in_step = b.bin(BinaryOperator::Modulo, lane, runs);
    let step_len = b.int(MATRIX_STEP)?;
    let run_len = b.int(MATRIX_RUN)?;
    let row_start = b.bin(BinaryOperator::Multiply, tile_row, step_len);
    let run_start = b.bin(BinaryOperator::Multiply, run_in_step, run_len);
    let tile_at = b.bin(BinaryOperator::Add, row_start, run_start);
    let row = b.bin(BinaryOperator::Add, m0, tile_row);
    let row = b.math(MathFunction::Min, row, Some(last_row), None);
    let weight_row = b.bin(BinaryOperator::Add, n0, tile_row);
    let weight_row = b.math(MathFunction::Min, weight_row, Some(last_weight_row), None);
    // which 32 x 32 of the block this subgroup computes
    let subgroup = b.cast(subgroup, naga::ScalarKind::Sint, false);
    let across = b.int(MATRIX_SUBGROUPS[1])?;
    let sub_m = b.bin(BinaryOperator::Divide, subgroup, across);
    let sub_n = b.bin(BinaryOperator::Modulo, subgroup, across);
    let accs: Vec<Handle<Expression>> = (0..4)
        .map(|i| {
            let var = b.f.local_variables.append(LocalVariable { name: Some(format!("acc{}{}", i / 2, i % 2)), ty: acc_ty, init: None }, Span::UNDEFINED);
            b.pre(Expression::LocalVariable(var))
        })
        .collect();
    let zero_acc = b.pre(Expression::ZeroValue(acc_ty));
    for &acc in &accs {
        b.push(Statement::Store { pointer: acc, value: zero_acc });
    }
    b.bind(ROW_AXIS, row);
    b.bind(WEIGHT_ROW_AXIS, weight_row);
    // tile elements `first + 16 i + j` of the 16 x 16 tiles i of this subgroup's rows
    let tile_firsts = |b: &mut Builder, sub: Handle<Expression>, row_stride: i64, column: i64| -> Res<[Handle<Expression>; 2]> {
        let thirty_two = b.int(32 * row_stride)?;
        let base = b.bin(BinaryOperator::Multiply, sub, thirty_two);
        let mut firsts = [base; 2];
        for (i, first) in firsts.iter_mut().enumerate() {
            let offset = b.int(16 * i as i64 * row_stride + column)?;
            *first = b.bin(BinaryOperator::Add, base, offset);
        }
        Ok(firsts)
    };
    let steps = b.int(k / MATRIX_STEP)?;
    b.loop_to("k_step".into(), steps, |b, step| {
        let first_run = b.bin(BinaryOperator::Multiply, step, runs);
        let run = b.bin(BinaryOperator::Add, first_run, run_in_step);
        b.bind(RUN_AXIS, run);
        for (value, tile) in [(&x_value, a_g), (&w_value, b_g)] {
            for j in 0..MATRIX_RUN {
                let jv = b.int(j)?;
                b.bind(LANE_AXIS, jv);
                b.lane = b.target.fold_lanes.then_some((LANE_AXIS, MATRIX_RUN, j));
                let (v, kind) = b.value(value)?;
                b.lane = None;
                let v = b.to_float((v, kind));
                let h = b.emit(Expression::As { expr: v, kind: naga::ScalarKind::Float, convert: Some(2) });
                let offset = b.int(j)?;
                let index = b.bin(BinaryOperator::Add, tile_at, offset);
                let at = b.emit(Expression::Access { base: tile, index });
                b.push(Statement::Store { pointer: at, value: h });
            }
        }
        b.barrier();
        let stride = b.uint(MATRIX_STEP as u32);
        for kk in 0..MATRIX_STEP / 16 {
            let load = |b: &mut Builder, g: Handle<Expression>, first: Handle<Expression>, role: CooperativeRole| {
                let pointer = b.emit(Expression::Access { base: g, index: first });
                b.emit(Expression::CooperativeLoad { columns: CooperativeSize::Sixteen, rows: CooperativeSize::Sixteen, role, data: CooperativeData { pointer, stride, row_major: role == CooperativeRole::A } })
            };
            let a_firsts = tile_firsts(b, sub_m, MATRIX_STEP, 16 * kk)?;
            let w_firsts = tile_firsts(b, sub_n, MATRIX_STEP, 16 * kk)?;
            let a = a_firsts.map(|first| load(b, a_g, first, CooperativeRole::A));
            let w = w_firsts.map(|first| load(b, b_g, first, CooperativeRole::B));
            for (i, &acc) in accs.iter().enumerate() {
                let c = b.emit(Expression::Load { pointer: acc });
                let sum = b.emit(Expression::CooperativeMultiplyAdd { a: a[i / 2], b: w[i % 2], c });
                b.push(Statement::Store { pointer: acc, value: sum });
            }
        }
        b.barrier();
        Ok(())
    })?;
    // each accumulator through the subgroup's 16 x 16 tile to the outputs that exist
    let own_tile = b.subgroup_tile(subgroup)?;
    let lane = b.cast(lane_in_subgroup, naga::ScalarKind::Sint, false);
    let [row_firsts, column_firsts] = [tile_firsts(&mut b, sub_m, 1, 0)?, tile_firsts(&mut b, sub_n, 1, 0)?];
    let nn = b.int(n)?;
    for (i, &acc) in accs.iter().enumerate() {
        let first_row = b.bin(BinaryOperator::Add, m0, row_firsts[i / 2]);
        let first_column = b.bin(BinaryOperator::Add, n0, column_firsts[i % 2]);
        b.store_matrix_tile(acc, c_g, own_tile, lane, out_g, |b, r, c| {
            let row = b.bin(BinaryOperator::Add, first_row, r);
            let column = b.bin(BinaryOperator::Add, first_column, c);
            let row_inside = b.bin(BinaryOperator::Less, row, m);
            let column_inside = b.bin(BinaryOperator::Less, column, nn);
            let inside = b.bin(BinaryOperator::LogicalAnd, row_inside, column_inside);
            let base = b.bin(BinaryOperator::Multiply, row, nn);
            Ok((inside, b.bin(BinaryOperator::Add, base, column)))
        })?;
    }
    b.push(Statement::Return { value: None });
    let workgroup_size = [MATRIX_INVOCATIONS as u32, 1, 1];
    let info = b.finish(&mut module, workgroup_size)?;
    let nest_text = format!("{v}\n// run on the matrix units instead: four subgroups per 64 x 64 outputs, 16 x 16 f16 tiles staged in workgroup memory");
    Ok(GpuKernel { name: kernel, module, info, symbols, grid, workgroup_size, sources: 2, ranges: vec![1, 1], vector_views: Vec::new(), target: *target, nest: nest_text, bounds_proof: Ok(()) })
}

/// The cooperative-matrix types of the matrix-unit kernels, 16 x 16: f16
/// A and B tiles, and the f32 accumulator's, which it returns.
fn matrix_tile_types(module: &mut Module) -> Handle<Type> {
    use naga::{CooperativeRole, CooperativeSize};
    let mut coop = |scalar: Scalar, role: CooperativeRole| {
        module.types.insert(Type { name: None, inner: TypeInner::CooperativeMatrix { columns: CooperativeSize::Sixteen, rows: CooperativeSize::Sixteen, scalar, role } }, Span::UNDEFINED)
    };
    coop(Scalar::F16, CooperativeRole::A);
    coop(Scalar::F16, CooperativeRole::B);
    coop(Scalar::F32, CooperativeRole::C)
}

/// `f`'s subgroup id and invocation index in its subgroup, as arguments.
fn subgroup_arguments(f: &mut Function, u32_ty: Handle<Type>) -> (Handle<Expression>, Handle<Expression>) {
    let mut builtin = |name: &str, builtin| {
        f.arguments.push(FunctionArgument { name: Some(name.into()), ty: u32_ty, binding: Some(Binding::BuiltIn(builtin)) });
        f.expressions.append(Expression::FunctionArgument(f.arguments.len() as u32 - 1), Span::UNDEFINED)
    };
    (builtin("subgroup", BuiltIn::SubgroupId), builtin("lane", BuiltIn::SubgroupInvocationId))
}

/// The entry function `main` of a kernel built whole, with its workgroup
/// id and local invocation index arguments.
fn workgroup_entry(vec3_u32: Handle<Type>, u32_ty: Handle<Type>) -> (Function, Handle<Expression>, Handle<Expression>) {
    let mut f = Function { name: Some("main".into()), ..Default::default() };
    for (name, ty, builtin) in [("wid", vec3_u32, BuiltIn::WorkGroupId), ("lidx", u32_ty, BuiltIn::LocalInvocationIndex)] {
        f.arguments.push(FunctionArgument { name: Some(name.into()), ty, binding: Some(Binding::BuiltIn(builtin)) });
    }
    let wid = f.expressions.append(Expression::FunctionArgument(0), Span::UNDEFINED);
    let lidx = f.expressions.append(Expression::FunctionArgument(1), Span::UNDEFINED);
    (f, wid, lidx)
}

/// An array of `s`: of `len` elements (workgroup memory), or runtime-sized.
fn array_type(module: &mut Module, s: Scalar, len: Option<u32>) -> Handle<Type> {
    let base = scalar_type(&mut module.types, s);
    let size = len.map_or(naga::ArraySize::Dynamic, |n| naga::ArraySize::Constant(std::num::NonZeroU32::new(n).expect("arrays are not empty")));
    module.types.insert(Type { name: None, inner: TypeInner::Array { base, size, stride: s.width as u32 } }, Span::UNDEFINED)
}

/// A global of `module` in `space`, bound at `binding` of group 0 if given.
fn global_variable(module: &mut Module, name: String, space: AddressSpace, binding: Option<u32>, ty: Handle<Type>) -> Handle<GlobalVariable> {
    let binding = binding.map(|binding| ResourceBinding { group: 0, binding });
    module.global_variables.append(GlobalVariable { name: Some(name), space, binding, ty, init: None, memory_decorations: Default::default() }, Span::UNDEFINED)
}

/// The symbolic dims named in `exprs` and `dims`, sorted: the order of a
/// kernel's `dims` buffer.
fn symbols_of<'a>(exprs: impl IntoIterator<Item = &'a Expr>, dims: impl IntoIterator<Item = &'a Dim>) -> Vec<String> {
    let mut symbols = BTreeSet::new();
    for e in exprs {
        e.visit(&mut |x| {
            if let Expr::Dim(d) = x {
                symbols.extend(d.symbols().map(String::from));
            }
        });
    }
    for d in dims {
        symbols.extend(d.symbols().map(String::from));
    }
    symbols.into_iter().collect()
}

/// A runtime-sized array of `s` in storage, bound at `binding` of group 0.
fn storage_global(module: &mut Module, name: String, binding: usize, s: Scalar, access: StorageAccess) -> Handle<GlobalVariable> {
    let ty = array_type(module, s, None);
    global_variable(module, name, AddressSpace::Storage { access }, Some(binding as u32), ty)
}

/// The globals of a kernel built whole: its sources' (bound from 0, as
/// ranges where [`source_ranges`] says: `ranges`), then the output `out` of
/// `out_scalar` and the symbols' values `dims`.
struct WholeKernelGlobals {
    ranges: Vec<u32>,
    sources: Vec<Vec<Handle<GlobalVariable>>>,
    out: Handle<GlobalVariable>,
    dims: Handle<GlobalVariable>,
}

fn whole_kernel_globals(module: &mut Module, sources: &[(DType, Vec<Dim>)], target: &GpuTarget, out_scalar: Scalar) -> WholeKernelGlobals {
    let dtypes: Vec<DType> = sources.iter().map(|s| s.0).collect();
    let ranges = source_ranges(sources, target);
    let source_vars = source_globals(module, &dtypes, &ranges, target);
    let binding = ranges.iter().sum::<u32>() as usize;
    let out = storage_global(module, "out".into(), binding, out_scalar, StorageAccess::LOAD | StorageAccess::STORE);
    let dims = storage_global(module, "dims".into(), binding + 1, Scalar::I32, StorageAccess::LOAD);
    WholeKernelGlobals { ranges, sources: source_vars, out, dims }
}

/// Each source's read-only globals, bound from 0 in order: `s{i}`, or
/// `s{i}_{r}` for each of its `ranges[i]` ranges.
fn source_globals(module: &mut Module, dtypes: &[DType], ranges: &[u32], target: &GpuTarget) -> Vec<Vec<Handle<GlobalVariable>>> {
    let mut binding = 0;
    dtypes
        .iter()
        .zip(ranges)
        .enumerate()
        .map(|(i, (dtype, &n))| {
            (0..n)
                .map(|r| {
                    let name = if n == 1 { format!("s{i}") } else { format!("s{i}_{r}") };
                    binding += 1;
                    storage_global(module, name, binding - 1, storage_scalar(*dtype, target), StorageAccess::LOAD)
                })
                .collect()
        })
        .collect()
}

/// The [`Source`]s a kernel built whole reads (each source's range
/// globals, then the f32 output `out_var` of `out_shape`) as expressions
/// of `f`, and the output's.
fn kernel_sources(f: &mut Function, source_vars: &[Vec<Handle<GlobalVariable>>], sources: &[(DType, Vec<Dim>)], out_var: Handle<GlobalVariable>, out_shape: &[Dim], target: &GpuTarget) -> (Vec<Source>, Handle<Expression>) {
    let mut handle = |g| f.expressions.append(Expression::GlobalVariable(g), Span::UNDEFINED);
    let mut globals: Vec<Source> = Vec::new();
    for (vars, (dtype, shape)) in source_vars.iter().zip(sources) {
        globals.push(Source { ranges: vars.iter().map(|&g| handle(g)).collect(), range_words: target.range_words, shape: shape.clone(), dtype: *dtype, view: None });
    }
    let out_g = handle(out_var);
    globals.push(Source { ranges: vec![out_g], range_words: target.range_words, shape: out_shape.to_vec(), dtype: DType::F32, view: None });
    (globals, out_g)
}

/// Each source's bindings: one, or for a source of constant shape larger
/// than a binding may be, several consecutive ranges of its buffer.
fn source_ranges(sources: &[(DType, Vec<Dim>)], target: &GpuTarget) -> Vec<u32> {
    sources
        .iter()
        .map(|(dtype, shape)| {
            let len: Option<usize> = shape.iter().map(Dim::as_const).product::<Option<i64>>().and_then(|n| usize::try_from(n).ok());
            let words = len.map_or(0, |n| dtype.storage_bytes(n).div_ceil(4) as u64);
            if target.range_words > 0 && words > target.range_words as u64 {
                u32::try_from(words.div_ceil(target.range_words as u64)).unwrap_or(u32::MAX)
            } else {
                1
            }
        })
        .collect()
}
