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
    var s1_element_2: u32;
    var s1_element_3: u32;
    var s1_element_4: u32;
    var s1_element_5: u32;
    var s1_element_6: u32;
    var s1_element_7: u32;
    var s1_element_8: u32;
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
            let _e69 = ((_e65 / 32i) * 18i);
            let _e71 = (_e69 >> 1u);
            let _e73 = (_e71 >> 1u);
            let _e78 = (_e73 & 1023i);
            switch (_e73 >> 10u) {
                case 0: {
                    let _e80 = s1_0_[_e78];
                    s1_element = _e80;
                }
                default: {
                    let _e82 = s1_1_[_e78];
                    s1_element = _e82;
                }
            }
            let _e83 = s1_element;
            let _e96 = (_e65 % 32i);
            let _e98 = (_e96 % 16i);
            let _e102 = (_e69 + (2i + (_e98 + 0i)));
            let _e104 = (_e102 >> 2u);
            let _e109 = (_e104 & 1023i);
            switch (_e104 >> 10u) {
                case 0: {
                    let _e111 = s1_0_[_e109];
                    s1_element_1 = _e111;
                }
                default: {
                    let _e113 = s1_1_[_e109];
                    s1_element_1 = _e113;
                }
            }
            let _e114 = s1_element_1;
            let _e127 = ((_e96 / 16i) * 4i);
            let _e137 = acc;
            acc = (_e137 + (_e47.x * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e114 >> (bitcast<u32>((_e102 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(_e127)) & 15i)) - 8f))));
            let _e144 = (_e69 + (2i + (_e98 + 1i)));
            let _e146 = (_e144 >> 2u);
            let _e151 = (_e146 & 1023i);
            switch (_e146 >> 10u) {
                case 0: {
                    let _e153 = s1_0_[_e151];
                    s1_element_2 = _e153;
                }
                default: {
                    let _e155 = s1_1_[_e151];
                    s1_element_2 = _e155;
                }
            }
            let _e156 = s1_element_2;
            let _e175 = acc;
            acc = (_e175 + (_e47.y * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e156 >> (bitcast<u32>((_e144 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(_e127)) & 15i)) - 8f))));
            let _e182 = (_e69 + (2i + (_e98 + 2i)));
            let _e184 = (_e182 >> 2u);
            let _e189 = (_e184 & 1023i);
            switch (_e184 >> 10u) {
                case 0: {
                    let _e191 = s1_0_[_e189];
                    s1_element_3 = _e191;
                }
                default: {
                    let _e193 = s1_1_[_e189];
                    s1_element_3 = _e193;
                }
            }
            let _e194 = s1_element_3;
            let _e213 = acc;
            acc = (_e213 + (_e47.z * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e194 >> (bitcast<u32>((_e182 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(_e127)) & 15i)) - 8f))));
            let _e220 = (_e69 + (2i + (_e98 + 3i)));
            let _e222 = (_e220 >> 2u);
            let _e227 = (_e222 & 1023i);
            switch (_e222 >> 10u) {
                case 0: {
                    let _e229 = s1_0_[_e227];
                    s1_element_4 = _e229;
                }
                default: {
                    let _e231 = s1_1_[_e227];
                    s1_element_4 = _e231;
                }
            }
            let _e232 = s1_element_4;
            let _e251 = acc;
            acc = (_e251 + (_e47.w * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e232 >> (bitcast<u32>((_e220 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(_e127)) & 15i)) - 8f))));
            let _e258 = (_e69 + (2i + (_e98 + 4i)));
            let _e260 = (_e258 >> 2u);
            let _e265 = (_e260 & 1023i);
            switch (_e260 >> 10u) {
                case 0: {
                    let _e267 = s1_0_[_e265];
                    s1_element_5 = _e267;
                }
                default: {
                    let _e269 = s1_1_[_e265];
                    s1_element_5 = _e269;
                }
            }
            let _e270 = s1_element_5;
            let _e289 = acc;
            acc = (_e289 + (_e55.x * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e270 >> (bitcast<u32>((_e258 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(_e127)) & 15i)) - 8f))));
            let _e296 = (_e69 + (2i + (_e98 + 5i)));
            let _e298 = (_e296 >> 2u);
            let _e303 = (_e298 & 1023i);
            switch (_e298 >> 10u) {
                case 0: {
                    let _e305 = s1_0_[_e303];
                    s1_element_6 = _e305;
                }
                default: {
                    let _e307 = s1_1_[_e303];
                    s1_element_6 = _e307;
                }
            }
            let _e308 = s1_element_6;
            let _e327 = acc;
            acc = (_e327 + (_e55.y * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e308 >> (bitcast<u32>((_e296 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(_e127)) & 15i)) - 8f))));
            let _e334 = (_e69 + (2i + (_e98 + 6i)));
            let _e336 = (_e334 >> 2u);
            let _e341 = (_e336 & 1023i);
            switch (_e336 >> 10u) {
                case 0: {
                    let _e343 = s1_0_[_e341];
                    s1_element_7 = _e343;
                }
                default: {
                    let _e345 = s1_1_[_e341];
                    s1_element_7 = _e345;
                }
            }
            let _e346 = s1_element_7;
            let _e365 = acc;
            acc = (_e365 + (_e55.z * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e346 >> (bitcast<u32>((_e334 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(_e127)) & 15i)) - 8f))));
            let _e372 = (_e69 + (2i + (_e98 + 7i)));
            let _e374 = (_e372 >> 2u);
            let _e379 = (_e374 & 1023i);
            switch (_e374 >> 10u) {
                case 0: {
                    let _e381 = s1_0_[_e379];
                    s1_element_8 = _e381;
                }
                default: {
                    let _e383 = s1_1_[_e379];
                    s1_element_8 = _e383;
                }
            }
            let _e384 = s1_element_8;
            let _e403 = acc;
            acc = (_e403 + (_e55.w * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e384 >> (bitcast<u32>((_e372 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(_e127)) & 15i)) - 8f))));
        }
        continuing {
            let _e405 = l6_;
            l6_ = (_e405 + 1i);
        }
    }
    let _e408 = acc;
    let _e409 = subgroupAdd(_e408);
    if (lane == 0u) {
        partial[subgroup] = _e409;
    }
    workgroupBarrier();
    if ((_e20 == 0i) && (_e18 < 8i)) {
        acc = 0f;
        subgroup_partial = 0i;
        loop {
            let _e421 = subgroup_partial;
            if (_e421 >= bitcast<i32>(subgroups)) {
                break;
            }
            let _e424 = partial[_e421];
            let _e425 = acc;
            acc = (_e425 + _e424);
            continuing {
                let _e427 = subgroup_partial;
                subgroup_partial = (_e427 + 1i);
            }
        }
        let _e430 = acc;
        out[(((_e18 / 8i) * 8i) + (_e18 % 8i))] = _e430;
    }
    workgroupBarrier();
    return;
}
