// f32 activations: a subgroup per row, a whole block (16-byte load) per lane per step, eight vec4 activations
// rows_per_workgroup: 8
@group(0) @binding(0) var<storage, read> w: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
const K: u32 = {K}u;
const KB: u32 = K / 32u;
const RW: u32 = KB * 18u / 4u;
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
    for (var b = lid.x; b < KB; b += 32u) {
        let q = w[base / 4u + b];
        let s = base + KB * 4u + b / 2u;
        let d = unpack2x16float(w[s / 4u][s % 4u])[b & 1u];
        let sum = dot8(q.x, x[8u * b], x[8u * b + 1u]) + dot8(q.y, x[8u * b + 2u], x[8u * b + 3u])
                + dot8(q.z, x[8u * b + 4u], x[8u * b + 5u]) + dot8(q.w, x[8u * b + 6u], x[8u * b + 7u]);
        acc += d * sum;
    }
    let s = subgroupAdd(acc);
    if (lid.x == 0u) { y[row] = s; }
}
