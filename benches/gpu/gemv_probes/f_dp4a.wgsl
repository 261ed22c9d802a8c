// int8 activations: a subgroup per row, one word (8 weights) per lane per step, two dot4I8Packed
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
@group(0) @binding(2) var<storage, read> xq: array<u32>;
@group(0) @binding(3) var<storage, read> xd: array<vec2<f32>>;
@compute @workgroup_size(32, 8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let row = wid.x * 8u + lid.y;
    let base = row * RW;
    var acc = 0.0;
    for (var v = lid.x; v < K / 8u; v += 32u) {
        let q = w[base + v];
        let i = dot4I8Packed(q & 0x0F0F0F0Fu, xq[2u * v]) + dot4I8Packed((q >> 4u) & 0x0F0F0F0Fu, xq[2u * v + 1u]);
        let xs = xd[v / 4u];
        acc += scale(base, v) * (xs.x * f32(i) - select(0.0, 8.0 * xs.y, (v & 3u) == 0u));
    }
    let s = subgroupAdd(acc);
    if (lid.x == 0u) { y[row] = s; }
}
