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
            let _e125 = ((_e95 / 16i) * 4i);
            let _e135 = acc;
            acc = (_e135 + (_e47.x * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e112 >> (bitcast<u32>((_e100 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(_e125)) & 15i)) - 8f))));
            let _e139 = (_e98 + 3i);
            let _e141 = (_e139 >> 2u);
            let _e146 = (_e141 & 1023i);
            switch (_e141 >> 10u) {
                case 0: {
                    let _e148 = s1_0_[_e146];
                    s1_element_2 = _e148;
                }
                default: {
                    let _e150 = s1_1_[_e146];
                    s1_element_2 = _e150;
                }
            }
            let _e151 = s1_element_2;
            let _e170 = acc;
            acc = (_e170 + (_e47.y * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e151 >> (bitcast<u32>((_e139 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(_e125)) & 15i)) - 8f))));
            let _e174 = (_e98 + 4i);
            let _e176 = (_e174 >> 2u);
            let _e181 = (_e176 & 1023i);
            switch (_e176 >> 10u) {
                case 0: {
                    let _e183 = s1_0_[_e181];
                    s1_element_3 = _e183;
                }
                default: {
                    let _e185 = s1_1_[_e181];
                    s1_element_3 = _e185;
                }
            }
            let _e186 = s1_element_3;
            let _e205 = acc;
            acc = (_e205 + (_e47.z * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e186 >> (bitcast<u32>((_e174 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(_e125)) & 15i)) - 8f))));
            let _e209 = (_e98 + 5i);
            let _e211 = (_e209 >> 2u);
            let _e216 = (_e211 & 1023i);
            switch (_e211 >> 10u) {
                case 0: {
                    let _e218 = s1_0_[_e216];
                    s1_element_4 = _e218;
                }
                default: {
                    let _e220 = s1_1_[_e216];
                    s1_element_4 = _e220;
                }
            }
            let _e221 = s1_element_4;
            let _e240 = acc;
            acc = (_e240 + (_e47.w * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e221 >> (bitcast<u32>((_e209 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(_e125)) & 15i)) - 8f))));
            let _e244 = (_e98 + 6i);
            let _e246 = (_e244 >> 2u);
            let _e251 = (_e246 & 1023i);
            switch (_e246 >> 10u) {
                case 0: {
                    let _e253 = s1_0_[_e251];
                    s1_element_5 = _e253;
                }
                default: {
                    let _e255 = s1_1_[_e251];
                    s1_element_5 = _e255;
                }
            }
            let _e256 = s1_element_5;
            let _e275 = acc;
            acc = (_e275 + (_e55.x * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e256 >> (bitcast<u32>((_e244 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(_e125)) & 15i)) - 8f))));
            let _e279 = (_e98 + 7i);
            let _e281 = (_e279 >> 2u);
            let _e286 = (_e281 & 1023i);
            switch (_e281 >> 10u) {
                case 0: {
                    let _e288 = s1_0_[_e286];
                    s1_element_6 = _e288;
                }
                default: {
                    let _e290 = s1_1_[_e286];
                    s1_element_6 = _e290;
                }
            }
            let _e291 = s1_element_6;
            let _e310 = acc;
            acc = (_e310 + (_e55.y * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e291 >> (bitcast<u32>((_e279 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(_e125)) & 15i)) - 8f))));
            let _e314 = (_e98 + 8i);
            let _e316 = (_e314 >> 2u);
            let _e321 = (_e316 & 1023i);
            switch (_e316 >> 10u) {
                case 0: {
                    let _e323 = s1_0_[_e321];
                    s1_element_7 = _e323;
                }
                default: {
                    let _e325 = s1_1_[_e321];
                    s1_element_7 = _e325;
                }
            }
            let _e326 = s1_element_7;
            let _e345 = acc;
            acc = (_e345 + (_e55.z * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e326 >> (bitcast<u32>((_e314 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(_e125)) & 15i)) - 8f))));
            let _e349 = (_e98 + 9i);
            let _e351 = (_e349 >> 2u);
            let _e356 = (_e351 & 1023i);
            switch (_e351 >> 10u) {
                case 0: {
                    let _e358 = s1_0_[_e356];
                    s1_element_8 = _e358;
                }
                default: {
                    let _e360 = s1_1_[_e356];
                    s1_element_8 = _e360;
                }
            }
            let _e361 = s1_element_8;
            let _e380 = acc;
            acc = (_e380 + (_e55.w * (unpack2x16float(((_e83 >> (bitcast<u32>((_e71 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e361 >> (bitcast<u32>((_e349 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(_e125)) & 15i)) - 8f))));
        }
        continuing {
            let _e382 = l6_;
            l6_ = (_e382 + 1i);
        }
    }
    let _e385 = acc;
    let _e386 = subgroupAdd(_e385);
    if (lane == 0u) {
        partial[subgroup] = _e386;
    }
    workgroupBarrier();
    if ((_e20 == 0i) && (_e18 < 8i)) {
        acc = 0f;
        subgroup_partial = 0i;
        loop {
            let _e398 = subgroup_partial;
            if (_e398 >= bitcast<i32>(subgroups)) {
                break;
            }
            let _e401 = partial[_e398];
            let _e402 = acc;
            acc = (_e402 + _e401);
            continuing {
                let _e404 = subgroup_partial;
                subgroup_partial = (_e404 + 1i);
            }
        }
        let _e407 = acc;
        out[(((_e18 / 8i) * 8i) + (_e18 % 8i))] = _e407;
    }
    workgroupBarrier();
    return;
}
