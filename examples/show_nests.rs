use kiln_dsl::{DType, FunctionBuilder};
use kiln_runtime::{CompileOptions, CpuExecutable};
fn main() {
    let f = FunctionBuilder::new("mm");
    let a = f.input("a", DType::F32, &["m".into(), 512.into()]);
    let b = f.input("b", DType::F32, &[512.into(), 512.into()]);
    let w = f.input("w", DType::Q4_0, &[64.into(), 512.into()]);
    let y = a.matmul(&b).matmul_t(&w).softmax();
    let func = f.finish(&[&y]).unwrap();
    let exe = CpuExecutable::compile(&func, &CompileOptions::default()).unwrap();
    for (op, n) in exe.kernels() { println!("# {op}\n{n}\n"); }
}
