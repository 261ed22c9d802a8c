//! Every op on the Cranelift CPU backend against the f64 reference
//! interpreter, on fresh random inputs, at several shapes including odd sizes
//! and symbolic dims bound at run time. f32 results: relative L2 error < 1e-5.

mod common;
use common::*;
use kiln_dsl::{Bindings, DType, Dim, FunctionBuilder, HostTensor, NodeKind, RopeConfig, Tensor};

const TOL: f64 = 1e-5;

fn d(shape: &[usize]) -> Vec<Dim> {
    shape.iter().map(|&n| Dim::from(n)).collect()
}

/// Shapes of one input: declared dims (constant or symbolic) and the concrete run-time shape.
type Case = (Vec<Dim>, Vec<usize>);

fn c(shape: &[usize]) -> Case {
    (d(shape), shape.to_vec())
}

/// `n` symbolic in the first axis.
fn sym_first(name: &str, shape: &[usize]) -> Case {
    let mut dims = d(shape);
    dims[0] = Dim::sym(name);
    (dims, shape.to_vec())
}

/// Build a function of the given inputs, check it against the interpreter.
fn run_case(name: &str, inputs: &[(DType, Case)], tol: f64, body: impl Fn(&[Tensor]) -> Tensor) {
    let mut r = rng();
    let f = FunctionBuilder::new(name);
    let ts: Vec<Tensor> = inputs.iter().enumerate().map(|(i, (dt, (dims, _)))| f.input(&format!("x{i}"), *dt, dims)).collect();
    let out = body(&ts);
    let func = f.finish(&[&out]).unwrap_or_else(|e| panic!("{name}: {e}"));
    let shapes: Vec<&[usize]> = inputs.iter().map(|(_, (_, s))| s.as_slice()).collect();
    let ins = random_inputs(&func, &shapes, 50, &mut r);
    check(&func, &ins, &Bindings::new(), tol);
}

const ODD: [&[usize]; 6] = [&[1], &[7], &[33], &[577], &[7, 33], &[3, 5, 9]];

#[test]
fn unary_elementwise_ops() {
    for (name, op) in UNARY_OPS {
        for shape in ODD {
            run_case(name, &[(DType::F32, c(shape))], TOL, |t| op(&t[0]));
        }
        run_case(name, &[(DType::F32, sym_first("n", &[7, 33]))], TOL, |t| op(&t[0]));
        run_case(name, &[(DType::F16, c(&[33]))], TOL, |t| op(&t[0]));
    }
}

#[test]
fn binary_elementwise_ops_with_broadcasting() {
    type Op = fn(&Tensor, &Tensor) -> Tensor;
    let ops: [(&str, Op); 6] = [
        ("add", |a, b| a.add(b)),
        ("sub", |a, b| a.sub(b)),
        ("mul", |a, b| a.mul(b)),
        ("div", |a, b| a.div(&b.abs().add_scalar(0.5))),
        ("max", |a, b| a.maximum(b)),
        ("min", |a, b| a.minimum(b)),
    ];
    let pairs: [(Case, Case); 6] = [
        (c(&[1]), c(&[1])),
        (c(&[577]), c(&[577])),
        (c(&[7, 33]), c(&[33])),
        (c(&[7, 1]), c(&[1, 33])),
        (c(&[3, 5, 9]), c(&[5, 1])),
        (sym_first("n", &[7, 33]), c(&[33])),
    ];
    for (name, op) in ops {
        for (a, b) in &pairs {
            run_case(name, &[(DType::F32, a.clone()), (DType::F32, b.clone())], TOL, |t| op(&t[0], &t[1]));
        }
    }
}

