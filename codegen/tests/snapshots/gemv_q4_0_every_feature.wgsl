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
    var s1_element_9: u32;
    var s1_element_10: u32;
    var s1_element_11: u32;
    var s1_element_12: u32;
    var s1_element_13: u32;
    var s1_element_14: u32;
    var s1_element_15: u32;
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
            let _e64 = ((_e18 % 8i) * 1024i);
            let _e66 = (_e64 + (_e37 + 0i));
            let _e70 = ((_e66 / 32i) * 18i);
            let _e72 = (_e70 >> 1u);
            let _e74 = (_e72 >> 1u);
            let _e79 = (_e74 & 1023i);
            switch (_e74 >> 10u) {
                case 0: {
                    let _e81 = s1_0_[_e79];
                    s1_element = _e81;
                }
                default: {
                    let _e83 = s1_1_[_e79];
                    s1_element = _e83;
                }
            }
            let _e84 = s1_element;
            let _e97 = (_e66 % 32i);
            let _e101 = (_e70 + (2i + (_e97 % 16i)));
            let _e103 = (_e101 >> 2u);
            let _e108 = (_e103 & 1023i);
            switch (_e103 >> 10u) {
                case 0: {
                    let _e110 = s1_0_[_e108];
                    s1_element_1 = _e110;
                }
                default: {
                    let _e112 = s1_1_[_e108];
                    s1_element_1 = _e112;
                }
            }
            let _e113 = s1_element_1;
            let _e136 = acc;
            acc = (_e136 + (_e47.x * (unpack2x16float(((_e84 >> (bitcast<u32>((_e72 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e113 >> (bitcast<u32>((_e101 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(((_e97 / 16i) * 4i))) & 15i)) - 8f))));
            let _e140 = (_e64 + (_e37 + 1i));
            let _e144 = ((_e140 / 32i) * 18i);
            let _e146 = (_e144 >> 1u);
            let _e148 = (_e146 >> 1u);
            let _e153 = (_e148 & 1023i);
            switch (_e148 >> 10u) {
                case 0: {
                    let _e155 = s1_0_[_e153];
                    s1_element_2 = _e155;
                }
                default: {
                    let _e157 = s1_1_[_e153];
                    s1_element_2 = _e157;
                }
            }
            let _e158 = s1_element_2;
            let _e171 = (_e140 % 32i);
            let _e175 = (_e144 + (2i + (_e171 % 16i)));
            let _e177 = (_e175 >> 2u);
            let _e182 = (_e177 & 1023i);
            switch (_e177 >> 10u) {
                case 0: {
                    let _e184 = s1_0_[_e182];
                    s1_element_3 = _e184;
                }
                default: {
                    let _e186 = s1_1_[_e182];
                    s1_element_3 = _e186;
                }
            }
            let _e187 = s1_element_3;
            let _e210 = acc;
            acc = (_e210 + (_e47.y * (unpack2x16float(((_e158 >> (bitcast<u32>((_e146 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e187 >> (bitcast<u32>((_e175 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(((_e171 / 16i) * 4i))) & 15i)) - 8f))));
            let _e214 = (_e64 + (_e37 + 2i));
            let _e218 = ((_e214 / 32i) * 18i);
            let _e220 = (_e218 >> 1u);
            let _e222 = (_e220 >> 1u);
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
            let _e245 = (_e214 % 32i);
            let _e249 = (_e218 + (2i + (_e245 % 16i)));
            let _e251 = (_e249 >> 2u);
            let _e256 = (_e251 & 1023i);
            switch (_e251 >> 10u) {
                case 0: {
                    let _e258 = s1_0_[_e256];
                    s1_element_5 = _e258;
                }
                default: {
                    let _e260 = s1_1_[_e256];
                    s1_element_5 = _e260;
                }
            }
            let _e261 = s1_element_5;
            let _e284 = acc;
            acc = (_e284 + (_e47.z * (unpack2x16float(((_e232 >> (bitcast<u32>((_e220 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e261 >> (bitcast<u32>((_e249 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(((_e245 / 16i) * 4i))) & 15i)) - 8f))));
            let _e288 = (_e64 + (_e37 + 3i));
            let _e292 = ((_e288 / 32i) * 18i);
            let _e294 = (_e292 >> 1u);
            let _e296 = (_e294 >> 1u);
            let _e301 = (_e296 & 1023i);
            switch (_e296 >> 10u) {
                case 0: {
                    let _e303 = s1_0_[_e301];
                    s1_element_6 = _e303;
                }
                default: {
                    let _e305 = s1_1_[_e301];
                    s1_element_6 = _e305;
                }
            }
            let _e306 = s1_element_6;
            let _e319 = (_e288 % 32i);
            let _e323 = (_e292 + (2i + (_e319 % 16i)));
            let _e325 = (_e323 >> 2u);
            let _e330 = (_e325 & 1023i);
            switch (_e325 >> 10u) {
                case 0: {
                    let _e332 = s1_0_[_e330];
                    s1_element_7 = _e332;
                }
                default: {
                    let _e334 = s1_1_[_e330];
                    s1_element_7 = _e334;
                }
            }
            let _e335 = s1_element_7;
            let _e358 = acc;
            acc = (_e358 + (_e47.w * (unpack2x16float(((_e306 >> (bitcast<u32>((_e294 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e335 >> (bitcast<u32>((_e323 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(((_e319 / 16i) * 4i))) & 15i)) - 8f))));
            let _e362 = (_e64 + (_e37 + 4i));
            let _e366 = ((_e362 / 32i) * 18i);
            let _e368 = (_e366 >> 1u);
            let _e370 = (_e368 >> 1u);
            let _e375 = (_e370 & 1023i);
            switch (_e370 >> 10u) {
                case 0: {
                    let _e377 = s1_0_[_e375];
                    s1_element_8 = _e377;
                }
                default: {
                    let _e379 = s1_1_[_e375];
                    s1_element_8 = _e379;
                }
            }
            let _e380 = s1_element_8;
            let _e393 = (_e362 % 32i);
            let _e397 = (_e366 + (2i + (_e393 % 16i)));
            let _e399 = (_e397 >> 2u);
            let _e404 = (_e399 & 1023i);
            switch (_e399 >> 10u) {
                case 0: {
                    let _e406 = s1_0_[_e404];
                    s1_element_9 = _e406;
                }
                default: {
                    let _e408 = s1_1_[_e404];
                    s1_element_9 = _e408;
                }
            }
            let _e409 = s1_element_9;
            let _e432 = acc;
            acc = (_e432 + (_e55.x * (unpack2x16float(((_e380 >> (bitcast<u32>((_e368 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e409 >> (bitcast<u32>((_e397 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(((_e393 / 16i) * 4i))) & 15i)) - 8f))));
            let _e436 = (_e64 + (_e37 + 5i));
            let _e440 = ((_e436 / 32i) * 18i);
            let _e442 = (_e440 >> 1u);
            let _e444 = (_e442 >> 1u);
            let _e449 = (_e444 & 1023i);
            switch (_e444 >> 10u) {
                case 0: {
                    let _e451 = s1_0_[_e449];
                    s1_element_10 = _e451;
                }
                default: {
                    let _e453 = s1_1_[_e449];
                    s1_element_10 = _e453;
                }
            }
            let _e454 = s1_element_10;
            let _e467 = (_e436 % 32i);
            let _e471 = (_e440 + (2i + (_e467 % 16i)));
            let _e473 = (_e471 >> 2u);
            let _e478 = (_e473 & 1023i);
            switch (_e473 >> 10u) {
                case 0: {
                    let _e480 = s1_0_[_e478];
                    s1_element_11 = _e480;
                }
                default: {
                    let _e482 = s1_1_[_e478];
                    s1_element_11 = _e482;
                }
            }
            let _e483 = s1_element_11;
            let _e506 = acc;
            acc = (_e506 + (_e55.y * (unpack2x16float(((_e454 >> (bitcast<u32>((_e442 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e483 >> (bitcast<u32>((_e471 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(((_e467 / 16i) * 4i))) & 15i)) - 8f))));
            let _e510 = (_e64 + (_e37 + 6i));
            let _e514 = ((_e510 / 32i) * 18i);
            let _e516 = (_e514 >> 1u);
            let _e518 = (_e516 >> 1u);
            let _e523 = (_e518 & 1023i);
            switch (_e518 >> 10u) {
                case 0: {
                    let _e525 = s1_0_[_e523];
                    s1_element_12 = _e525;
                }
                default: {
                    let _e527 = s1_1_[_e523];
                    s1_element_12 = _e527;
                }
            }
            let _e528 = s1_element_12;
            let _e541 = (_e510 % 32i);
            let _e545 = (_e514 + (2i + (_e541 % 16i)));
            let _e547 = (_e545 >> 2u);
            let _e552 = (_e547 & 1023i);
            switch (_e547 >> 10u) {
                case 0: {
                    let _e554 = s1_0_[_e552];
                    s1_element_13 = _e554;
                }
                default: {
                    let _e556 = s1_1_[_e552];
                    s1_element_13 = _e556;
                }
            }
            let _e557 = s1_element_13;
            let _e580 = acc;
            acc = (_e580 + (_e55.z * (unpack2x16float(((_e528 >> (bitcast<u32>((_e516 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e557 >> (bitcast<u32>((_e545 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(((_e541 / 16i) * 4i))) & 15i)) - 8f))));
            let _e584 = (_e64 + (_e37 + 7i));
            let _e588 = ((_e584 / 32i) * 18i);
            let _e590 = (_e588 >> 1u);
            let _e592 = (_e590 >> 1u);
            let _e597 = (_e592 & 1023i);
            switch (_e592 >> 10u) {
                case 0: {
                    let _e599 = s1_0_[_e597];
                    s1_element_14 = _e599;
                }
                default: {
                    let _e601 = s1_1_[_e597];
                    s1_element_14 = _e601;
                }
            }
            let _e602 = s1_element_14;
            let _e615 = (_e584 % 32i);
            let _e619 = (_e588 + (2i + (_e615 % 16i)));
            let _e621 = (_e619 >> 2u);
            let _e626 = (_e621 & 1023i);
            switch (_e621 >> 10u) {
                case 0: {
                    let _e628 = s1_0_[_e626];
                    s1_element_15 = _e628;
                }
                default: {
                    let _e630 = s1_1_[_e626];
                    s1_element_15 = _e630;
                }
            }
            let _e631 = s1_element_15;
            let _e654 = acc;
            acc = (_e654 + (_e55.w * (unpack2x16float(((_e602 >> (bitcast<u32>((_e590 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e631 >> (bitcast<u32>((_e619 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(((_e615 / 16i) * 4i))) & 15i)) - 8f))));
        }
        continuing {
            let _e656 = l6_;
            l6_ = (_e656 + 1i);
        }
    }
    let _e659 = acc;
    let _e660 = subgroupAdd(_e659);
    if (lane == 0u) {
        partial[subgroup] = _e660;
    }
    workgroupBarrier();
    if ((_e20 == 0i) && (_e18 < 8i)) {
        acc = 0f;
        subgroup_partial = 0i;
        loop {
            let _e672 = subgroup_partial;
            if (_e672 >= bitcast<i32>(subgroups)) {
                break;
            }
            let _e675 = partial[_e672];
            let _e676 = acc;
            acc = (_e676 + _e675);
            continuing {
                let _e678 = subgroup_partial;
                subgroup_partial = (_e678 + 1i);
            }
        }
        let _e681 = acc;
        out[(((_e18 / 8i) * 8i) + (_e18 % 8i))] = _e681;
    }
    workgroupBarrier();
    return;
}
