// k_q8_1_gguf with two rows per subgroup (activations loaded once for both)
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
fn idot(q: vec4<u32>, x0: vec4<u32>, x1: vec4<u32>) -> i32 {
    let m = 0x0F0F0F0Fu;
    return dot4I8Packed(s8(q.x & m), x0.x) + dot4I8Packed(s8((q.x >> 4u) & m), x1.x)
         + dot4I8Packed(s8(q.y & m), x0.y) + dot4I8Packed(s8((q.y >> 4u) & m), x1.y)
         + dot4I8Packed(s8(q.z & m), x0.z) + dot4I8Packed(s8((q.z >> 4u) & m), x1.z)
         + dot4I8Packed(s8(q.w & m), x0.w) + dot4I8Packed(s8((q.w >> 4u) & m), x1.w);
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
        let a = 9u * b + 1u;
        let x0 = vec4<u32>(xq[a], xq[a + 1u], xq[a + 2u], xq[a + 3u]);
        let x1 = vec4<u32>(xq[a + 4u], xq[a + 5u], xq[a + 6u], xq[a + 7u]);
        let dx = unpack2x16float(xq[a - 1u]).x;
        a0 += scale(b0, b) * dx * f32(idot(w[b0 / 4u + b], x0, x1));
        a1 += scale(b1, b) * dx * f32(idot(w[b1 / 4u + b], x0, x1));
    }
    let s = subgroupAdd(vec2<f32>(a0, a1));
    if (lid.x == 0u) { y[row] = s.x; y[row + 1u] = s.y; }
}
