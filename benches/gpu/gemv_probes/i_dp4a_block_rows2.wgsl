// int8 activations: a subgroup per 2 rows (activations reused), a whole block per lane per step
// rows_per_workgroup: 8
@group(0) @binding(0) var<storage, read> w: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> xq: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> xd: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
const K: u32 = {K}u;
const KB: u32 = K / 32u;
const RW: u32 = KB * 18u / 4u;
fn idot(q: vec4<u32>, xa: vec4<u32>, xb: vec4<u32>) -> i32 {
    let m = 0x0F0F0F0Fu;
    return dot4I8Packed(q.x & m, xa.x) + dot4I8Packed((q.x >> 4u) & m, xa.y)
         + dot4I8Packed(q.y & m, xa.z) + dot4I8Packed((q.y >> 4u) & m, xa.w)
         + dot4I8Packed(q.z & m, xb.x) + dot4I8Packed((q.z >> 4u) & m, xb.y)
         + dot4I8Packed(q.w & m, xb.z) + dot4I8Packed((q.w >> 4u) & m, xb.w);
}
fn scale(base: u32, b: u32) -> f32 {
    let s = base + KB * 4u + b / 2u;
    return unpack2x16float(w[s / 4u][s % 4u])[b & 1u];
}
@compute @workgroup_size(32, 4)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let row = wid.x * 8u + lid.y * 2u;
    let b0 = row * RW;
    let b1 = b0 + RW;
    var a0 = 0.0;
    var a1 = 0.0;
    for (var b = lid.x; b < KB; b += 32u) {
        let xa = xq[2u * b];
        let xb = xq[2u * b + 1u];
        let xs = xd[b];
        a0 += scale(b0, b) * (xs.x * f32(idot(w[b0 / 4u + b], xa, xb)) - 8.0 * xs.y);
        a1 += scale(b1, b) * (xs.x * f32(idot(w[b1 / 4u + b], xa, xb)) - 8.0 * xs.y);
    }
    let s = subgroupAdd(vec2<f32>(a0, a1));
    if (lid.x == 0u) { y[row] = s.x; y[row + 1u] = s.y; }
}
