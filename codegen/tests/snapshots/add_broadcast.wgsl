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
    let _e19 = ((_e12 * 64i) + bitcast<i32>(lid.x));
    if ((_e12 < 4i) && (_e19 < 231i)) {
        let _e24 = (_e19 / 33i);
        let _e26 = (_e19 % 33i);
        let _e31 = s0_[((_e24 * 33i) + _e26)];
        let _e33 = s1_[_e26];
        out[((_e24 * 33i) + _e26)] = (_e31 + _e33);
    }
    return;
}
