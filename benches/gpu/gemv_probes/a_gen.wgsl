// kiln's generated kernel, by hand: 64 invocations per row, 8 weights each per step, scale inside
// rows_per_workgroup: 1
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
var<workgroup> part: array<f32, 64>;
fn nib(q: u32, s: u32) -> f32 {
    return bitcast<f32>(((q >> s) & 15u) | 0x4B000000u) - 8388616.0;
}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32, @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_id) sg: u32, @builtin(num_subgroups) sgs: u32) {
    let base = wid.x * RW;
    var acc = 0.0;
    for (var v = t; v < K / 8u; v += 64u) {
        let q = w[base + v];
        let d = scale(base, v);
        let x0 = x[2u * v];
        let x1 = x[2u * v + 1u];
        acc += x0.x * (d * nib(q, 0u));
        acc += x0.y * (d * nib(q, 4u));
        acc += x0.z * (d * nib(q, 8u));
        acc += x0.w * (d * nib(q, 12u));
        acc += x1.x * (d * nib(q, 16u));
        acc += x1.y * (d * nib(q, 20u));
        acc += x1.z * (d * nib(q, 24u));
        acc += x1.w * (d * nib(q, 28u));
    }
    let s = subgroupAdd(acc);
    if (lane == 0u) { part[sg] = s; }
    workgroupBarrier();
    if (t == 0u) {
        var total = 0.0;
        for (var i = 0u; i < sgs; i++) { total += part[i]; }
        y[wid.x] = total;
    }
}
