//! Scalar functions that generated CPU code calls: transcendental math and
//! f32 -> f16 rounding, which Cranelift has no instructions for. (f16 -> f32
//! is exact and emitted inline.)

use half::f16;

pub extern "C" fn kiln_expf(x: f32) -> f32 {
    x.exp()
}
pub extern "C" fn kiln_logf(x: f32) -> f32 {
    x.ln()
}
pub extern "C" fn kiln_tanhf(x: f32) -> f32 {
    x.tanh()
}
pub extern "C" fn kiln_erff(x: f32) -> f32 {
    kiln_dsl::erf(x as f64) as f32
}
pub extern "C" fn kiln_sinf(x: f32) -> f32 {
    x.sin()
}
pub extern "C" fn kiln_cosf(x: f32) -> f32 {
    x.cos()
}
pub extern "C" fn kiln_f32_to_f16(x: f32) -> i32 {
    f16::from_f32(x).to_bits() as i32
}

/// Every helper: symbol name and address.
pub fn all() -> [(&'static str, *const u8); 7] {
    [
        ("kiln_expf", kiln_expf as *const u8),
        ("kiln_logf", kiln_logf as *const u8),
        ("kiln_tanhf", kiln_tanhf as *const u8),
        ("kiln_erff", kiln_erff as *const u8),
        ("kiln_sinf", kiln_sinf as *const u8),
        ("kiln_cosf", kiln_cosf as *const u8),
        ("kiln_f32_to_f16", kiln_f32_to_f16 as *const u8),
    ]
}
