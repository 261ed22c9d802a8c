use kiln_dsl::{Bindings, DType, Dim, FunctionBuilder, HostTensor};
use kiln_runtime::{CompileOptions, GpuDevice, GpuExecutable, Value};
use std::collections::HashMap;
fn main() {
    let gpu = GpuDevice::open(0).unwrap();
    for n in [1usize << 16, 1 << 20, 1 << 22] {
        let f = FunctionBuilder::new("inc");
        let x = f.input("x", DType::F32, &[Dim::from(n)]);
        let func = f.finish(&[&x.add_scalar(1.0)]).unwrap();
        let exe = GpuExecutable::compile(&func, &gpu, &CompileOptions::default()).unwrap();
        let xs = gpu.upload("x", &HostTensor::from_f32(DType::F32, &[n], &vec![1.0; n])).unwrap();
        for _ in 0..3 {
            let t0 = std::time::Instant::now();
            let (_, t) = exe.run_profiled(&[Value::Gpu(xs.clone())], &HashMap::new(), &Bindings::new()).unwrap();
            println!("n={n} gpu {:?} wall {:?}", t[0], t0.elapsed());
        }
    }
}