#[test]
fn matmul_plain_batched_and_symbolic() {
    for (m, k, n) in [(1, 7, 33), (7, 33, 1), (33, 577, 7), (1, 1, 1), (9, 64, 40)] {
        run_case("matmul", &[(DType::F32, c(&[m, k])), (DType::F32, c(&[k, n]))], TOL, |t| t[0].matmul(&t[1]));
        run_case("matmul_t", &[(DType::F32, c(&[m, k])), (DType::F32, c(&[n, k]))], TOL, |t| t[0].matmul_t(&t[1]));
    }
    run_case("matmul_batched", &[(DType::F32, c(&[3, 7, 33])), (DType::F32, c(&[3, 33, 5]))], TOL, |t| t[0].matmul(&t[1]));
    run_case("matmul_shared_b", &[(DType::F32, c(&[3, 7, 33])), (DType::F32, c(&[33, 5]))], TOL, |t| t[0].matmul(&t[1]));
    run_case("matmul_sym_m", &[(DType::F32, sym_first("seq", &[7, 33])), (DType::F32, c(&[33, 9]))], TOL, |t| t[0].matmul(&t[1]));
    run_case("matmul_t_sym_m", &[(DType::F32, sym_first("seq", &[5, 64])), (DType::F32, c(&[33, 64]))], TOL, |t| t[0].matmul_t(&t[1]));
    // symbolic contraction axis
    let k = Dim::sym("k");
    run_case("matmul_sym_k", &[(DType::F32, (vec![7.into(), k.clone()], vec![7, 19])), (DType::F32, (vec![k, 5.into()], vec![19, 5]))], TOL, |t| t[0].matmul(&t[1]));
}

#[test]
fn matmul_with_quantized_and_f16_weights() {
    for wt in [DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::F16] {
        for (m, k, n) in [(1, 64, 33), (7, 96, 7), (1, 32, 1)] {
            run_case("matmul_t_quant", &[(DType::F32, c(&[m, k])), (wt, c(&[n, k]))], TOL, |t| t[0].matmul_t(&t[1]));
        }
        run_case("matmul_t_quant_sym", &[(DType::F32, sym_first("seq", &[3, 64])), (wt, c(&[9, 64]))], TOL, |t| t[0].matmul_t(&t[1]));
    }
    // K-quants: 256-value super-blocks
    for wt in [DType::Q4_K, DType::Q6_K] {
        for (m, k, n) in [(1, 256, 33), (7, 512, 7), (1, 256, 1)] {
            run_case("matmul_t_kquant", &[(DType::F32, c(&[m, k])), (wt, c(&[n, k]))], TOL, |t| t[0].matmul_t(&t[1]));
        }
        run_case("matmul_t_kquant_sym", &[(DType::F32, sym_first("seq", &[3, 256])), (wt, c(&[9, 256]))], TOL, |t| t[0].matmul_t(&t[1]));
    }
}

#[test]
fn normalizations_and_softmax() {
    let shapes = [c(&[1, 7]), c(&[7, 33]), c(&[3, 577]), c(&[1]), sym_first("n", &[5, 33])];
    for s in &shapes {
        let n = s.1[s.1.len() - 1];
        run_case("softmax", &[(DType::F32, s.clone())], TOL, |t| t[0].mul_scalar(3.0).softmax());
        run_case("rms_norm", &[(DType::F32, s.clone()), (DType::F32, c(&[n]))], TOL, |t| t[0].rms_norm(&t[1], 1e-5));
        run_case("layer_norm", &[(DType::F32, s.clone()), (DType::F32, c(&[n])), (DType::F32, c(&[n]))], TOL, |t| t[0].layer_norm(&t[1], &t[2], 1e-5));
    }
}

#[test]
fn rope_normal_and_neox() {
    for (s, h, dd, nd) in [(1, 3, 8, 8), (7, 3, 64, 64), (5, 2, 16, 8), (33, 1, 4, 4)] {
        for neox in [false, true] {
            let cfg = RopeConfig { base: 10000.0, n_dims: nd, neox };
            run_case("rope", &[(DType::F32, c(&[s, h, dd])), (DType::I32, c(&[s]))], TOL, |t| t[0].rope(&t[1], cfg));
        }
    }
    let cfg = RopeConfig { base: 500000.0, n_dims: 64, neox: false };
    run_case("rope_sym", &[(DType::F32, sym_first("seq", &[6, 4, 64])), (DType::I32, sym_first("seq", &[6]))], TOL, |t| t[0].rope(&t[1], cfg));
    // by a table of cosines and sines (any values: the op rotates by them)
    for (s, h, dd, pairs) in [(1, 3, 8, 4), (7, 3, 64, 32), (5, 2, 16, 4)] {
        for neox in [false, true] {
            run_case("rope_table", &[(DType::F32, c(&[s, h, dd])), (DType::F32, c(&[s, pairs, 2]))], TOL, |t| t[0].rope_table(&t[1], neox));
        }
    }
    let table = (vec![Dim::sym("seq"), 32.into(), 2.into()], vec![6, 32, 2]);
    run_case("rope_table_sym", &[(DType::F32, sym_first("seq", &[6, 4, 64])), (DType::F32, table)], TOL, |t| t[0].rope_table(&t[1], false));
}

