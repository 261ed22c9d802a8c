// g_dp4a_block with the nibbles made signed (q - 8) before the dot products: no offset term
// rows_per_workgroup: 8
@group(0) @binding(0) var<storage, read> w: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> xq: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> xd: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
const K: u32 = {K}u;
const KB: u32 = K / 32u;
const RW: u32 = KB * 18u / 4u;
fn s8(u: u32) -> u32 {
    return (u + 0x78787878u) ^ 0x80808080u;
}
@compute @workgroup_size(32, 8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let row = wid.x * 8u + lid.y;
    let base = row * RW;
    var acc = 0.0;
    for (var b = lid.x; b < KB; b += 32u) {
        let q = w[base / 4u + b];
        let xa = xq[2u * b];
        let xb = xq[2u * b + 1u];
        let m = 0x0F0F0F0Fu;
        let i = dot4I8Packed(s8(q.x & m), xa.x) + dot4I8Packed(s8((q.x >> 4u) & m), xa.y)
              + dot4I8Packed(s8(q.y & m), xa.z) + dot4I8Packed(s8((q.y >> 4u) & m), xa.w)
              + dot4I8Packed(s8(q.z & m), xb.x) + dot4I8Packed(s8((q.z >> 4u) & m), xb.y)
              + dot4I8Packed(s8(q.w & m), xb.z) + dot4I8Packed(s8((q.w >> 4u) & m), xb.w);
        let s = base + KB * 4u + b / 2u;
        let d = unpack2x16float(w[s / 4u][s % 4u])[b & 1u];
        acc += d * xd[b].x * f32(i);
    }
    let s = subgroupAdd(acc);
    if (lid.x == 0u) { y[row] = s; }
}
