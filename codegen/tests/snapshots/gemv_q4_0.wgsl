@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage> s1_: array<u32>;
@group(0) @binding(2) 
var<storage, read_write> out: array<f32>;
@group(0) @binding(3) 
var<storage> dims: array<i32>;
@group(0) @binding(4) 
var<storage> s0_vectors: array<vec4<f32>>;
var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(8, 8, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    var acc: f32;
    var l8_: i32;

    let _e14 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e16 = bitcast<i32>(lid.x);
    let _e18 = bitcast<i32>(lid.y);
    acc = 0f;
    l8_ = 0i;
    loop {
        let _e24 = l8_;
        if (_e24 >= 1i) {
            break;
        }
        if (_e14 < 4i) {
            let _e31 = ((_e14 * 8i) + _e18);
            let _e38 = (((_e24 * 8i) + _e16) * 8i);
            let _e44 = ((((_e31 / 32i) * 64i) + (_e38 + 0i)) / 4i);
            let _e48 = s0_vectors[(_e44 + 0i)];
            let _e56 = s0_vectors[(_e44 + 1i)];
            let _e65 = ((_e31 % 32i) * 64i);
            let _e67 = (_e65 + (_e38 + 0i));
            let _e71 = ((_e67 / 32i) * 18i);
            let _e73 = (_e71 >> 1u);
            let _e77 = s1_[(_e73 >> 1u)];
            let _e85 = ((_e77 >> (bitcast<u32>((_e73 & 1i)) * 16u)) & 65535u);
            let _e94 = ((_e85 & 32768u) << 16u);
            let _e96 = ((_e85 >> 10u) & 31u);
            let _e97 = (_e85 & 1023u);
            let _e98 = (_e97 << 13u);
            let _e112 = (f32(_e97) * 0.000000059604645f);
            let _e121 = (_e67 % 32i);
            let _e125 = (_e71 + (2i + (_e121 % 16i)));
            let _e129 = s1_[(_e125 >> 2u)];
            let _e148 = acc;
            acc = (_e148 + (_e48.x * (select(bitcast<f32>(select(((_e94 | ((_e96 + 112u) << 23u)) | _e98), ((_e94 | 2139095040u) | _e98), (_e96 == 31u))), select(_e112, -(_e112), (_e94 != 0u)), (_e96 == 0u)) * (f32(bitcast<i32>(extractBits(_e129, bitcast<u32>((((_e125 & 3i) * 8i) + ((_e121 / 16i) * 4i))), 4u))) - 8f))));
            let _e152 = (_e65 + (_e38 + 1i));
            let _e156 = ((_e152 / 32i) * 18i);
            let _e158 = (_e156 >> 1u);
            let _e162 = s1_[(_e158 >> 1u)];
            let _e170 = ((_e162 >> (bitcast<u32>((_e158 & 1i)) * 16u)) & 65535u);
            let _e179 = ((_e170 & 32768u) << 16u);
            let _e181 = ((_e170 >> 10u) & 31u);
            let _e182 = (_e170 & 1023u);
            let _e183 = (_e182 << 13u);
            let _e197 = (f32(_e182) * 0.000000059604645f);
            let _e206 = (_e152 % 32i);
            let _e210 = (_e156 + (2i + (_e206 % 16i)));
            let _e214 = s1_[(_e210 >> 2u)];
            let _e233 = acc;
            acc = (_e233 + (_e48.y * (select(bitcast<f32>(select(((_e179 | ((_e181 + 112u) << 23u)) | _e183), ((_e179 | 2139095040u) | _e183), (_e181 == 31u))), select(_e197, -(_e197), (_e179 != 0u)), (_e181 == 0u)) * (f32(bitcast<i32>(extractBits(_e214, bitcast<u32>((((_e210 & 3i) * 8i) + ((_e206 / 16i) * 4i))), 4u))) - 8f))));
            let _e237 = (_e65 + (_e38 + 2i));
            let _e241 = ((_e237 / 32i) * 18i);
            let _e243 = (_e241 >> 1u);
            let _e247 = s1_[(_e243 >> 1u)];
            let _e255 = ((_e247 >> (bitcast<u32>((_e243 & 1i)) * 16u)) & 65535u);
            let _e264 = ((_e255 & 32768u) << 16u);
            let _e266 = ((_e255 >> 10u) & 31u);
            let _e267 = (_e255 & 1023u);
            let _e268 = (_e267 << 13u);
            let _e282 = (f32(_e267) * 0.000000059604645f);
            let _e291 = (_e237 % 32i);
            let _e295 = (_e241 + (2i + (_e291 % 16i)));
            let _e299 = s1_[(_e295 >> 2u)];
            let _e318 = acc;
            acc = (_e318 + (_e48.z * (select(bitcast<f32>(select(((_e264 | ((_e266 + 112u) << 23u)) | _e268), ((_e264 | 2139095040u) | _e268), (_e266 == 31u))), select(_e282, -(_e282), (_e264 != 0u)), (_e266 == 0u)) * (f32(bitcast<i32>(extractBits(_e299, bitcast<u32>((((_e295 & 3i) * 8i) + ((_e291 / 16i) * 4i))), 4u))) - 8f))));
            let _e322 = (_e65 + (_e38 + 3i));
            let _e326 = ((_e322 / 32i) * 18i);
            let _e328 = (_e326 >> 1u);
            let _e332 = s1_[(_e328 >> 1u)];
            let _e340 = ((_e332 >> (bitcast<u32>((_e328 & 1i)) * 16u)) & 65535u);
            let _e349 = ((_e340 & 32768u) << 16u);
            let _e351 = ((_e340 >> 10u) & 31u);
            let _e352 = (_e340 & 1023u);
            let _e353 = (_e352 << 13u);
            let _e367 = (f32(_e352) * 0.000000059604645f);
            let _e376 = (_e322 % 32i);
            let _e380 = (_e326 + (2i + (_e376 % 16i)));
            let _e384 = s1_[(_e380 >> 2u)];
            let _e403 = acc;
            acc = (_e403 + (_e48.w * (select(bitcast<f32>(select(((_e349 | ((_e351 + 112u) << 23u)) | _e353), ((_e349 | 2139095040u) | _e353), (_e351 == 31u))), select(_e367, -(_e367), (_e349 != 0u)), (_e351 == 0u)) * (f32(bitcast<i32>(extractBits(_e384, bitcast<u32>((((_e380 & 3i) * 8i) + ((_e376 / 16i) * 4i))), 4u))) - 8f))));
            let _e407 = (_e65 + (_e38 + 4i));
            let _e411 = ((_e407 / 32i) * 18i);
            let _e413 = (_e411 >> 1u);
            let _e417 = s1_[(_e413 >> 1u)];
            let _e425 = ((_e417 >> (bitcast<u32>((_e413 & 1i)) * 16u)) & 65535u);
            let _e434 = ((_e425 & 32768u) << 16u);
            let _e436 = ((_e425 >> 10u) & 31u);
            let _e437 = (_e425 & 1023u);
            let _e438 = (_e437 << 13u);
            let _e452 = (f32(_e437) * 0.000000059604645f);
            let _e461 = (_e407 % 32i);
            let _e465 = (_e411 + (2i + (_e461 % 16i)));
            let _e469 = s1_[(_e465 >> 2u)];
            let _e488 = acc;
            acc = (_e488 + (_e56.x * (select(bitcast<f32>(select(((_e434 | ((_e436 + 112u) << 23u)) | _e438), ((_e434 | 2139095040u) | _e438), (_e436 == 31u))), select(_e452, -(_e452), (_e434 != 0u)), (_e436 == 0u)) * (f32(bitcast<i32>(extractBits(_e469, bitcast<u32>((((_e465 & 3i) * 8i) + ((_e461 / 16i) * 4i))), 4u))) - 8f))));
            let _e492 = (_e65 + (_e38 + 5i));
            let _e496 = ((_e492 / 32i) * 18i);
            let _e498 = (_e496 >> 1u);
            let _e502 = s1_[(_e498 >> 1u)];
            let _e510 = ((_e502 >> (bitcast<u32>((_e498 & 1i)) * 16u)) & 65535u);
            let _e519 = ((_e510 & 32768u) << 16u);
            let _e521 = ((_e510 >> 10u) & 31u);
            let _e522 = (_e510 & 1023u);
            let _e523 = (_e522 << 13u);
            let _e537 = (f32(_e522) * 0.000000059604645f);
            let _e546 = (_e492 % 32i);
            let _e550 = (_e496 + (2i + (_e546 % 16i)));
            let _e554 = s1_[(_e550 >> 2u)];
            let _e573 = acc;
            acc = (_e573 + (_e56.y * (select(bitcast<f32>(select(((_e519 | ((_e521 + 112u) << 23u)) | _e523), ((_e519 | 2139095040u) | _e523), (_e521 == 31u))), select(_e537, -(_e537), (_e519 != 0u)), (_e521 == 0u)) * (f32(bitcast<i32>(extractBits(_e554, bitcast<u32>((((_e550 & 3i) * 8i) + ((_e546 / 16i) * 4i))), 4u))) - 8f))));
            let _e577 = (_e65 + (_e38 + 6i));
            let _e581 = ((_e577 / 32i) * 18i);
            let _e583 = (_e581 >> 1u);
            let _e587 = s1_[(_e583 >> 1u)];
            let _e595 = ((_e587 >> (bitcast<u32>((_e583 & 1i)) * 16u)) & 65535u);
            let _e604 = ((_e595 & 32768u) << 16u);
            let _e606 = ((_e595 >> 10u) & 31u);
            let _e607 = (_e595 & 1023u);
            let _e608 = (_e607 << 13u);
            let _e622 = (f32(_e607) * 0.000000059604645f);
            let _e631 = (_e577 % 32i);
            let _e635 = (_e581 + (2i + (_e631 % 16i)));
            let _e639 = s1_[(_e635 >> 2u)];
            let _e658 = acc;
            acc = (_e658 + (_e56.z * (select(bitcast<f32>(select(((_e604 | ((_e606 + 112u) << 23u)) | _e608), ((_e604 | 2139095040u) | _e608), (_e606 == 31u))), select(_e622, -(_e622), (_e604 != 0u)), (_e606 == 0u)) * (f32(bitcast<i32>(extractBits(_e639, bitcast<u32>((((_e635 & 3i) * 8i) + ((_e631 / 16i) * 4i))), 4u))) - 8f))));
            let _e662 = (_e65 + (_e38 + 7i));
            let _e666 = ((_e662 / 32i) * 18i);
            let _e668 = (_e666 >> 1u);
            let _e672 = s1_[(_e668 >> 1u)];
            let _e680 = ((_e672 >> (bitcast<u32>((_e668 & 1i)) * 16u)) & 65535u);
            let _e689 = ((_e680 & 32768u) << 16u);
            let _e691 = ((_e680 >> 10u) & 31u);
            let _e692 = (_e680 & 1023u);
            let _e693 = (_e692 << 13u);
            let _e707 = (f32(_e692) * 0.000000059604645f);
            let _e716 = (_e662 % 32i);
            let _e720 = (_e666 + (2i + (_e716 % 16i)));
            let _e724 = s1_[(_e720 >> 2u)];
            let _e743 = acc;
            acc = (_e743 + (_e56.w * (select(bitcast<f32>(select(((_e689 | ((_e691 + 112u) << 23u)) | _e693), ((_e689 | 2139095040u) | _e693), (_e691 == 31u))), select(_e707, -(_e707), (_e689 != 0u)), (_e691 == 0u)) * (f32(bitcast<i32>(extractBits(_e724, bitcast<u32>((((_e720 & 3i) * 8i) + ((_e716 / 16i) * 4i))), 4u))) - 8f))));
        }
        continuing {
            let _e745 = l8_;
            l8_ = (_e745 + 1i);
        }
    }
    let _e748 = acc;
    partial[lidx] = _e748;
    workgroupBarrier();
    if ((_e16 < 4i) && ((_e16 + 4i) < 8i)) {
        let _e760 = partial[lidx];
        let _e761 = partial[(lidx + 4u)];
        partial[lidx] = (_e760 + _e761);
    }
    workgroupBarrier();
    if ((_e16 < 2i) && ((_e16 + 2i) < 8i)) {
        let _e773 = partial[lidx];
        let _e774 = partial[(lidx + 2u)];
        partial[lidx] = (_e773 + _e774);
    }
    workgroupBarrier();
    if ((_e16 < 1i) && ((_e16 + 1i) < 8i)) {
        let _e786 = partial[lidx];
        let _e787 = partial[(lidx + 1u)];
        partial[lidx] = (_e786 + _e787);
    }
    workgroupBarrier();
    if ((_e16 == 0i) && (_e14 < 4i)) {
        let _e795 = partial[lidx];
        let _e798 = ((_e14 * 8i) + _e18);
        out[(((_e798 / 32i) * 32i) + (_e798 % 32i))] = _e795;
    }
    workgroupBarrier();
    return;
}
