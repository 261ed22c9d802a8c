@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage> s1_: array<f32>;
@group(0) @binding(2) 
var<storage, read_write> out: array<f32>;
@group(0) @binding(3) 
var<storage> dims: array<i32>;

@compute @workgroup_size(64, 1, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    let _e12 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e19 = dims[0i];
    if (_e12 < (((((1i + (1i * _e19)) * 3i) * 64i) + 63i) / 64i)) {
        let _e33 = ((_e12 * 64i) + bitcast<i32>(lid.x));
        let _e35 = (_e33 / 64i);
        let _e37 = (_e35 / 3i);
        let _e41 = dims[0i];
        let _e42 = (1i * _e41);
        let _e53 = (_e35 % 3i);
        let _e58 = (_e33 % 64i);
        let _e63 = s0_[((((min(max(_e37, 0i), (_e42 - 1i)) * 3i) + _e53) * 64i) + _e58)];
        let _e76 = s1_[((((min(max((_e37 - _e42), 0i), 0i) * 3i) + _e53) * 64i) + _e58)];
        out[((((_e37 * 3i) + _e53) * 64i) + _e58)] = select(_e76, _e63, (i32((_e37 < _e42)) != 0i));
    }
    return;
}
