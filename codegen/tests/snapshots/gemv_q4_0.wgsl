@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage> s1_: array<u32>;
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
        if (_e13 < 4i) {
            let _e29 = ((_e13 * 8i) + _e17);
            let _e34 = ((_e23 * 8i) + _e15);
            let _e39 = s0_[(((_e29 / 32i) * 64i) + _e34)];
            let _e44 = (((_e29 % 32i) * 64i) + _e34);
            let _e48 = ((_e44 / 32i) * 18i);
            let _e50 = (_e48 >> 1u);
            let _e54 = s1_[(_e50 >> 1u)];
            let _e62 = ((_e54 >> (bitcast<u32>((_e50 & 1i)) * 16u)) & 65535u);
            let _e71 = ((_e62 & 32768u) << 16u);
            let _e73 = ((_e62 >> 10u) & 31u);
            let _e74 = (_e62 & 1023u);
            let _e75 = (_e74 << 13u);
            let _e89 = (f32(_e74) * 0.000000059604645f);
            let _e98 = (_e44 % 32i);
            let _e102 = (_e48 + (2i + (_e98 % 16i)));
            let _e106 = s1_[(_e102 >> 2u)];
            let _e129 = acc;
            acc = (_e129 + (_e39 * (select(bitcast<f32>(select(((_e71 | ((_e73 + 112u) << 23u)) | _e75), ((_e71 | 2139095040u) | _e75), (_e73 == 31u))), select(_e89, -(_e89), (_e71 != 0u)), (_e73 == 0u)) * (f32(((bitcast<i32>(((_e106 >> (bitcast<u32>((_e102 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(((_e98 / 16i) * 4i))) & 15i)) - 8f))));
        }
        continuing {
            let _e131 = l6_;
            l6_ = (_e131 + 1i);
        }
    }
    let _e134 = acc;
    partial[lidx] = _e134;
    workgroupBarrier();
    if ((_e15 < 4i) && ((_e15 + 4i) < 8i)) {
        let _e146 = partial[lidx];
        let _e147 = partial[(lidx + 4u)];
        partial[lidx] = (_e146 + _e147);
    }
    workgroupBarrier();
    if ((_e15 < 2i) && ((_e15 + 2i) < 8i)) {
        let _e159 = partial[lidx];
        let _e160 = partial[(lidx + 2u)];
        partial[lidx] = (_e159 + _e160);
    }
    workgroupBarrier();
    if ((_e15 < 1i) && ((_e15 + 1i) < 8i)) {
        let _e172 = partial[lidx];
        let _e173 = partial[(lidx + 1u)];
        partial[lidx] = (_e172 + _e173);
    }
    workgroupBarrier();
    if ((_e15 == 0i) && (_e13 < 4i)) {
        let _e181 = partial[lidx];
        let _e184 = ((_e13 * 8i) + _e17);
        out[(((_e184 / 32i) * 32i) + (_e184 % 32i))] = _e181;
    }
    workgroupBarrier();
    return;
}
