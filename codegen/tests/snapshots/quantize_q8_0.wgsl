@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage, read_write> out: array<u32>;
@group(0) @binding(2) 
var<storage> dims: array<i32>;
var<workgroup> amax: array<f32, 64>;
var<workgroup> words: array<u32, 64>;
var<workgroup> scales: array<u32, 8>;

@compute @workgroup_size(64, 1, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    var x0_: f32;
    var x1_: f32;
    var x2_: f32;
    var x3_: f32;

    let _e13 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e14 = bitcast<i32>(lidx);
    let _e16 = (_e14 / 8i);
    let _e17 = (_e14 % 8i);
    let _e19 = (_e13 * 8i);
    let _e20 = (_e19 + _e16);
    let _e24 = dims[0i];
    let _e27 = ((1i * _e24) * 3i);
    x0_ = 0f;
    x1_ = 0f;
    x2_ = 0f;
    x3_ = 0f;
    if (_e20 < _e27) {
        let _e37 = (_e20 / 3i);
        let _e43 = (((_e20 % 3i) * 32i) + (_e17 * 4i));
        let _e50 = s0_[((_e37 * 96i) + (_e43 + 0i))];
        x0_ = _e50;
        let _e57 = s0_[((_e37 * 96i) + (_e43 + 1i))];
        x1_ = _e57;
        let _e64 = s0_[((_e37 * 96i) + (_e43 + 2i))];
        x2_ = _e64;
        let _e71 = s0_[((_e37 * 96i) + (_e43 + 3i))];
        x3_ = _e71;
    }
    let _e72 = x0_;
    let _e73 = x1_;
    let _e74 = x2_;
    let _e75 = x3_;
    amax[_e14] = max(max(max(max(0f, abs(_e72)), abs(_e73)), abs(_e74)), abs(_e75));
    workgroupBarrier();
    let _e85 = (_e16 * 8i);
    let _e89 = amax[(_e85 + 0i)];
    let _e94 = amax[(_e85 + 1i)];
    let _e99 = amax[(_e85 + 2i)];
    let _e104 = amax[(_e85 + 3i)];
    let _e109 = amax[(_e85 + 4i)];
    let _e114 = amax[(_e85 + 5i)];
    let _e119 = amax[(_e85 + 6i)];
    let _e124 = amax[(_e85 + 7i)];
    let _e125 = max(max(max(max(max(max(max(max(0f, _e89), _e94), _e99), _e104), _e109), _e114), _e119), _e124);
    let _e130 = select(0f, (127f / _e125), (_e125 != 0f));
    let _e133 = i32(round((_e72 * _e130)));
    let _e143 = i32(round((_e73 * _e130)));
    let _e153 = i32(round((_e74 * _e130)));
    let _e163 = i32(round((_e75 * _e130)));
    let _e171 = bitcast<u32>((_e125 / 127f));
    let _e182 = (_e171 & 8388607u);
    let _e183 = bitcast<i32>(((_e171 >> 23u) & 255u));
    let _e185 = (_e183 - 112i);
    let _e190 = ((bitcast<u32>(_e185) << 10u) | (_e182 >> 13u));
    let _e192 = (_e182 & 8191u);
    let _e204 = (_e182 | 8388608u);
    let _e209 = bitcast<u32>(min((14i - _e185), 25i));
    let _e210 = (_e204 >> _e209);
    let _e212 = (1u << _e209);
    let _e214 = (_e204 & (_e212 - 1u));
    let _e215 = (_e212 >> 1u);
    words[_e14] = ((((0u | ((bitcast<u32>(_e133) & 255u) << 0u)) | ((bitcast<u32>(_e143) & 255u) << 8u)) | ((bitcast<u32>(_e153) & 255u) << 16u)) | ((bitcast<u32>(_e163) & 255u) << 24u));
    if (_e17 == 0i) {
        scales[_e16] = ((((_e171 >> 16u) & 32768u) | select(select(select((_e210 + u32(((_e214 > _e215) || ((_e214 == _e215) && ((_e210 & 1u) == 1u))))), (_e190 + u32(((_e192 > 4096u) || ((_e192 == 4096u) && ((_e190 & 1u) == 1u))))), (_e185 >= 1i)), 31744u, (_e185 >= 31i)), (31744u | select(0u, 512u, (_e182 != 0u))), (_e183 == 255i))) & 65535u);
    }
    workgroupBarrier();
    let _e249 = (min((_e27 - _e19), 8i) * 34i);
    let _e251 = (_e13 * 68i);
    let _e253 = (_e14 + 0i);
    let _e255 = (_e253 * 4i);
    if (_e255 < _e249) {
        let _e259 = (_e255 + 0i);
        let _e262 = min((_e259 / 34i), 7i);
        let _e263 = (_e259 % 34i);
        let _e265 = (_e263 < 2i);
        let _e267 = scales[_e262];
        let _e269 = max((_e263 - 2i), 0i);
        let _e276 = words[((_e262 * 8i) + (_e269 / 4i))];
        let _e292 = (_e255 + 1i);
        let _e295 = min((_e292 / 34i), 7i);
        let _e296 = (_e292 % 34i);
        let _e298 = (_e296 < 2i);
        let _e300 = scales[_e295];
        let _e302 = max((_e296 - 2i), 0i);
        let _e309 = words[((_e295 * 8i) + (_e302 / 4i))];
        let _e325 = (_e255 + 2i);
        let _e328 = min((_e325 / 34i), 7i);
        let _e329 = (_e325 % 34i);
        let _e331 = (_e329 < 2i);
        let _e333 = scales[_e328];
        let _e335 = max((_e329 - 2i), 0i);
        let _e342 = words[((_e328 * 8i) + (_e335 / 4i))];
        let _e358 = (_e255 + 3i);
        let _e361 = min((_e358 / 34i), 7i);
        let _e362 = (_e358 % 34i);
        let _e364 = (_e362 < 2i);
        let _e366 = scales[_e361];
        let _e368 = max((_e362 - 2i), 0i);
        let _e375 = words[((_e361 * 8i) + (_e368 / 4i))];
        out[(_e251 + _e253)] = ((((0u | (select(((select(_e276, _e267, _e265) >> (bitcast<u32>(select((_e269 % 4i), _e263, _e265)) * 8u)) & 255u), 0u, (_e259 >= _e249)) << 0u)) | (select(((select(_e309, _e300, _e298) >> (bitcast<u32>(select((_e302 % 4i), _e296, _e298)) * 8u)) & 255u), 0u, (_e292 >= _e249)) << 8u)) | (select(((select(_e342, _e333, _e331) >> (bitcast<u32>(select((_e335 % 4i), _e329, _e331)) * 8u)) & 255u), 0u, (_e325 >= _e249)) << 16u)) | (select(((select(_e375, _e366, _e364) >> (bitcast<u32>(select((_e368 % 4i), _e362, _e364)) * 8u)) & 255u), 0u, (_e358 >= _e249)) << 24u));
    }
    let _e393 = (_e14 + 64i);
    let _e395 = (_e393 * 4i);
    if (_e395 < _e249) {
        let _e399 = (_e395 + 0i);
        let _e402 = min((_e399 / 34i), 7i);
        let _e403 = (_e399 % 34i);
        let _e405 = (_e403 < 2i);
        let _e407 = scales[_e402];
        let _e409 = max((_e403 - 2i), 0i);
        let _e416 = words[((_e402 * 8i) + (_e409 / 4i))];
        let _e432 = (_e395 + 1i);
        let _e435 = min((_e432 / 34i), 7i);
        let _e436 = (_e432 % 34i);
        let _e438 = (_e436 < 2i);
        let _e440 = scales[_e435];
        let _e442 = max((_e436 - 2i), 0i);
        let _e449 = words[((_e435 * 8i) + (_e442 / 4i))];
        let _e465 = (_e395 + 2i);
        let _e468 = min((_e465 / 34i), 7i);
        let _e469 = (_e465 % 34i);
        let _e471 = (_e469 < 2i);
        let _e473 = scales[_e468];
        let _e475 = max((_e469 - 2i), 0i);
        let _e482 = words[((_e468 * 8i) + (_e475 / 4i))];
        let _e498 = (_e395 + 3i);
        let _e501 = min((_e498 / 34i), 7i);
        let _e502 = (_e498 % 34i);
        let _e504 = (_e502 < 2i);
        let _e506 = scales[_e501];
        let _e508 = max((_e502 - 2i), 0i);
        let _e515 = words[((_e501 * 8i) + (_e508 / 4i))];
        out[(_e251 + _e393)] = ((((0u | (select(((select(_e416, _e407, _e405) >> (bitcast<u32>(select((_e409 % 4i), _e403, _e405)) * 8u)) & 255u), 0u, (_e399 >= _e249)) << 0u)) | (select(((select(_e449, _e440, _e438) >> (bitcast<u32>(select((_e442 % 4i), _e436, _e438)) * 8u)) & 255u), 0u, (_e432 >= _e249)) << 8u)) | (select(((select(_e482, _e473, _e471) >> (bitcast<u32>(select((_e475 % 4i), _e469, _e471)) * 8u)) & 255u), 0u, (_e465 >= _e249)) << 16u)) | (select(((select(_e515, _e506, _e504) >> (bitcast<u32>(select((_e508 % 4i), _e502, _e504)) * 8u)) & 255u), 0u, (_e498 >= _e249)) << 24u));
    }
    return;
}