#[test]
fn gather_from_dense_and_quantized_tables() {
    for table in [DType::F32, DType::F16, DType::Q8_0, DType::Q4_0, DType::Q4_1] {
        run_case("gather", &[(table, c(&[50, 64])), (DType::I32, c(&[7]))], TOL, |t| t[0].gather(&t[1]));
        run_case("gather_sym", &[(table, c(&[50, 32])), (DType::I32, sym_first("seq", &[3]))], TOL, |t| t[0].gather(&t[1]));
    }
    for table in [DType::Q4_K, DType::Q6_K] {
        run_case("gather_kquant", &[(table, c(&[20, 512])), (DType::I32, c(&[7]))], TOL, |t| t[0].gather(&t[1]));
    }
}

#[test]
fn layout_ops() {
    run_case("reshape", &[(DType::F32, c(&[7, 33]))], TOL, |t| t[0].reshape(&d(&[33, 7])).add_scalar(0.0));
    run_case("reshape_3d", &[(DType::F32, c(&[6, 10]))], TOL, |t| t[0].reshape(&d(&[3, 4, 5])));
    let seq = Dim::sym("seq");
    run_case("reshape_sym", &[(DType::F32, sym_first("seq", &[5, 12]))], TOL, |t| t[0].reshape(&[seq.clone(), 3.into(), 4.into()]));
    run_case("transpose", &[(DType::F32, c(&[7, 33]))], TOL, |t| t[0].transpose(&[1, 0]));
    run_case("transpose_3d", &[(DType::F32, c(&[3, 5, 9]))], TOL, |t| t[0].transpose(&[2, 0, 1]));
    run_case("concat", &[(DType::F32, c(&[7, 33])), (DType::F32, c(&[7, 5]))], TOL, |t| t[0].concat(&[&t[1]], 1));
    run_case("concat3", &[(DType::F32, c(&[1, 4])), (DType::F32, c(&[7, 4])), (DType::F32, c(&[2, 4]))], TOL, |t| t[0].concat(&[&t[1], &t[2]], 0));
    run_case("concat_sym", &[(DType::F32, sym_first("past", &[6, 8])), (DType::F32, sym_first("seq", &[3, 8]))], TOL, |t| t[0].concat(&[&t[1]], 0));
    // the KV cache's growth: f16 rows (copied as bytes), odd row sizes
    run_case("concat_f16", &[(DType::F16, sym_first("past", &[40, 3, 64])), (DType::F16, c(&[1, 3, 64]))], 0.0, |t| t[0].concat(&[&t[1]], 0));
    run_case("concat_i32", &[(DType::I32, c(&[3, 7])), (DType::I32, sym_first("n", &[5, 7]))], 0.0, |t| t[0].concat(&[&t[1]], 0));
    run_case("slice", &[(DType::F32, c(&[7, 33]))], TOL, |t| t[0].slice(1, 3, 30));
    run_case("slice_rows", &[(DType::F32, c(&[577]))], TOL, |t| t[0].slice(0, 1, 577));
}

