@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage> s1_: array<f32>;
@group(0) @binding(2) 
var<storage, read_write> out: array<f32>;
@group(0) @binding(3) 
var<storage> dims: array<i32>;
var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64, 1, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    var acc: f32;
    var l4_: i32;

    let _e13 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e15 = bitcast<i32>(lid.x);
    acc = 0f;
    l4_ = 0i;
    loop {
        let _e21 = l4_;
        if (_e21 >= 1i) {
            break;
        }
        let _e26 = dims[0i];
        if (_e13 < ((1i * _e26) * 32i)) {
            let _e40 = s0_[(((_e13 / 32i) * 64i) + ((_e21 * 64i) + _e15))];
            let _e50 = s1_[((((_e21 * 64i) + _e15) * 32i) + (_e13 % 32i))];
            let _e52 = acc;
            acc = (_e52 + (_e40 * _e50));
        }
        continuing {
            let _e54 = l4_;
            l4_ = (_e54 + 1i);
        }
    }
    let _e57 = acc;
    partial[lidx] = _e57;
    workgroupBarrier();
    if ((_e15 < 32i) && ((_e15 + 32i) < 64i)) {
        let _e69 = partial[lidx];
        let _e70 = partial[(lidx + 32u)];
        partial[lidx] = (_e69 + _e70);
    }
    workgroupBarrier();
    if ((_e15 < 16i) && ((_e15 + 16i) < 64i)) {
        let _e82 = partial[lidx];
        let _e83 = partial[(lidx + 16u)];
        partial[lidx] = (_e82 + _e83);
    }
    workgroupBarrier();
    if ((_e15 < 8i) && ((_e15 + 8i) < 64i)) {
        let _e95 = partial[lidx];
        let _e96 = partial[(lidx + 8u)];
        partial[lidx] = (_e95 + _e96);
    }
    workgroupBarrier();
    if ((_e15 < 4i) && ((_e15 + 4i) < 64i)) {
        let _e108 = partial[lidx];
        let _e109 = partial[(lidx + 4u)];
        partial[lidx] = (_e108 + _e109);
    }
    workgroupBarrier();
    if ((_e15 < 2i) && ((_e15 + 2i) < 64i)) {
        let _e121 = partial[lidx];
        let _e122 = partial[(lidx + 2u)];
        partial[lidx] = (_e121 + _e122);
    }
    workgroupBarrier();
    if ((_e15 < 1i) && ((_e15 + 1i) < 64i)) {
        let _e134 = partial[lidx];
        let _e135 = partial[(lidx + 1u)];
        partial[lidx] = (_e134 + _e135);
    }
    workgroupBarrier();
    let _e142 = dims[0i];
    if ((_e15 == 0i) && (_e13 < ((1i * _e142) * 32i))) {
        let _e149 = partial[lidx];
        out[(((_e13 / 32i) * 32i) + (_e13 % 32i))] = _e149;
    }
    workgroupBarrier();
    return;
}
