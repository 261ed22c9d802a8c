// weights split keeping GGUF's nibble order, activations as Q8_1 blocks (36 bytes, word loads), signed nibbles
// rows_per_workgroup: 8
@group(0) @binding(5) var<storage, read> w: array<vec4<u32>>;
@group(0) @binding(6) var<storage, read> xq: array<u32>;
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
        let a = 9u * b + 1u;
        let m = 0x0F0F0F0Fu;
        let i = dot4I8Packed(s8(q.x & m), xq[a]) + dot4I8Packed(s8((q.x >> 4u) & m), xq[a + 4u])
              + dot4I8Packed(s8(q.y & m), xq[a + 1u]) + dot4I8Packed(s8((q.y >> 4u) & m), xq[a + 5u])
              + dot4I8Packed(s8(q.z & m), xq[a + 2u]) + dot4I8Packed(s8((q.z >> 4u) & m), xq[a + 6u])
              + dot4I8Packed(s8(q.w & m), xq[a + 3u]) + dot4I8Packed(s8((q.w >> 4u) & m), xq[a + 7u]);
        let s = base + KB * 4u + b / 2u;
        let d = unpack2x16float(w[s / 4u][s % 4u])[b & 1u];
        acc += d * unpack2x16float(xq[a - 1u]).x * f32(i);
    }
    let s = subgroupAdd(acc);
    if (lid.x == 0u) { y[row] = s; }
}
