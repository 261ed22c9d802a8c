@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage, read_write> out: array<f32>;
@group(0) @binding(2) 
var<storage> dims: array<i32>;

@compute @workgroup_size(64, 1, 1) 
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let _e9 = i32((gid.x + (gid.y * 2097152u)));
    let _e14 = dims[0i];
    if (_e9 >= ((1i * (1i * _e14)) * 64i)) {
        return;
    }
    let _e21 = (_e9 % 64i);
    let _e22 = (_e9 / 64i);
    let _e26 = dims[0i];
    let _e32 = s0_[((_e22 * 64i) + _e21)];
    let _e38 = s0_[((_e22 * 64i) + _e21)];
    out[_e9] = (_e32 / (1f + exp(-(_e38))));
    return;
}
