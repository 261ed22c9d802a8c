//! Prints the default-scheduled loop nest of a benchmark kernel and the
//! machine code Cranelift makes of it (of the last op's stage STAGE):
//! `cargo run --release -p kiln-benches --example asm -- gemm|gemv|add|q4_0|q4_1|q4_1_int8|q4_1_prefill|q8_0|q8_0_int8|quantize|attention|attention_f16 [STAGE]`.
use kiln_benches::{function, stage_nest};
use kiln_dsl::DType;
fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let func = match which.as_str() {
        "add" => function(&[("x", DType::F32, &[4096]), ("y", DType::F32, &[4096])], |t| t[0].add(&t[1])),
        "gemv" => function(&[("x", DType::F32, &[1, 4096]), ("w", DType::F32, &[4096, 4096])], |t| t[0].matmul_t(&t[1])),
        "q4_0" => function(&[("x", DType::F32, &[1, 4096]), ("w", DType::Q4_0, &[4096, 4096])], |t| t[0].matmul_t(&t[1])),
        "q4_1_prefill" => function(&[("x", DType::F32, &[8, 576]), ("w", DType::Q4_1, &[1536, 576])], |t| t[0].matmul_t(&t[1])),
        "q4_1_int8" => function(&[("x", DType::F32, &[1, 576]), ("w", DType::Q4_1, &[1536, 576])], |t| t[0].quantize(DType::Q8_1).matmul_t(&t[1])),
        "q8_0_int8" => function(&[("x", DType::F32, &[1, 576]), ("w", DType::Q8_0, &[49152, 576])], |t| t[0].quantize(DType::Q8_0).matmul_t(&t[1])),
        "quantize" => function(&[("x", DType::F32, &[1, 576])], |t| t[0].quantize(DType::Q8_0)),
        "q4_1" => function(&[("x", DType::F32, &[1, 576]), ("w", DType::Q4_1, &[1536, 576])], |t| t[0].matmul_t(&t[1])),
        "attention" => function(&[("q", DType::F32, &[1, 9, 64]), ("k", DType::F32, &[760, 3, 64]), ("v", DType::F32, &[760, 3, 64])], |t| t[0].attention(&t[1], &t[2], 0.125)),
        "attention_f16" => function(&[("q", DType::F16, &[1, 9, 64]), ("k", DType::F16, &[760, 3, 64]), ("v", DType::F16, &[760, 3, 64])], |t| t[0].attention(&t[1], &t[2], 0.125)),
        "q8_0" => function(&[("x", DType::F32, &[1, 4096]), ("w", DType::Q8_0, &[4096, 4096])], |t| t[0].matmul_t(&t[1])),
        _ => function(&[("a", DType::F32, &[512, 512]), ("b", DType::F32, &[512, 512])], |t| t[0].matmul(&t[1])),
    };
    let stage = std::env::args().nth(2).map_or(0, |s| s.parse().expect("a stage number"));
    let (v, _) = stage_nest(&func, stage);
    println!("{v}\n{}", kiln_codegen::cpu::disassemble(&v).unwrap());
}
