@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage, read_write> out: array<f32>;
@group(0) @binding(2) 
var<storage> dims: array<i32>;

@compute @workgroup_size(64, 1, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    let _e11 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e18 = ((_e11 * 64i) + bitcast<i32>(lid.x));
    if ((_e11 < 2i) && (_e18 < 120i)) {
        let _e23 = (_e18 / 6i);
        let _e25 = (_e23 % 4i);
        let _e27 = (_e18 % 6i);
        let _e32 = (_e23 / 4i);
        let _e37 = s0_[((((_e25 * 6i) + _e27) * 5i) + _e32)];
        out[((((_e32 * 4i) + _e25) * 6i) + _e27)] = _e37;
    }
    return;
}
