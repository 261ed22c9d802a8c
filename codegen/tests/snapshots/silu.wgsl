@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage, read_write> out: array<f32>;
@group(0) @binding(2) 
var<storage> dims: array<i32>;

@compute @workgroup_size(64, 1, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    let _e11 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e17 = dims[0i];
    if (_e11 < ((((1i * _e17) * 64i) + 63i) / 64i)) {
        let _e28 = ((_e11 * 64i) + bitcast<i32>(lid.x));
        let _e30 = (_e28 / 64i);
        let _e32 = (_e28 % 64i);
        let _e37 = s0_[((_e30 * 64i) + _e32)];
        out[((_e30 * 64i) + _e32)] = (_e37 / (1f + exp(-(_e37))));
    }
    return;
}