#[test]
fn causal_attention_over_a_kv_cache() {
    // (S, T, Hq, Hkv, D)
    for (s, t, hq, hkv, dd) in [(1, 7, 4, 2, 8), (7, 7, 4, 4, 16), (3, 33, 9, 3, 64), (1, 1, 2, 1, 4)] {
        let scale = 1.0 / (dd as f64).sqrt();
        run_case("attention", &[(DType::F32, c(&[s, hq, dd])), (DType::F32, c(&[t, hkv, dd])), (DType::F32, c(&[t, hkv, dd]))], TOL, |x| x[0].attention(&x[1], &x[2], scale));
    }
    let cases = [(DType::F32, sym_first("seq", &[3, 6, 32])), (DType::F32, sym_first("kv", &[12, 2, 32])), (DType::F32, sym_first("kv", &[12, 2, 32]))];
    run_case("attention_sym", &cases, TOL, |x| x[0].attention(&x[1], &x[2], 0.2));
    // f16 q, k, v (llama.cpp's KV cache): probabilities round to f16, where
    // f32 and f64 may land on different sides of a rounding step
    for (s, t) in [(1, 33), (5, 40)] {
        run_case("attention_f16", &[(DType::F16, c(&[s, 9, 64])), (DType::F16, c(&[t, 3, 64])), (DType::F16, c(&[t, 3, 64]))], 1e-3, |x| x[0].attention(&x[1], &x[2], 0.125));
    }
}

#[test]
fn argmax_dequantize_and_cast() {
    for s in [c(&[7, 33]), c(&[577]), c(&[1, 1]), sym_first("n", &[4, 50])] {
        run_case("argmax", &[(DType::F32, s)], TOL, |t| t[0].argmax());
    }
    for q in [DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::F16] {
        run_case("dequantize", &[(q, c(&[7, 64]))], TOL, |t| t[0].dequantize());
        run_case("dequantize_1row", &[(q, c(&[1, 32]))], TOL, |t| t[0].dequantize());
    }
    for q in [DType::Q4_K, DType::Q6_K] {
        run_case("dequantize_kquant", &[(q, c(&[3, 512]))], TOL, |t| t[0].dequantize());
    }
    run_case("cast_f16", &[(DType::F32, c(&[7, 33]))], 1e-2, |t| t[0].cast(DType::F16));
    run_case("cast_f16_roundtrip", &[(DType::F32, c(&[577]))], 1e-2, |t| t[0].cast(DType::F16).cast(DType::F32));
    run_case("cast_i32", &[(DType::F32, c(&[7, 33]))], TOL, |t| t[0].mul_scalar(10.0).cast(DType::I32));
    run_case("cast_from_i32", &[(DType::I32, c(&[33]))], TOL, |t| t[0].cast(DType::F32).mul_scalar(0.5));
}

#[test]
fn quantized_gather_matches_a_direct_dequantization() {
    // An independent check of the interpreter's own dequantizer: ggml's
    // layout, decoded by hand for one Q4_0 block.
    let mut block = vec![0u8; 18];
    block[..2].copy_from_slice(&half::f16::from_f32(0.5).to_le_bytes());
    block[2] = 0x1F; // element 0: low nibble 15 -> (15 - 8) * 0.5 = 3.5; element 16: high nibble 1 -> -3.5
    let t = HostTensor { dtype: DType::Q4_0, shape: vec![1, 32], data: block.into() };
    let v = t.to_f64();
    assert_eq!(v[0], 3.5);
    assert_eq!(v[16], -3.5);
    assert_eq!(v[1], -4.0);
}

#[test]
fn f16_special_values_convert_exactly() {
    // subnormals, the largest half, signed zero and infinities
    let values = [5.96e-8f32, -6.1e-5, 65504.0, -0.0, 0.0, f32::INFINITY, f32::NEG_INFINITY, 1.0 / 3.0];
    let f = FunctionBuilder::new("f16");
    let x = f.input("x", DType::F16, &d(&[8]));
    let func = f.finish(&[&x.dequantize()]).unwrap();
    let input = HostTensor::from_f32(DType::F16, &[8], &values);
    let want = kiln_dsl::interpret(&func, std::slice::from_ref(&input), &Default::default(), &Bindings::new()).unwrap();
    let exe = kiln_runtime::CpuExecutable::compile(&func, &Default::default()).unwrap();
    let got = exe.run(&[input], &Default::default(), &Bindings::new()).unwrap();
    let got = got[0].to_f64();
    for (g, w) in got.iter().zip(&want[0].data) {
        assert!(g == w && g.is_sign_negative() == w.is_sign_negative(), "{g} vs {w}");
    }
    // every f16 bit pattern, through the vectorized conversion
    let f = FunctionBuilder::new("all_f16");
    let x = f.input("x", DType::F16, &d(&[65536]));
    let func = f.finish(&[&x.dequantize()]).unwrap();
    let bytes: Vec<u8> = (0..=u16::MAX).flat_map(|b| b.to_le_bytes()).collect();
    let input = HostTensor::from_bytes(DType::F16, &[65536], bytes.into()).unwrap();
    let exe = kiln_runtime::CpuExecutable::compile(&func, &Default::default()).unwrap();
    let got = exe.run(&[input], &Default::default(), &Bindings::new()).unwrap();
    for (bits, g) in (0..=u16::MAX).zip(got[0].to_f64()) {
        let want = half::f16::from_bits(bits).to_f32();
        assert!(if want.is_nan() { g.is_nan() } else { (g as f32).to_bits() == want.to_bits() }, "{bits:#06x}: {g} vs {want}");
    }
}

