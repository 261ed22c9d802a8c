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
    let _e14 = bitcast<i32>(lid.x);
    let _e19 = dims[0i];
    let _e38 = dims[0i];
    if ((_e12 < (((((1i + (1i * _e19)) * 3i) * 64i) + 63i) / 64i)) && (((_e12 * 64i) + _e14) < (((1i + (1i * _e38)) * 3i) * 64i))) {
        let _e57 = dims[0i];
        let _e75 = dims[0i];
        let _e99 = s0_[((((min(max(((((_e12 * 64i) + _e14) / 64i) / 3i), 0i), ((1i * _e75) - 1i)) * 3i) + ((((_e12 * 64i) + _e14) / 64i) % 3i)) * 64i) + (((_e12 * 64i) + _e14) % 64i))];
        let _e110 = dims[0i];
        let _e136 = s1_[((((min(max((((((_e12 * 64i) + _e14) / 64i) / 3i) - (1i * _e110)), 0i), 0i) * 3i) + ((((_e12 * 64i) + _e14) / 64i) % 3i)) * 64i) + (((_e12 * 64i) + _e14) % 64i))];
        out[((((((((_e12 * 64i) + _e14) / 64i) / 3i) * 3i) + ((((_e12 * 64i) + _e14) / 64i) % 3i)) * 64i) + (((_e12 * 64i) + _e14) % 64i))] = select(_e136, _e99, (i32((((((_e12 * 64i) + _e14) / 64i) / 3i) < (1i * _e57))) != 0i));
    }
    return;
}
