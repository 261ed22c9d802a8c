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
    let _e25 = (((1i + (1i * _e19)) * 3i) * 64i);
    let _e33 = ((_e12 * 64i) + bitcast<i32>(lid.x));
    if ((_e12 < ((_e25 + 63i) / 64i)) && (_e33 < _e25)) {
        let _e37 = (_e33 / 64i);
        let _e39 = (_e37 / 3i);
        let _e43 = dims[0i];
        let _e44 = (1i * _e43);
        let _e55 = (_e37 % 3i);
        let _e60 = (_e33 % 64i);
        let _e65 = s0_[((((min(max(_e39, 0i), (_e44 - 1i)) * 3i) + _e55) * 64i) + _e60)];
        let _e78 = s1_[((((min(max((_e39 - _e44), 0i), 0i) * 3i) + _e55) * 64i) + _e60)];
        out[((((_e39 * 3i) + _e55) * 64i) + _e60)] = select(_e78, _e65, (i32((_e39 < _e44)) != 0i));
    }
    return;
}