#[test]
fn f32_to_f16_rounds_to_nearest_even_like_the_half_crate() {
    // every rounding regime: random bit patterns of the whole f32 range, the
    // f16 subnormal range, ties, the overflow edge, infinities and NaN
    let mut r = rng();
    let mut values: Vec<f32> = (0..20_000).map(|_| f32::from_bits(rand::Rng::random::<u32>(&mut r))).filter(|v| !v.is_nan()).collect();
    values.extend((0..20_000).map(|i| (i as f32 - 10_000.0) * 3.1e-9));
    values.extend([65504.0f32, 65519.99, 65520.0, 65536.0, 1e10, -65520.0, 6.0e-8, 2.98e-8, 2.99e-8, 1.0 + 1.0 / 2048.0, 1.0 + 3.0 / 2048.0, -0.0, f32::INFINITY, f32::NEG_INFINITY, f32::MIN_POSITIVE]);
    let n = values.len();
    let f = FunctionBuilder::new("to_f16");
    let x = f.input("x", DType::F32, &d(&[n]));
    let func = f.finish(&[&x.cast(DType::F16)]).unwrap();
    let exe = kiln_runtime::CpuExecutable::compile(&func, &Default::default()).unwrap();
    let got = exe.run(&[HostTensor::from_f32(DType::F32, &[n], &values)], &Default::default(), &Bindings::new()).unwrap();
    for (i, v) in values.iter().enumerate() {
        let bits = u16::from_le_bytes([got[0].data[2 * i], got[0].data[2 * i + 1]]);
        assert_eq!(bits, half::f16::from_f32(*v).to_bits(), "{v:e} ({:#010x})", v.to_bits());
    }
    let nan = exe.run(&[HostTensor::from_f32(DType::F32, &[n], &vec![f32::NAN; n])], &Default::default(), &Bindings::new()).unwrap();
    assert!(half::f16::from_bits(u16::from_le_bytes([nan[0].data[0], nan[0].data[1]])).is_nan());
}

/// The exp the CPU backend inlines, written out in scalar Rust: the
/// ARM-optimized-routines polynomial llama.cpp's AVX2 code uses.
fn exp_reference(x: f32) -> f32 {
    let f = f32::from_bits;
    let z = x.mul_add(f(0x3fb8_aa3b), f(0x4b40_0000));
    let n = z - f(0x4b40_0000);
    let r = (-n).mul_add(f(0x3f31_7200), x);
    let r = (-n).mul_add(f(0x35bf_be8e), r);
    let e = z.to_bits() << 23;
    let k = f(e.wrapping_add(0x3f80_0000));
    let u = r * r;
    let j = f(0x3c07_2010).mul_add(r, f(0x3d2b_9f17)).mul_add(u, f(0x3e2a_af33).mul_add(r, f(0x3eff_fedb))).mul_add(u, f(0x3f7f_fff6) * r);
    if n.abs() <= 126.0 {
        return j.mul_add(k, k);
    }
    let g = if n <= 0.0 { 0x8200_0000u32 } else { 0 };
    let s1 = f(g.wrapping_add(0x7f00_0000));
    let s2 = f(e.wrapping_sub(g));
    if n.abs() > 192.0 { s1 * s1 } else { s2.mul_add(j, s2) * s1 }
}

