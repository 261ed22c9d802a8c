enable f16;

@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage> s1_0_: array<u32>;
@group(0) @binding(2) 
var<storage> s1_1_: array<u32>;
@group(0) @binding(3) 
var<storage, read_write> out: array<f32>;
@group(0) @binding(4) 
var<storage> dims: array<i32>;
var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64, 1, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lidx: u32, @builtin(subgroup_id) subgroup: u32, @builtin(subgroup_invocation_id) lane: u32, @builtin(num_subgroups) subgroups: u32) {
    var acc: f32;
    var l4_: i32;
    var s1_element: u32;
    var s1_element_1: u32;
    var subgroup_partial: i32;

    let _e17 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e19 = bitcast<i32>(lid.x);
    acc = 0f;
    l4_ = 0i;
    loop {
        let _e25 = l4_;
        if (_e25 >= 16i) {
            break;
        }
        if (_e17 < 8i) {
            let _e33 = ((_e25 * 64i) + _e19);
            let _e38 = s0_[(((_e17 / 8i) * 1024i) + _e33)];
            let _e43 = (((_e17 % 8i) * 1024i) + _e33);
            let _e47 = ((_e43 / 32i) * 18i);
            let _e49 = (_e47 >> 1u);
            let _e51 = (_e49 >> 1u);
            let _e56 = (_e51 & 1023i);
            switch (_e51 >> 10u) {
                case 0: {
                    let _e58 = s1_0_[_e56];
                    s1_element = _e58;
                }
                default: {
                    let _e60 = s1_1_[_e56];
                    s1_element = _e60;
                }
            }
            let _e61 = s1_element;
            let _e74 = (_e43 % 32i);
            let _e78 = (_e47 + (2i + (_e74 % 16i)));
            let _e80 = (_e78 >> 2u);
            let _e85 = (_e80 & 1023i);
            switch (_e80 >> 10u) {
                case 0: {
                    let _e87 = s1_0_[_e85];
                    s1_element_1 = _e87;
                }
                default: {
                    let _e89 = s1_1_[_e85];
                    s1_element_1 = _e89;
                }
            }
            let _e90 = s1_element_1;
            let _e113 = acc;
            acc = (_e113 + (_e38 * (unpack2x16float(((_e61 >> (bitcast<u32>((_e49 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e90 >> (bitcast<u32>((_e78 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(((_e74 / 16i) * 4i))) & 15i)) - 8f))));
        }
        continuing {
            let _e115 = l4_;
            l4_ = (_e115 + 1i);
        }
    }
    let _e118 = acc;
    let _e119 = subgroupAdd(_e118);
    if (lane == 0u) {
        partial[subgroup] = _e119;
    }
    workgroupBarrier();
    if ((_e19 == 0i) && (_e17 < 8i)) {
        acc = 0f;
        subgroup_partial = 0i;
        loop {
            let _e131 = subgroup_partial;
            if (_e131 >= bitcast<i32>(subgroups)) {
                break;
            }
            let _e134 = partial[_e131];
            let _e135 = acc;
            acc = (_e135 + _e134);
            continuing {
                let _e137 = subgroup_partial;
                subgroup_partial = (_e137 + 1i);
            }
        }
        let _e140 = acc;
        out[(((_e17 / 8i) * 8i) + (_e17 % 8i))] = _e140;
    }
    workgroupBarrier();
    return;
}
