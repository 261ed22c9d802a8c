@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage> s1_: array<f32>;
@group(0) @binding(2) 
var<storage, read_write> out: array<f32>;
@group(0) @binding(3) 
var<storage> dims: array<i32>;

@compute @workgroup_size(64, 1, 1) 
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let _e10 = i32((gid.x + (gid.y * 2097152u)));
    let _e16 = dims[0i];
    if (_e10 >= (((1i * (1i + (1i * _e16))) * 3i) * 64i)) {
        return;
    }
    let _e26 = (_e10 % 64i);
    let _e27 = (_e10 / 64i);
    let _e29 = (_e27 % 3i);
    let _e30 = (_e27 / 3i);
    let _e35 = dims[0i];
    let _e41 = dims[0i];
    let _e54 = dims[0i];
    let _e66 = s0_[((((min(max((_e30 - 0i), 0i), ((1i * _e54) - 1i)) * 3i) + _e29) * 64i) + _e26)];
    let _e70 = dims[0i];
    let _e86 = s1_[((((min(max((_e30 - (1i * _e70)), 0i), (1i - 1i)) * 3i) + _e29) * 64i) + _e26)];
    out[_e10] = select(_e86, _e66, (i32((_e30 < (1i * _e41))) != 0i));
    return;
}
