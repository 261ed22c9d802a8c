@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage> s1_: array<f32>;
@group(0) @binding(2) 
var<storage, read_write> out: array<u32>;
@group(0) @binding(3) 
var<storage> dims: array<i32>;
var<workgroup> amax: array<f32, 64>;
var<workgroup> words: array<u32, 64>;
var<workgroup> scales: array<u32, 8>;

@compute @workgroup_size(64, 1, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    var partial: f32;
    var reduce: i32;
    var x0_: f32;
    var x1_: f32;
    var x2_: f32;
    var x3_: f32;

    let _e14 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e15 = bitcast<i32>(lidx);
    let _e17 = (_e15 / 8i);
    let _e18 = (_e15 % 8i);
    let _e20 = (_e14 * 8i);
    let _e21 = (_e20 + _e17);
    let _e25 = dims[0i];
    let _e28 = ((1i * _e25) * 8i);
    let _e34 = (_e20 / 8i);
    partial = 0f;
    reduce = 0i;
    loop {
        let _e41 = reduce;
        if (_e41 >= 1i) {
            break;
        }
        let _e44 = ((_e41 * 256i) + _e15);
        let _e51 = s0_[((_e34 * 256i) + (_e44 + 0i))];
        let _e54 = f32(256i);
        let _e62 = s0_[((_e34 * 256i) + (_e44 + 64i))];
        let _e71 = s0_[((_e34 * 256i) + (_e44 + 128i))];
        let _e80 = s0_[((_e34 * 256i) + (_e44 + 192i))];
        let _e83 = partial;
        partial = ((((_e83 + ((_e51 * _e51) / _e54)) + ((_e62 * _e62) / _e54)) + ((_e71 * _e71) / _e54)) + ((_e80 * _e80) / _e54));
        continuing {
            let _e88 = reduce;
            reduce = (_e88 + 1i);
        }
    }
    let _e91 = partial;
    amax[_e15] = _e91;
    workgroupBarrier();
    if (_e15 < 32i) {
        let _e98 = amax[_e15];
        let _e99 = amax[(_e15 + 32i)];
        amax[_e15] = (_e98 + _e99);
    }
    workgroupBarrier();
    if (_e15 < 16i) {
        let _e106 = amax[_e15];
        let _e107 = amax[(_e15 + 16i)];
        amax[_e15] = (_e106 + _e107);
    }
    workgroupBarrier();
    if (_e15 < 8i) {
        let _e114 = amax[_e15];
        let _e115 = amax[(_e15 + 8i)];
        amax[_e15] = (_e114 + _e115);
    }
    workgroupBarrier();
    if (_e15 < 4i) {
        let _e122 = amax[_e15];
        let _e123 = amax[(_e15 + 4i)];
        amax[_e15] = (_e122 + _e123);
    }
    workgroupBarrier();
    if (_e15 < 2i) {
        let _e130 = amax[_e15];
        let _e131 = amax[(_e15 + 2i)];
        amax[_e15] = (_e130 + _e131);
    }
    workgroupBarrier();
    if (_e15 < 1i) {
        let _e138 = amax[_e15];
        let _e139 = amax[(_e15 + 1i)];
        amax[_e15] = (_e138 + _e139);
    }
    workgroupBarrier();
    let _e142 = amax[0i];
    workgroupBarrier();
    x0_ = 0f;
    x1_ = 0f;
    x2_ = 0f;
    x3_ = 0f;
    if (_e21 < _e28) {
        let _e147 = (_e21 / 8i);
        let _e153 = (((_e21 % 8i) * 32i) + (_e18 * 4i));
        let _e155 = (_e153 + 0i);
        let _e160 = s0_[((_e147 * 256i) + _e155)];
        let _e165 = (1f / sqrt((_e142 + 0.00001f)));
        let _e168 = s1_[_e155];
        x0_ = ((_e160 * _e165) * _e168);
        let _e171 = (_e153 + 1i);
        let _e176 = s0_[((_e147 * 256i) + _e171)];
        let _e179 = s1_[_e171];
        x1_ = ((_e176 * _e165) * _e179);
        let _e182 = (_e153 + 2i);
        let _e187 = s0_[((_e147 * 256i) + _e182)];
        let _e190 = s1_[_e182];
        x2_ = ((_e187 * _e165) * _e190);
        let _e193 = (_e153 + 3i);
        let _e198 = s0_[((_e147 * 256i) + _e193)];
        let _e201 = s1_[_e193];
        x3_ = ((_e198 * _e165) * _e201);
    }
    let _e203 = x0_;
    let _e204 = x1_;
    let _e205 = x2_;
    let _e206 = x3_;
    amax[_e15] = max(max(max(max(0f, abs(_e203)), abs(_e204)), abs(_e205)), abs(_e206));
    workgroupBarrier();
    let _e216 = (_e17 * 8i);
    let _e220 = amax[(_e216 + 0i)];
    let _e225 = amax[(_e216 + 1i)];
    let _e230 = amax[(_e216 + 2i)];
    let _e235 = amax[(_e216 + 3i)];
    let _e240 = amax[(_e216 + 4i)];
    let _e245 = amax[(_e216 + 5i)];
    let _e250 = amax[(_e216 + 6i)];
    let _e255 = amax[(_e216 + 7i)];
    let _e256 = max(max(max(max(max(max(max(max(0f, _e220), _e225), _e230), _e235), _e240), _e245), _e250), _e255);
    let _e261 = select(0f, (127f / _e256), (_e256 != 0f));
    let _e264 = i32(round((_e203 * _e261)));
    let _e274 = i32(round((_e204 * _e261)));
    let _e284 = i32(round((_e205 * _e261)));
    let _e294 = i32(round((_e206 * _e261)));
    let _e302 = bitcast<u32>((_e256 / 127f));
    let _e313 = (_e302 & 8388607u);
    let _e314 = bitcast<i32>(((_e302 >> 23u) & 255u));
    let _e316 = (_e314 - 112i);
    let _e321 = ((bitcast<u32>(_e316) << 10u) | (_e313 >> 13u));
    let _e323 = (_e313 & 8191u);
    let _e335 = (_e313 | 8388608u);
    let _e340 = bitcast<u32>(min((14i - _e316), 25i));
    let _e341 = (_e335 >> _e340);
    let _e343 = (1u << _e340);
    let _e345 = (_e335 & (_e343 - 1u));
    let _e346 = (_e343 >> 1u);
    words[_e15] = ((((0u | ((bitcast<u32>(_e264) & 255u) << 0u)) | ((bitcast<u32>(_e274) & 255u) << 8u)) | ((bitcast<u32>(_e284) & 255u) << 16u)) | ((bitcast<u32>(_e294) & 255u) << 24u));
    if (_e18 == 0i) {
        scales[_e17] = ((((_e302 >> 16u) & 32768u) | select(select(select((_e341 + u32(((_e345 > _e346) || ((_e345 == _e346) && ((_e341 & 1u) == 1u))))), (_e321 + u32(((_e323 > 4096u) || ((_e323 == 4096u) && ((_e321 & 1u) == 1u))))), (_e316 >= 1i)), 31744u, (_e316 >= 31i)), (31744u | select(0u, 512u, (_e313 != 0u))), (_e314 == 255i))) & 65535u);
    }
    workgroupBarrier();
    let _e380 = (min((_e28 - _e20), 8i) * 34i);
    let _e382 = (_e14 * 68i);
    let _e384 = (_e15 + 0i);
    let _e386 = (_e384 * 4i);
    if (_e386 < _e380) {
        let _e390 = (_e386 + 0i);
        let _e393 = min((_e390 / 34i), 7i);
        let _e394 = (_e390 % 34i);
        let _e396 = (_e394 < 2i);
        let _e398 = scales[_e393];
        let _e400 = max((_e394 - 2i), 0i);
        let _e407 = words[((_e393 * 8i) + (_e400 / 4i))];
        let _e423 = (_e386 + 1i);
        let _e426 = min((_e423 / 34i), 7i);
        let _e427 = (_e423 % 34i);
        let _e429 = (_e427 < 2i);
        let _e431 = scales[_e426];
        let _e433 = max((_e427 - 2i), 0i);
        let _e440 = words[((_e426 * 8i) + (_e433 / 4i))];
        let _e456 = (_e386 + 2i);
        let _e459 = min((_e456 / 34i), 7i);
        let _e460 = (_e456 % 34i);
        let _e462 = (_e460 < 2i);
        let _e464 = scales[_e459];
        let _e466 = max((_e460 - 2i), 0i);
        let _e473 = words[((_e459 * 8i) + (_e466 / 4i))];
        let _e489 = (_e386 + 3i);
        let _e492 = min((_e489 / 34i), 7i);
        let _e493 = (_e489 % 34i);
        let _e495 = (_e493 < 2i);
        let _e497 = scales[_e492];
        let _e499 = max((_e493 - 2i), 0i);
        let _e506 = words[((_e492 * 8i) + (_e499 / 4i))];
        out[(_e382 + _e384)] = ((((0u | (select(((select(_e407, _e398, _e396) >> (bitcast<u32>(select((_e400 % 4i), _e394, _e396)) * 8u)) & 255u), 0u, (_e390 >= _e380)) << 0u)) | (select(((select(_e440, _e431, _e429) >> (bitcast<u32>(select((_e433 % 4i), _e427, _e429)) * 8u)) & 255u), 0u, (_e423 >= _e380)) << 8u)) | (select(((select(_e473, _e464, _e462) >> (bitcast<u32>(select((_e466 % 4i), _e460, _e462)) * 8u)) & 255u), 0u, (_e456 >= _e380)) << 16u)) | (select(((select(_e506, _e497, _e495) >> (bitcast<u32>(select((_e499 % 4i), _e493, _e495)) * 8u)) & 255u), 0u, (_e489 >= _e380)) << 24u));
    }
    let _e524 = (_e15 + 64i);
    let _e526 = (_e524 * 4i);
    if (_e526 < _e380) {
        let _e530 = (_e526 + 0i);
        let _e533 = min((_e530 / 34i), 7i);
        let _e534 = (_e530 % 34i);
        let _e536 = (_e534 < 2i);
        let _e538 = scales[_e533];
        let _e540 = max((_e534 - 2i), 0i);
        let _e547 = words[((_e533 * 8i) + (_e540 / 4i))];
        let _e563 = (_e526 + 1i);
        let _e566 = min((_e563 / 34i), 7i);
        let _e567 = (_e563 % 34i);
        let _e569 = (_e567 < 2i);
        let _e571 = scales[_e566];
        let _e573 = max((_e567 - 2i), 0i);
        let _e580 = words[((_e566 * 8i) + (_e573 / 4i))];
        let _e596 = (_e526 + 2i);
        let _e599 = min((_e596 / 34i), 7i);
        let _e600 = (_e596 % 34i);
        let _e602 = (_e600 < 2i);
        let _e604 = scales[_e599];
        let _e606 = max((_e600 - 2i), 0i);
        let _e613 = words[((_e599 * 8i) + (_e606 / 4i))];
        let _e629 = (_e526 + 3i);
        let _e632 = min((_e629 / 34i), 7i);
        let _e633 = (_e629 % 34i);
        let _e635 = (_e633 < 2i);
        let _e637 = scales[_e632];
        let _e639 = max((_e633 - 2i), 0i);
        let _e646 = words[((_e632 * 8i) + (_e639 / 4i))];
        out[(_e382 + _e524)] = ((((0u | (select(((select(_e547, _e538, _e536) >> (bitcast<u32>(select((_e540 % 4i), _e534, _e536)) * 8u)) & 255u), 0u, (_e530 >= _e380)) << 0u)) | (select(((select(_e580, _e571, _e569) >> (bitcast<u32>(select((_e573 % 4i), _e567, _e569)) * 8u)) & 255u), 0u, (_e563 >= _e380)) << 8u)) | (select(((select(_e613, _e604, _e602) >> (bitcast<u32>(select((_e606 % 4i), _e600, _e602)) * 8u)) & 255u), 0u, (_e596 >= _e380)) << 16u)) | (select(((select(_e646, _e637, _e635) >> (bitcast<u32>(select((_e639 % 4i), _e633, _e635)) * 8u)) & 255u), 0u, (_e629 >= _e380)) << 24u));
    }
    return;
}
