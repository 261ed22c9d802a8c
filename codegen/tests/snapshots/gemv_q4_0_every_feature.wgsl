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
@group(0) @binding(5) 
var<storage> s0_vectors: array<vec4<f32>>;
var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64, 1, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lidx: u32, @builtin(subgroup_id) subgroup: u32, @builtin(subgroup_invocation_id) lane: u32, @builtin(num_subgroups) subgroups: u32) {
    var acc: f32;
    var l6_: i32;
    var s1_element: u32;
    var s1_element_1: u32;
    var subgroup_partial: i32;

    let _e18 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e20 = bitcast<i32>(lid.x);
    acc = 0f;
    l6_ = 0i;
    loop {
        let _e26 = l6_;
        if (_e26 >= 2i) {
            break;
        }
        if (_e18 < 8i) {
            let _e37 = (((_e26 * 64i) + _e20) * 8i);
            let _e43 = ((((_e18 / 8i) * 1024i) + (_e37 + 0i)) / 4i);
            let _e47 = s0_vectors[(_e43 + 0i)];
            let _e55 = s0_vectors[(_e43 + 1i)];
            let _e65 = (((_e18 % 8i) * 1024i) + _e37);
            let _e69 = ((_e65 / 1024i) * 576i);
            let _e71 = (_e65 % 1024i);
            let _e73 = (_e71 / 32i);
            let _e80 = (((_e69 + (_e73 * 2i)) + 512i) >> 1u);
            let _e82 = (_e80 >> 1u);
            let _e87 = (_e82 & 1023i);
            switch (_e82 >> 10u) {
                case 0: {
                    let _e89 = s1_0_[_e87];
                    s1_element = _e89;
                }
                default: {
                    let _e91 = s1_1_[_e87];
                    s1_element = _e91;
                }
            }
            let _e92 = s1_element;
            let _e116 = ((((_e69 + (_e73 * 16i)) + (((_e71 % 32i) / 8i) * 4i)) / 4i) + 0i);
            let _e121 = (_e116 & 1023i);
            switch (_e116 >> 10u) {
                case 0: {
                    let _e123 = s1_0_[_e121];
                    s1_element_1 = _e123;
                }
                default: {
                    let _e125 = s1_1_[_e121];
                    s1_element_1 = _e125;
                }
            }
            let _e126 = s1_element_1;
            let _e131 = bitcast<i32>(((_e126 >> 0u) & 255u));
            let _e144 = acc;
            acc = (_e144 + (_e47.x * (unpack2x16float(((_e92 >> (bitcast<u32>((_e80 & 1i)) * 16u)) & 65535u)).x * (bitcast<f32>((((_e131 >> bitcast<u32>(0i)) & 15i) + 1262485504i)) - 12582920f))));
            let _e159 = acc;
            acc = (_e159 + (_e47.y * (unpack2x16float(((_e92 >> (bitcast<u32>((_e80 & 1i)) * 16u)) & 65535u)).x * (bitcast<f32>((((_e131 >> bitcast<u32>(4i)) & 15i) + 1262485504i)) - 12582920f))));
            let _e166 = bitcast<i32>(((_e126 >> 8u) & 255u));
            let _e179 = acc;
            acc = (_e179 + (_e47.z * (unpack2x16float(((_e92 >> (bitcast<u32>((_e80 & 1i)) * 16u)) & 65535u)).x * (bitcast<f32>((((_e166 >> bitcast<u32>(0i)) & 15i) + 1262485504i)) - 12582920f))));
            let _e194 = acc;
            acc = (_e194 + (_e47.w * (unpack2x16float(((_e92 >> (bitcast<u32>((_e80 & 1i)) * 16u)) & 65535u)).x * (bitcast<f32>((((_e166 >> bitcast<u32>(4i)) & 15i) + 1262485504i)) - 12582920f))));
            let _e201 = bitcast<i32>(((_e126 >> 16u) & 255u));
            let _e214 = acc;
            acc = (_e214 + (_e55.x * (unpack2x16float(((_e92 >> (bitcast<u32>((_e80 & 1i)) * 16u)) & 65535u)).x * (bitcast<f32>((((_e201 >> bitcast<u32>(0i)) & 15i) + 1262485504i)) - 12582920f))));
            let _e229 = acc;
            acc = (_e229 + (_e55.y * (unpack2x16float(((_e92 >> (bitcast<u32>((_e80 & 1i)) * 16u)) & 65535u)).x * (bitcast<f32>((((_e201 >> bitcast<u32>(4i)) & 15i) + 1262485504i)) - 12582920f))));
            let _e236 = bitcast<i32>(((_e126 >> 24u) & 255u));
            let _e249 = acc;
            acc = (_e249 + (_e55.z * (unpack2x16float(((_e92 >> (bitcast<u32>((_e80 & 1i)) * 16u)) & 65535u)).x * (bitcast<f32>((((_e236 >> bitcast<u32>(0i)) & 15i) + 1262485504i)) - 12582920f))));
            let _e264 = acc;
            acc = (_e264 + (_e55.w * (unpack2x16float(((_e92 >> (bitcast<u32>((_e80 & 1i)) * 16u)) & 65535u)).x * (bitcast<f32>((((_e236 >> bitcast<u32>(4i)) & 15i) + 1262485504i)) - 12582920f))));
        }
        continuing {
            let _e266 = l6_;
            l6_ = (_e266 + 1i);
        }
    }
    let _e269 = acc;
    let _e270 = subgroupAdd(_e269);
    if (lane == 0u) {
        partial[subgroup] = _e270;
    }
    workgroupBarrier();
    if ((_e20 == 0i) && (_e18 < 8i)) {
        acc = 0f;
        subgroup_partial = 0i;
        loop {
            let _e282 = subgroup_partial;
            if (_e282 >= bitcast<i32>(subgroups)) {
                break;
            }
            let _e285 = partial[_e282];
            let _e286 = acc;
            acc = (_e286 + _e285);
            continuing {
                let _e288 = subgroup_partial;
                subgroup_partial = (_e288 + 1i);
            }
        }
        let _e291 = acc;
        out[(((_e18 / 8i) * 8i) + (_e18 % 8i))] = _e291;
    }
    workgroupBarrier();
    return;
}
