enable f16;

@group(0) @binding(0) 
var<storage> s0_: array<u32>;
@group(0) @binding(1) 
var<storage> s1_: array<u32>;
@group(0) @binding(2) 
var<storage, read_write> out: array<f32>;
@group(0) @binding(3) 
var<storage> dims: array<i32>;
@group(0) @binding(4) 
var<storage> s1_vectors: array<vec4<u32>>;
var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(32, 1, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lidx: u32, @builtin(subgroup_id) subgroup: u32, @builtin(subgroup_invocation_id) lane: u32, @builtin(num_subgroups) subgroups: u32) {
    var acc0_: f32;
    var acc1_: f32;
    var step_: i32;
    var output: i32;
    var subgroup_partial: i32;

    acc0_ = 0f;
    acc1_ = 0f;
    let _e21 = (bitcast<i32>((wid.x + (wid.y * 32768u))) * 2i);
    let _e22 = bitcast<i32>(lidx);
    step_ = 0i;
    loop {
        let _e26 = step_;
        if (_e26 >= 1i) {
            break;
        }
        let _e30 = (_e22 + (_e26 * 32i));
        if (_e30 < 8i) {
            let _e36 = ((0i + _e30) * 34i);
            let _e38 = (_e36 >> 1u);
            let _e42 = s0_[(_e38 >> 1u)];
            let _e54 = (_e36 + 2i);
            let _e56 = (_e54 / 4i);
            let _e60 = s0_[(_e56 + 0i)];
            let _e64 = s0_[(_e56 + 1i)];
            let _e68 = s0_[(_e56 + 2i)];
            let _e72 = s0_[(_e56 + 3i)];
            let _e76 = s0_[(_e56 + 4i)];
            let _e80 = s0_[(_e56 + 5i)];
            let _e84 = s0_[(_e56 + 6i)];
            let _e88 = s0_[(_e56 + 7i)];
            let _e94 = s0_[min((_e56 + 8i), 67i)];
            let _e98 = ((_e54 % 4i) != 0i);
            let _e103 = select(_e60, ((_e60 >> 16u) | (_e64 << 16u)), _e98);
            let _e107 = select(_e64, ((_e64 >> 16u) | (_e68 << 16u)), _e98);
            let _e111 = select(_e68, ((_e68 >> 16u) | (_e72 << 16u)), _e98);
            let _e115 = select(_e72, ((_e72 >> 16u) | (_e76 << 16u)), _e98);
            let _e119 = select(_e76, ((_e76 >> 16u) | (_e80 << 16u)), _e98);
            let _e123 = select(_e80, ((_e80 >> 16u) | (_e84 << 16u)), _e98);
            let _e127 = select(_e84, ((_e84 >> 16u) | (_e88 << 16u)), _e98);
            let _e131 = select(_e88, ((_e88 >> 16u) | (_e94 << 16u)), _e98);
            let _e135 = min((_e21 + 0i), 7i);
            let _e141 = (_e30 * 2i);
            let _e144 = ((((_e135 * 144i) + 128i) + _e141) >> 1u);
            let _e148 = s1_[(_e144 >> 1u)];
            let _e163 = s1_vectors[((_e135 * 9i) + _e30)];
            let _e169 = (_e163.x & 65535u);
            let _e171 = (_e163.x >> 16u);
            let _e176 = ((_e169 | (_e169 << 8u)) & 16711935u);
            let _e190 = ((_e171 | (_e171 << 8u)) & 16711935u);
            let _e201 = (_e163.y & 65535u);
            let _e203 = (_e163.y >> 16u);
            let _e208 = ((_e201 | (_e201 << 8u)) & 16711935u);
            let _e222 = ((_e203 | (_e203 << 8u)) & 16711935u);
            let _e233 = (_e163.z & 65535u);
            let _e235 = (_e163.z >> 16u);
            let _e240 = ((_e233 | (_e233 << 8u)) & 16711935u);
            let _e254 = ((_e235 | (_e235 << 8u)) & 16711935u);
            let _e265 = (_e163.w & 65535u);
            let _e267 = (_e163.w >> 16u);
            let _e272 = ((_e265 | (_e265 << 8u)) & 16711935u);
            let _e286 = ((_e267 | (_e267 << 8u)) & 16711935u);
            let _e314 = acc0_;
            acc0_ = (_e314 + ((unpack2x16float(((_e148 >> (bitcast<u32>((_e144 & 1i)) * 16u)) & 65535u)).x * unpack2x16float(((_e42 >> (bitcast<u32>((_e38 & 1i)) * 16u)) & 65535u)).x) * f32((((((((dot4I8Packed(((((_e176 | (_e176 << 4u)) & 252645135u) + 2021161080u) ^ 2155905152u), _e103) + dot4I8Packed(((((_e190 | (_e190 << 4u)) & 252645135u) + 2021161080u) ^ 2155905152u), _e107)) + dot4I8Packed(((((_e208 | (_e208 << 4u)) & 252645135u) + 2021161080u) ^ 2155905152u), _e111)) + dot4I8Packed(((((_e222 | (_e222 << 4u)) & 252645135u) + 2021161080u) ^ 2155905152u), _e115)) + dot4I8Packed(((((_e240 | (_e240 << 4u)) & 252645135u) + 2021161080u) ^ 2155905152u), _e119)) + dot4I8Packed(((((_e254 | (_e254 << 4u)) & 252645135u) + 2021161080u) ^ 2155905152u), _e123)) + dot4I8Packed(((((_e272 | (_e272 << 4u)) & 252645135u) + 2021161080u) ^ 2155905152u), _e127)) + dot4I8Packed(((((_e286 | (_e286 << 4u)) & 252645135u) + 2021161080u) ^ 2155905152u), _e131)))));
            let _e319 = min((_e21 + 1i), 7i);
            let _e326 = ((((_e319 * 144i) + 128i) + _e141) >> 1u);
            let _e330 = s1_[(_e326 >> 1u)];
            let _e345 = s1_vectors[((_e319 * 9i) + _e30)];
            let _e351 = (_e345.x & 65535u);
            let _e353 = (_e345.x >> 16u);
            let _e358 = ((_e351 | (_e351 << 8u)) & 16711935u);
            let _e372 = ((_e353 | (_e353 << 8u)) & 16711935u);
            let _e383 = (_e345.y & 65535u);
            let _e385 = (_e345.y >> 16u);
            let _e390 = ((_e383 | (_e383 << 8u)) & 16711935u);
            let _e404 = ((_e385 | (_e385 << 8u)) & 16711935u);
            let _e415 = (_e345.z & 65535u);
            let _e417 = (_e345.z >> 16u);
            let _e422 = ((_e415 | (_e415 << 8u)) & 16711935u);
            let _e436 = ((_e417 | (_e417 << 8u)) & 16711935u);
            let _e447 = (_e345.w & 65535u);
            let _e449 = (_e345.w >> 16u);
            let _e454 = ((_e447 | (_e447 << 8u)) & 16711935u);
            let _e468 = ((_e449 | (_e449 << 8u)) & 16711935u);
            let _e496 = acc1_;
            acc1_ = (_e496 + ((unpack2x16float(((_e330 >> (bitcast<u32>((_e326 & 1i)) * 16u)) & 65535u)).x * unpack2x16float(((_e42 >> (bitcast<u32>((_e38 & 1i)) * 16u)) & 65535u)).x) * f32((((((((dot4I8Packed(((((_e358 | (_e358 << 4u)) & 252645135u) + 2021161080u) ^ 2155905152u), _e103) + dot4I8Packed(((((_e372 | (_e372 << 4u)) & 252645135u) + 2021161080u) ^ 2155905152u), _e107)) + dot4I8Packed(((((_e390 | (_e390 << 4u)) & 252645135u) + 2021161080u) ^ 2155905152u), _e111)) + dot4I8Packed(((((_e404 | (_e404 << 4u)) & 252645135u) + 2021161080u) ^ 2155905152u), _e115)) + dot4I8Packed(((((_e422 | (_e422 << 4u)) & 252645135u) + 2021161080u) ^ 2155905152u), _e119)) + dot4I8Packed(((((_e436 | (_e436 << 4u)) & 252645135u) + 2021161080u) ^ 2155905152u), _e123)) + dot4I8Packed(((((_e454 | (_e454 << 4u)) & 252645135u) + 2021161080u) ^ 2155905152u), _e127)) + dot4I8Packed(((((_e468 | (_e468 << 4u)) & 252645135u) + 2021161080u) ^ 2155905152u), _e131)))));
        }
        continuing {
            let _e498 = step_;
            step_ = (_e498 + 1i);
        }
    }
    let _e502 = acc0_;
    let _e503 = subgroupAdd(_e502);
    if (lane == 0u) {
        partial[((subgroup * 2u) + 0u)] = _e503;
    }
    let _e510 = acc1_;
    let _e511 = subgroupAdd(_e510);
    if (lane == 0u) {
        partial[((subgroup * 2u) + 1u)] = _e511;
    }
    workgroupBarrier();
    output = 0i;
    loop {
        let _e521 = output;
        if (_e521 >= 1i) {
            break;
        }
        let _e525 = ((_e521 * 32i) + _e22);
        if (_e525 < 2i) {
            acc0_ = 0f;
            subgroup_partial = 0i;
            loop {
                let _e532 = subgroup_partial;
                if (_e532 >= bitcast<i32>(subgroups)) {
                    break;
                }
                let _e537 = partial[((_e532 * 2i) + _e525)];
                let _e538 = acc0_;
                acc0_ = (_e538 + _e537);
                continuing {
                    let _e540 = subgroup_partial;
                    subgroup_partial = (_e540 + 1i);
                }
            }
            let _e546 = (_e21 + (_e525 / 1i));
            if (_e546 < 8i) {
                let _e552 = acc0_;
                out[(((_e525 % 1i) * 8i) + _e546)] = _e552;
            }
        }
        continuing {
            let _e553 = output;
            output = (_e553 + 1i);
        }
    }
    return;
}
