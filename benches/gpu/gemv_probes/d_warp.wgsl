// a subgroup of 32 per row, 8 rows per workgroup, no barrier
// rows_per_workgroup: 8
@group(0) @binding(0) var<storage, read> w: array<u32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
const K: u32 = {K}u;
const KB: u32 = K / 32u;
const RW: u32 = KB * 18u / 4u;
fn scale(base: u32, v: u32) -> f32 {
    let b = v / 4u;
    return unpack2x16float(w[base + KB * 4u + b / 2u])[b & 1u];
}
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
fn dot8(q: u32, x0: vec4<f32>, x1: vec4<f32>) -> f32 {
    let lo = bitcast<vec4<f32>>(((vec4<u32>(q) >> vec4<u32>(0u, 4u, 8u, 12u)) & vec4<u32>(15u)) | vec4<u32>(0x4B000000u)) - vec4<f32>(8388616.0);
    let hi = bitcast<vec4<f32>>(((vec4<u32>(q) >> vec4<u32>(16u, 20u, 24u, 28u)) & vec4<u32>(15u)) | vec4<u32>(0x4B000000u)) - vec4<f32>(8388616.0);
    return dot(x0, lo) + dot(x1, hi);
}
@compute @workgroup_size(32, 8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let row = wid.x * 8u + lid.y;
    let base = row * RW;
    var acc = 0.0;
    for (var v = lid.x; v < K / 8u; v += 32u) {
        acc += scale(base, v) * dot8(w[base + v], x[2u * v], x[2u * v + 1u]);
    }
    let s = subgroupAdd(acc);
    if (lid.x == 0u) { y[row] = s; }
}
