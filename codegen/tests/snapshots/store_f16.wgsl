@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage, read_write> out: array<atomic<u32>>;
@group(0) @binding(2) 
var<storage> dims: array<i32>;

@compute @workgroup_size(64, 1, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    let _e11 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e17 = dims[0i];
    let _e18 = (1i * _e17);
    let _e26 = ((_e11 * 64i) + bitcast<i32>(lid.x));
    if ((_e11 < ((_e18 + 63i) / 64i)) && (_e26 < _e18)) {
        let _e30 = s0_[_e26];
        let _e31 = bitcast<u32>(_e30);
        let _e42 = (_e31 & 8388607u);
        let _e43 = bitcast<i32>(((_e31 >> 23u) & 255u));
        let _e45 = (_e43 - 112i);
        let _e50 = ((bitcast<u32>(_e45) << 10u) | (_e42 >> 13u));
        let _e52 = (_e42 & 8191u);
        let _e64 = (_e42 | 8388608u);
        let _e69 = bitcast<u32>(min((14i - _e45), 25i));
        let _e70 = (_e64 >> _e69);
        let _e72 = (1u << _e69);
        let _e74 = (_e64 & (_e72 - 1u));
        let _e75 = (_e72 >> 1u);
        let _e102 = (_e26 * 2i);
        let _e109 = (bitcast<u32>((_e102 & 3i)) * 8u);
        atomicAnd((&out[(_e102 >> 2u)]), ~((65535u << _e109)));
        atomicOr((&out[(_e102 >> 2u)]), (((((_e31 >> 16u) & 32768u) | select(select(select((_e70 + u32(((_e74 > _e75) || ((_e74 == _e75) && ((_e70 & 1u) == 1u))))), (_e50 + u32(((_e52 > 4096u) || ((_e52 == 4096u) && ((_e50 & 1u) == 1u))))), (_e45 >= 1i)), 31744u, (_e45 >= 31i)), (31744u | select(0u, 512u, (_e42 != 0u))), (_e43 == 255i))) & 65535u) << _e109));
    }
    return;
}
