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
            let _e95 = (_e65 % 32i);
            let _e98 = (_e69 + (_e95 % 16i));
            let _e100 = (_e98 + 2i);
            let _e102 = (_e100 >> 2u);
            let _e107 = (_e102 & 1023i);
            switch (_e102 >> 10u) {
                case 0: {
                    let _e109 = s1_0_[_e107];
                    s1_element_1 = _e109;
                }
                default: {
                    let _e111 = s1_1_[_e107];
                    s1_element_1 = _e111;
                }
            }
            let _e112 = s1_element_1;
            let _e120 = ((_e95 / 16i) * 4i);
            let _e131 = acc;
            acc = (_e131 + (_e47.x * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(bitcast<i32>(extractBits(_e112, bitcast<u32>((((_e100 & 3i) * 8i) + _e120)), 4u))) - 8f))));
            let _e135 = (_e98 + 3i);
            let _e137 = (_e135 >> 2u);
            let _e142 = (_e137 & 1023i);
            switch (_e137 >> 10u) {
                case 0: {
                    let _e144 = s1_0_[_e142];
                    s1_element_2 = _e144;
                }
                default: {
                    let _e146 = s1_1_[_e142];
                    s1_element_2 = _e146;
                }
            }
            let _e147 = s1_element_2;
            let _e162 = acc;
            acc = (_e162 + (_e47.y * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(bitcast<i32>(extractBits(_e147, bitcast<u32>((((_e135 & 3i) * 8i) + _e120)), 4u))) - 8f))));
            let _e166 = (_e98 + 4i);
            let _e168 = (_e166 >> 2u);
            let _e173 = (_e168 & 1023i);
            switch (_e168 >> 10u) {
                case 0: {
                    let _e175 = s1_0_[_e173];
                    s1_element_3 = _e175;
                }
                default: {
                    let _e177 = s1_1_[_e173];
                    s1_element_3 = _e177;
                }
            }
            let _e178 = s1_element_3;
            let _e193 = acc;
            acc = (_e193 + (_e47.z * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(bitcast<i32>(extractBits(_e178, bitcast<u32>((((_e166 & 3i) * 8i) + _e120)), 4u))) - 8f))));
            let _e197 = (_e98 + 5i);
            let _e199 = (_e197 >> 2u);
            let _e204 = (_e199 & 1023i);
            switch (_e199 >> 10u) {
                case 0: {
                    let _e206 = s1_0_[_e204];
                    s1_element_4 = _e206;
                }
                default: {
                    let _e208 = s1_1_[_e204];
                    s1_element_4 = _e208;
                }
            }
            let _e209 = s1_element_4;
            let _e224 = acc;
            acc = (_e224 + (_e47.w * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(bitcast<i32>(extractBits(_e209, bitcast<u32>((((_e197 & 3i) * 8i) + _e120)), 4u))) - 8f))));
            let _e228 = (_e98 + 6i);
            let _e230 = (_e228 >> 2u);
            let _e235 = (_e230 & 1023i);
            switch (_e230 >> 10u) {
                case 0: {
                    let _e237 = s1_0_[_e235];
                    s1_element_5 = _e237;
                }
                default: {
                    let _e239 = s1_1_[_e235];
                    s1_element_5 = _e239;
                }
            }
            let _e240 = s1_element_5;
            let _e255 = acc;
            acc = (_e255 + (_e55.x * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(bitcast<i32>(extractBits(_e240, bitcast<u32>((((_e228 & 3i) * 8i) + _e120)), 4u))) - 8f))));
            let _e259 = (_e98 + 7i);
            let _e261 = (_e259 >> 2u);
            let _e266 = (_e261 & 1023i);
            switch (_e261 >> 10u) {
                case 0: {
                    let _e268 = s1_0_[_e266];
                    s1_element_6 = _e268;
                }
                default: {
                    let _e270 = s1_1_[_e266];
                    s1_element_6 = _e270;
                }
            }
            let _e271 = s1_element_6;
            let _e286 = acc;
            acc = (_e286 + (_e55.y * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(bitcast<i32>(extractBits(_e271, bitcast<u32>((((_e259 & 3i) * 8i) + _e120)), 4u))) - 8f))));
            let _e290 = (_e98 + 8i);
            let _e292 = (_e290 >> 2u);
            let _e297 = (_e292 & 1023i);
            switch (_e292 >> 10u) {
                case 0: {
                    let _e299 = s1_0_[_e297];
                    s1_element_7 = _e299;
                }
                default: {
                    let _e301 = s1_1_[_e297];
                    s1_element_7 = _e301;
                }
            }
            let _e302 = s1_element_7;
            let _e317 = acc;
            acc = (_e317 + (_e55.z * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(bitcast<i32>(extractBits(_e302, bitcast<u32>((((_e290 & 3i) * 8i) + _e120)), 4u))) - 8f))));
            let _e321 = (_e98 + 9i);
            let _e323 = (_e321 >> 2u);
            let _e328 = (_e323 & 1023i);
            switch (_e323 >> 10u) {
                case 0: {
                    let _e330 = s1_0_[_e328];
                    s1_element_8 = _e330;
                }
                default: {
                    let _e332 = s1_1_[_e328];
                    s1_element_8 = _e332;
                }
            }
            let _e333 = s1_element_8;
            let _e348 = acc;
            acc = (_e348 + (_e55.w * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(bitcast<i32>(extractBits(_e333, bitcast<u32>((((_e321 & 3i) * 8i) + _e120)), 4u))) - 8f))));
        }
        continuing {
            let _e350 = l6_;
            l6_ = (_e350 + 1i);
        }
    }
    let _e353 = acc;
    let _e354 = subgroupAdd(_e353);
    if (lane == 0u) {
        partial[subgroup] = _e354;
    }
    workgroupBarrier();
    if ((_e20 == 0i) && (_e18 < 8i)) {
        acc = 0f;
        subgroup_partial = 0i;
        loop {
            let _e366 = subgroup_partial;
            if (_e366 >= bitcast<i32>(subgroups)) {
                break;
            }
            let _e369 = partial[_e366];
            let _e370 = acc;
            acc = (_e370 + _e369);
            continuing {
                let _e372 = subgroup_partial;
                subgroup_partial = (_e372 + 1i);
            }
        }
        let _e375 = acc;
        out[(((_e18 / 8i) * 8i) + (_e18 % 8i))] = _e375;
    }
    workgroupBarrier();
    return;
}
