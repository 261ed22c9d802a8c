@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage, read_write> out: array<atomic<u32>>;
@group(0) @binding(2) 
var<storage> dims: array<i32>;

@compute @workgroup_size(64, 1, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    let _e11 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e13 = bitcast<i32>(lid.x);
    let _e17 = dims[0i];
    let _e30 = dims[0i];
    if ((_e11 < (((1i * _e17) + 63i) / 64i)) && (((_e11 * 64i) + _e13) < (1i * _e30))) {
        let _e38 = s0_[((_e11 * 64i) + _e13)];
        let _e42 = bitcast<u32>(_e38);
        let _e53 = (_e42 & 8388607u);
        let _e54 = bitcast<i32>(((_e42 >> 23u) & 255u));
        let _e56 = (_e54 - 112i);
        let _e61 = ((bitcast<u32>(_e56) << 10u) | (_e53 >> 13u));
        let _e63 = (_e53 & 8191u);
        let _e75 = (_e53 | 8388608u);
        let _e80 = bitcast<u32>(min((14i - _e56), 25i));
        let _e81 = (_e75 >> _e80);
        let _e83 = (1u << _e80);
        let _e85 = (_e75 & (_e83 - 1u));
        let _e86 = (_e83 >> 1u);
        let _e113 = (((_e11 * 64i) + _e13) * 2i);
        let _e120 = (bitcast<u32>((_e113 & 3i)) * 8u);
        atomicAnd((&out[(_e113 >> 2u)]), ~((65535u << _e120)));
        atomicOr((&out[(_e113 >> 2u)]), (((((_e42 >> 16u) & 32768u) | select(select(select((_e81 + u32(((_e85 > _e86) || ((_e85 == _e86) && ((_e81 & 1u) == 1u))))), (_e61 + u32(((_e63 > 4096u) || ((_e63 == 4096u) && ((_e61 & 1u) == 1u))))), (_e56 >= 1i)), 31744u, (_e56 >= 31i)), (31744u | select(0u, 512u, (_e53 != 0u))), (_e54 == 255i))) & 65535u) << _e120));
    }
    return;
}
