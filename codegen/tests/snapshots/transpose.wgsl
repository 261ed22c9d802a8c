@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage, read_write> out: array<f32>;
@group(0) @binding(2) 
var<storage> dims: array<i32>;

@compute @workgroup_size(64, 1, 1) 
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let _e9 = i32((gid.x + (gid.y * 2097152u)));
    if (_e9 >= (((1i * 5i) * 4i) * 6i)) {
        return;
    }
    let _e20 = (_e9 / 6i);
    let _e32 = s0_[(((((_e20 % 4i) * 6i) + (_e9 % 6i)) * 5i) + (_e20 / 4i))];
    out[_e9] = _e32;
    return;
}
