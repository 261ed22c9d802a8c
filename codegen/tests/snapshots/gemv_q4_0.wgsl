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
            let _e152 = acc;
            acc = (_e152 + (_e48.x * (select(bitcast<f32>(select(((_e94 | ((_e96 + 112u) << 23u)) | _e98), ((_e94 | 2139095040u) | _e98), (_e96 == 31u))), select(_e112, -(_e112), (_e94 != 0u)), (_e96 == 0u)) * (f32(((bitcast<i32>(((_e129 >> (bitcast<u32>((_e125 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(((_e121 / 16i) * 4i))) & 15i)) - 8f))));
            let _e156 = (_e65 + (_e38 + 1i));
            let _e160 = ((_e156 / 32i) * 18i);
            let _e162 = (_e160 >> 1u);
            let _e166 = s1_[(_e162 >> 1u)];
            let _e174 = ((_e166 >> (bitcast<u32>((_e162 & 1i)) * 16u)) & 65535u);
            let _e183 = ((_e174 & 32768u) << 16u);
            let _e185 = ((_e174 >> 10u) & 31u);
            let _e186 = (_e174 & 1023u);
            let _e187 = (_e186 << 13u);
            let _e201 = (f32(_e186) * 0.000000059604645f);
            let _e210 = (_e156 % 32i);
            let _e214 = (_e160 + (2i + (_e210 % 16i)));
            let _e218 = s1_[(_e214 >> 2u)];
            let _e241 = acc;
            acc = (_e241 + (_e48.y * (select(bitcast<f32>(select(((_e183 | ((_e185 + 112u) << 23u)) | _e187), ((_e183 | 2139095040u) | _e187), (_e185 == 31u))), select(_e201, -(_e201), (_e183 != 0u)), (_e185 == 0u)) * (f32(((bitcast<i32>(((_e218 >> (bitcast<u32>((_e214 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(((_e210 / 16i) * 4i))) & 15i)) - 8f))));
            let _e245 = (_e65 + (_e38 + 2i));
            let _e249 = ((_e245 / 32i) * 18i);
            let _e251 = (_e249 >> 1u);
            let _e255 = s1_[(_e251 >> 1u)];
            let _e263 = ((_e255 >> (bitcast<u32>((_e251 & 1i)) * 16u)) & 65535u);
            let _e272 = ((_e263 & 32768u) << 16u);
            let _e274 = ((_e263 >> 10u) & 31u);
            let _e275 = (_e263 & 1023u);
            let _e276 = (_e275 << 13u);
            let _e290 = (f32(_e275) * 0.000000059604645f);
            let _e299 = (_e245 % 32i);
            let _e303 = (_e249 + (2i + (_e299 % 16i)));
            let _e307 = s1_[(_e303 >> 2u)];
            let _e330 = acc;
            acc = (_e330 + (_e48.z * (select(bitcast<f32>(select(((_e272 | ((_e274 + 112u) << 23u)) | _e276), ((_e272 | 2139095040u) | _e276), (_e274 == 31u))), select(_e290, -(_e290), (_e272 != 0u)), (_e274 == 0u)) * (f32(((bitcast<i32>(((_e307 >> (bitcast<u32>((_e303 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(((_e299 / 16i) * 4i))) & 15i)) - 8f))));
            let _e334 = (_e65 + (_e38 + 3i));
            let _e338 = ((_e334 / 32i) * 18i);
            let _e340 = (_e338 >> 1u);
            let _e344 = s1_[(_e340 >> 1u)];
            let _e352 = ((_e344 >> (bitcast<u32>((_e340 & 1i)) * 16u)) & 65535u);
            let _e361 = ((_e352 & 32768u) << 16u);
            let _e363 = ((_e352 >> 10u) & 31u);
            let _e364 = (_e352 & 1023u);
            let _e365 = (_e364 << 13u);
            let _e379 = (f32(_e364) * 0.000000059604645f);
            let _e388 = (_e334 % 32i);
            let _e392 = (_e338 + (2i + (_e388 % 16i)));
            let _e396 = s1_[(_e392 >> 2u)];
            let _e419 = acc;
            acc = (_e419 + (_e48.w * (select(bitcast<f32>(select(((_e361 | ((_e363 + 112u) << 23u)) | _e365), ((_e361 | 2139095040u) | _e365), (_e363 == 31u))), select(_e379, -(_e379), (_e361 != 0u)), (_e363 == 0u)) * (f32(((bitcast<i32>(((_e396 >> (bitcast<u32>((_e392 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(((_e388 / 16i) * 4i))) & 15i)) - 8f))));
            let _e423 = (_e65 + (_e38 + 4i));
            let _e427 = ((_e423 / 32i) * 18i);
            let _e429 = (_e427 >> 1u);
            let _e433 = s1_[(_e429 >> 1u)];
            let _e441 = ((_e433 >> (bitcast<u32>((_e429 & 1i)) * 16u)) & 65535u);
            let _e450 = ((_e441 & 32768u) << 16u);
            let _e452 = ((_e441 >> 10u) & 31u);
            let _e453 = (_e441 & 1023u);
            let _e454 = (_e453 << 13u);
            let _e468 = (f32(_e453) * 0.000000059604645f);
            let _e477 = (_e423 % 32i);
            let _e481 = (_e427 + (2i + (_e477 % 16i)));
            let _e485 = s1_[(_e481 >> 2u)];
            let _e508 = acc;
            acc = (_e508 + (_e56.x * (select(bitcast<f32>(select(((_e450 | ((_e452 + 112u) << 23u)) | _e454), ((_e450 | 2139095040u) | _e454), (_e452 == 31u))), select(_e468, -(_e468), (_e450 != 0u)), (_e452 == 0u)) * (f32(((bitcast<i32>(((_e485 >> (bitcast<u32>((_e481 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(((_e477 / 16i) * 4i))) & 15i)) - 8f))));
            let _e512 = (_e65 + (_e38 + 5i));
            let _e516 = ((_e512 / 32i) * 18i);
            let _e518 = (_e516 >> 1u);
            let _e522 = s1_[(_e518 >> 1u)];
            let _e530 = ((_e522 >> (bitcast<u32>((_e518 & 1i)) * 16u)) & 65535u);
            let _e539 = ((_e530 & 32768u) << 16u);
            let _e541 = ((_e530 >> 10u) & 31u);
            let _e542 = (_e530 & 1023u);
            let _e543 = (_e542 << 13u);
            let _e557 = (f32(_e542) * 0.000000059604645f);
            let _e566 = (_e512 % 32i);
            let _e570 = (_e516 + (2i + (_e566 % 16i)));
            let _e574 = s1_[(_e570 >> 2u)];
            let _e597 = acc;
            acc = (_e597 + (_e56.y * (select(bitcast<f32>(select(((_e539 | ((_e541 + 112u) << 23u)) | _e543), ((_e539 | 2139095040u) | _e543), (_e541 == 31u))), select(_e557, -(_e557), (_e539 != 0u)), (_e541 == 0u)) * (f32(((bitcast<i32>(((_e574 >> (bitcast<u32>((_e570 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(((_e566 / 16i) * 4i))) & 15i)) - 8f))));
            let _e601 = (_e65 + (_e38 + 6i));
            let _e605 = ((_e601 / 32i) * 18i);
            let _e607 = (_e605 >> 1u);
            let _e611 = s1_[(_e607 >> 1u)];
            let _e619 = ((_e611 >> (bitcast<u32>((_e607 & 1i)) * 16u)) & 65535u);
            let _e628 = ((_e619 & 32768u) << 16u);
            let _e630 = ((_e619 >> 10u) & 31u);
            let _e631 = (_e619 & 1023u);
            let _e632 = (_e631 << 13u);
            let _e646 = (f32(_e631) * 0.000000059604645f);
            let _e655 = (_e601 % 32i);
            let _e659 = (_e605 + (2i + (_e655 % 16i)));
            let _e663 = s1_[(_e659 >> 2u)];
            let _e686 = acc;
            acc = (_e686 + (_e56.z * (select(bitcast<f32>(select(((_e628 | ((_e630 + 112u) << 23u)) | _e632), ((_e628 | 2139095040u) | _e632), (_e630 == 31u))), select(_e646, -(_e646), (_e628 != 0u)), (_e630 == 0u)) * (f32(((bitcast<i32>(((_e663 >> (bitcast<u32>((_e659 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(((_e655 / 16i) * 4i))) & 15i)) - 8f))));
            let _e690 = (_e65 + (_e38 + 7i));
            let _e694 = ((_e690 / 32i) * 18i);
            let _e696 = (_e694 >> 1u);
            let _e700 = s1_[(_e696 >> 1u)];
            let _e708 = ((_e700 >> (bitcast<u32>((_e696 & 1i)) * 16u)) & 65535u);
            let _e717 = ((_e708 & 32768u) << 16u);
            let _e719 = ((_e708 >> 10u) & 31u);
            let _e720 = (_e708 & 1023u);
            let _e721 = (_e720 << 13u);
            let _e735 = (f32(_e720) * 0.000000059604645f);
            let _e744 = (_e690 % 32i);
            let _e748 = (_e694 + (2i + (_e744 % 16i)));
            let _e752 = s1_[(_e748 >> 2u)];
            let _e775 = acc;
            acc = (_e775 + (_e56.w * (select(bitcast<f32>(select(((_e717 | ((_e719 + 112u) << 23u)) | _e721), ((_e717 | 2139095040u) | _e721), (_e719 == 31u))), select(_e735, -(_e735), (_e717 != 0u)), (_e719 == 0u)) * (f32(((bitcast<i32>(((_e752 >> (bitcast<u32>((_e748 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(((_e744 / 16i) * 4i))) & 15i)) - 8f))));
        }
        continuing {
            let _e777 = l8_;
            l8_ = (_e777 + 1i);
        }
    }
    let _e780 = acc;
    partial[lidx] = _e780;
    workgroupBarrier();
    if ((_e16 < 4i) && ((_e16 + 4i) < 8i)) {
        let _e792 = partial[lidx];
        let _e793 = partial[(lidx + 4u)];
        partial[lidx] = (_e792 + _e793);
    }
    workgroupBarrier();
    if ((_e16 < 2i) && ((_e16 + 2i) < 8i)) {
        let _e805 = partial[lidx];
        let _e806 = partial[(lidx + 2u)];
        partial[lidx] = (_e805 + _e806);
    }
    workgroupBarrier();
    if ((_e16 < 1i) && ((_e16 + 1i) < 8i)) {
        let _e818 = partial[lidx];
        let _e819 = partial[(lidx + 1u)];
        partial[lidx] = (_e818 + _e819);
    }
    workgroupBarrier();
    if ((_e16 == 0i) && (_e14 < 4i)) {
        let _e827 = partial[lidx];
        let _e830 = ((_e14 * 8i) + _e18);
        out[(((_e830 / 32i) * 32i) + (_e830 % 32i))] = _e827;
    }
    workgroupBarrier();
    return;
}
