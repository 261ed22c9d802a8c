@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage> s1_: array<f32>;
@group(0) @binding(2) 
var<storage, read_write> out: array<f32>;
@group(0) @binding(3) 
var<storage> dims: array<i32>;
var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(8, 8, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    var acc: f32;
    var l6_: i32;

    let _e13 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e15 = bitcast<i32>(lid.x);
    let _e17 = bitcast<i32>(lid.y);
    acc = 0f;
    l6_ = 0i;
    loop {
        let _e23 = l6_;
        if (_e23 >= 8i) {
            break;
        }
        let _e28 = dims[0i];
        let _e31 = ((1i * _e28) * 32i);
        let _e39 = ((_e13 * 8i) + _e17);
        if ((_e13 < ((_e31 + 7i) / 8i)) && (_e39 < _e31)) {
            let _e46 = ((_e23 * 8i) + _e15);
            let _e51 = s0_[(((_e39 / 32i) * 64i) + _e46)];
            let _e58 = s1_[((_e46 * 32i) + (_e39 % 32i))];
            let _e60 = acc;
            acc = (_e60 + (_e51 * _e58));
        }
        continuing {
            let _e62 = l6_;
            l6_ = (_e62 + 1i);
        }
    }
    let _e65 = acc;
    partial[lidx] = _e65;
    workgroupBarrier();
    if ((_e15 < 4i) && ((_e15 + 4i) < 8i)) {
        let _e77 = partial[lidx];
        let _e78 = partial[(lidx + 4u)];
        partial[lidx] = (_e77 + _e78);
    }
    workgroupBarrier();
    if ((_e15 < 2i) && ((_e15 + 2i) < 8i)) {
        let _e90 = partial[lidx];
        let _e91 = partial[(lidx + 2u)];
        partial[lidx] = (_e90 + _e91);
    }
    workgroupBarrier();
    if ((_e15 < 1i) && ((_e15 + 1i) < 8i)) {
        let _e103 = partial[lidx];
        let _e104 = partial[(lidx + 1u)];
        partial[lidx] = (_e103 + _e104);
    }
    workgroupBarrier();
    let _e111 = dims[0i];
    let _e114 = ((1i * _e111) * 32i);
    let _e122 = ((_e13 * 8i) + _e17);
    if ((_e15 == 0i) && ((_e13 < ((_e114 + 7i) / 8i)) && (_e122 < _e114))) {
        let _e127 = partial[lidx];
        out[(((_e122 / 32i) * 32i) + (_e122 % 32i))] = _e127;
    }
    workgroupBarrier();
    return;
}
