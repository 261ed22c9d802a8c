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
    if (_e10 >= ((1i * 7i) * 33i)) {
        return;
    }
    let _e18 = (_e10 % 33i);
    let _e25 = s0_[(((_e10 / 33i) * 33i) + _e18)];
    let _e27 = s1_[_e18];
    out[_e10] = (_e25 + _e27);
    return;
}