#[test]
fn exp_is_llamacpps_polynomial_and_within_two_ulp() {
    let mut r = rng();
    let mut values: Vec<f32> = (0..40_000).map(|_| rand::Rng::random_range(&mut r, -110.0f32..95.0)).collect();
    values.extend((0..4000).map(|i| (i as f32 - 2000.0) / 500.0));
    values.extend([0.0f32, -0.0, 1.0, -1.0, 88.3, 88.8, -87.0, -103.0, -104.5, -200.0, 200.0, f32::INFINITY, f32::NEG_INFINITY]);
    let n = values.len();
    let f = FunctionBuilder::new("exp");
    let x = f.input("x", DType::F32, &d(&[n]));
    let func = f.finish(&[&x.exp()]).unwrap();
    let exe = kiln_runtime::CpuExecutable::compile(&func, &Default::default()).unwrap();
    let got = exe.run(&[HostTensor::from_f32(DType::F32, &[n], &values)], &Default::default(), &Bindings::new()).unwrap()[0].to_f64();
    let fma = std::is_x86_feature_detected!("fma");
    for (x, g) in values.iter().zip(&got) {
        let g = *g as f32;
        if fma {
            assert_eq!(g.to_bits(), exp_reference(*x).to_bits(), "exp({x:e}) = {g:e}, want {:e}", exp_reference(*x));
        }
        let exact = (*x as f64).exp();
        if exact.is_finite() && exact > f32::MIN_POSITIVE as f64 * 4.0 && exact < f32::MAX as f64 {
            let ulp = (exact as f32).to_bits().abs_diff(g.to_bits());
            assert!(ulp <= 2, "exp({x:e}) = {g:e}, {ulp} ulp from {exact:e}");
        }
    }
    assert_eq!(got[n - 2], f64::INFINITY);
    assert_eq!(got[n - 1], 0.0);
}

/// `(i - 37) / d` and `(i - 37) % d` for divisors that are and are not
/// powers of two, on negative and positive dividends: integer division
/// truncates toward zero in every backend, as in the interpreter.
#[derive(Debug)]
struct IndexArithmetic(i64);

impl kiln_dsl::OpDef for IndexArithmetic {
    fn name(&self) -> String {
        format!("index_arithmetic({})", self.0)
    }
    fn infer(&self, inputs: &[kiln_dsl::TensorType]) -> Result<kiln_dsl::TensorType, String> {
        Ok(kiln_dsl::TensorType::new(DType::F32, inputs[0].shape.clone()))
    }
    fn compute(&self, _: &[kiln_dsl::TensorType], out: &kiln_dsl::TensorType) -> Vec<kiln_dsl::Stage> {
        use kiln_dsl::{ax, int, load, Stage};
        let i = ax(0).sub(int(37));
        let q = i.clone().div(int(self.0)).to_float();
        let r = i.rem(int(self.0)).to_float();
        let body = q.mul(kiln_dsl::flt(1000.0)).add(r).add(load(0, vec![ax(0)]).mul(kiln_dsl::flt(0.0)));
        vec![Stage::map("index_arithmetic", out.shape.clone(), DType::F32, body)]
    }
}

#[test]
fn integer_division_truncates_toward_zero() {
    for divisor in [1, 2, 4, 8, 32, 3, 7] {
        let f = FunctionBuilder::new("div");
        let x = f.input("x", DType::F32, &d(&[100]));
        let y = f.apply(std::sync::Arc::new(IndexArithmetic(divisor)), &[&x]);
        let func = f.finish(&[&y]).unwrap();
        let input = HostTensor::from_f32(DType::F32, &[100], &[1.0; 100]);
        check(&func, &[input], &Bindings::new(), 1e-9);
    }
}

