//! Scalar functions that generated CPU code calls: transcendental math,
//! which Cranelift has no instructions for. (`exp` and the f16 conversions
//! are emitted inline.)

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

/// Every helper: symbol name and address.
pub fn all() -> [(&'static str, *const u8); 5] {
    [
        ("kiln_logf", kiln_logf as *const u8),
        ("kiln_tanhf", kiln_tanhf as *const u8),
        ("kiln_erff", kiln_erff as *const u8),
        ("kiln_sinf", kiln_sinf as *const u8),
        ("kiln_cosf", kiln_cosf as *const u8),
    ]
}
