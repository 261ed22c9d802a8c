// 64 invocations for 4 rows: each invocation's activations serve 4 rows
// rows_per_workgroup: 4
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
var<workgroup> part: array<vec4<f32>, 64>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32, @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_id) sg: u32, @builtin(num_subgroups) sgs: u32) {
    let r0 = wid.x * 4u;
    var acc = vec4<f32>(0.0);
    for (var v = t; v < K / 8u; v += 64u) {
        let x0 = x[2u * v];
        let x1 = x[2u * v + 1u];
        for (var r = 0u; r < 4u; r++) {
            let base = (r0 + r) * RW;
            acc[r] += scale(base, v) * dot8(w[base + v], x0, x1);
        }
    }
    let s = subgroupAdd(acc);
    if (lane == 0u) { part[sg] = s; }
    workgroupBarrier();
    if (t == 0u) {
        var total = vec4<f32>(0.0);
        for (var i = 0u; i < sgs; i++) { total += part[i]; }
        for (var r = 0u; r < 4u; r++) { y[r0 + r] = total[r]; }
    }
}