#[test]
fn activation_quantization_gives_the_interpreters_bytes() {
    let mut r = rng();
    for (to, shape) in [DType::Q8_0, DType::Q8_1].into_iter().flat_map(|t| [&[1usize, 32][..], &[7, 96], &[3, 2, 64], &[64]].map(|s| (t, s))) {
        let f = FunctionBuilder::new("quantize_acts");
        let x = f.input("x", DType::F32, &d(shape));
        let q = x.quantize(to);
        let func = f.finish(&[&q]).unwrap();
        let ins = random_inputs(&func, &[shape], 50, &mut r);
        let exe = kiln_runtime::CpuExecutable::compile(&func, &Default::default()).unwrap();
        let got = exe.run(&ins, &Default::default(), &Bindings::new()).unwrap();
        let values: Vec<f32> = ins[0].to_f64().iter().map(|&v| v as f32).collect();
        assert_eq!(got[0].dtype, to);
        assert_eq!(&got[0].data[..], &kiln_dsl::quant::quantize_activations(to, &values)[..], "{to} shape {shape:?}");
        // and the interpreter's dequantization of it
        check(&func, &ins, &Bindings::new(), TOL);
    }
}

#[test]
fn integer_dot_matmuls_of_8_bit_activations_and_quantized_weights() {
    // the templated pairs (llama.cpp's), and q8_0 with q4_1 (the generic nest)
    for (acts, wt) in [(DType::Q8_0, DType::Q8_0), (DType::Q8_0, DType::Q4_0), (DType::Q8_1, DType::Q4_1), (DType::Q8_0, DType::Q4_1)] {
        // n not a multiple of the 4-row tile, single rows, several blocks
        for (m, k, n) in [(1, 64, 33), (7, 96, 7), (1, 32, 1), (5, 576, 12), (2, 1536, 3)] {
            run_case("matmul_q8_acts", &[(DType::F32, c(&[m, k])), (wt, c(&[n, k]))], TOL, |t| t[0].quantize(acts).matmul_t(&t[1]));
        }
        run_case("matmul_q8_acts_sym", &[(DType::F32, sym_first("seq", &[3, 64])), (wt, c(&[9, 64]))], TOL, |t| t[0].quantize(acts).matmul_t(&t[1]));
        run_case("matmul_q8_acts_batched", &[(DType::F32, c(&[2, 3, 64])), (wt, c(&[5, 64]))], TOL, |t| t[0].quantize(acts).matmul_t(&t[1]));
    }
}

/// The disassembly of the default-scheduled kernel of `func`'s last op.
fn last_op_asm(func: &kiln_dsl::Function) -> String {
    use kiln_schedule::{default_schedule, LoopNest, Target};
    let node = func.node(*func.outputs.last().unwrap());
    let ins: Vec<_> = node.inputs.iter().map(|i| func.node(*i).ty.clone()).collect();
    let NodeKind::Op(op) = &node.kind else { panic!("not an op") };
    let stage = op.compute(&ins, &node.ty).pop().unwrap();
    let sources: Vec<_> = ins.iter().map(|t| (t.dtype, t.shape.clone())).collect();
    let (v, _) = default_schedule(LoopNest::from_stage(&stage, &sources).unwrap(), Target::CPU).unwrap();
    kiln_codegen::cpu::disassemble(&v).unwrap()
}

#[test]
fn templated_stages_compile_to_their_instruction_sequences() {
    for (acts, wt, want) in [(DType::Q8_0, DType::Q4_0, "pmaddubsw"), (DType::Q8_1, DType::Q4_1, "pmaddubsw"), (DType::Q8_0, DType::Q8_0, "pmaddwd")] {
        let f = FunctionBuilder::new("qdot");
        let x = f.input("x", DType::F32, &[Dim::sym("m"), 64.into()]);
        let w = f.input("w", wt, &d(&[8, 64]));
        let func = f.finish(&[&x.quantize(acts).matmul_t(&w)]).unwrap();
        let asm = last_op_asm(&func);
        assert!(asm.contains(want), "{wt}: no {want} in\n{asm}");
    }
    // concatenating f16 rows copies 16 bytes at a time, converting nothing
    let f = FunctionBuilder::new("grow");
    let past = f.input("past", DType::F16, &[Dim::sym("past"), 3.into(), 64.into()]);
    let new = f.input("new", DType::F16, &d(&[1, 3, 64]));
    let asm = last_op_asm(&f.finish(&[&past.concat(&[&new], 0)]).unwrap());
    assert!(asm.contains("movdqu") && !asm.contains("cvt"), "{asm}");
}
