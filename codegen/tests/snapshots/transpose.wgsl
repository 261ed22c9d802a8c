@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage, read_write> out: array<f32>;
@group(0) @binding(2) 
var<storage> dims: array<i32>;

@compute @workgroup_size(64, 1, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    let _e11 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e13 = bitcast<i32>(lid.x);
    if ((_e11 < 2i) && (((_e11 * 64i) + _e13) < 120i)) {
        let _e48 = s0_[((((((((_e11 * 64i) + _e13) / 6i) % 4i) * 6i) + (((_e11 * 64i) + _e13) % 6i)) * 5i) + ((((_e11 * 64i) + _e13) / 6i) / 4i))];
        out[((((((((_e11 * 64i) + _e13) / 6i) / 4i) * 4i) + ((((_e11 * 64i) + _e13) / 6i) % 4i)) * 6i) + (((_e11 * 64i) + _e13) % 6i))] = _e48;
    }
    return;
}
