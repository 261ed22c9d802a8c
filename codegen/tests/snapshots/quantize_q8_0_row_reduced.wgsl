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
        let _e97 = amax[(_e15 + 32i)];
        let _e99 = amax[_e15];
        amax[_e15] = (_e99 + _e97);
    }
    workgroupBarrier();
    if (_e15 < 16i) {
        let _e105 = amax[(_e15 + 16i)];
        let _e107 = amax[_e15];
        amax[_e15] = (_e107 + _e105);
    }
    workgroupBarrier();
    if (_e15 < 8i) {
        let _e113 = amax[(_e15 + 8i)];
        let _e115 = amax[_e15];
        amax[_e15] = (_e115 + _e113);
    }
    workgroupBarrier();
    if (_e15 < 4i) {
        let _e121 = amax[(_e15 + 4i)];
        let _e123 = amax[_e15];
        amax[_e15] = (_e123 + _e121);
    }
    workgroupBarrier();
    if (_e15 < 2i) {
        let _e129 = amax[(_e15 + 2i)];
        let _e131 = amax[_e15];
        amax[_e15] = (_e131 + _e129);
    }
    workgroupBarrier();
    if (_e15 < 1i) {
        let _e137 = amax[(_e15 + 1i)];
        let _e139 = amax[_e15];
        amax[_e15] = (_e139 + _e137);
    }
    workgroupBarrier();
    let _e143 = amax[0i];
    workgroupBarrier();
    x0_ = 0f;
    x1_ = 0f;
    x2_ = 0f;
    x3_ = 0f;
    if (_e21 < _e28) {
        let _e148 = (_e21 / 8i);
        let _e154 = (((_e21 % 8i) * 32i) + (_e18 * 4i));
        let _e156 = (_e154 + 0i);
        let _e161 = s0_[((_e148 * 256i) + _e156)];
        let _e166 = (1f / sqrt((_e143 + 0.00001f)));
        let _e169 = s1_[_e156];
        x0_ = ((_e161 * _e166) * _e169);
        let _e172 = (_e154 + 1i);
        let _e177 = s0_[((_e148 * 256i) + _e172)];
        let _e180 = s1_[_e172];
        x1_ = ((_e177 * _e166) * _e180);
        let _e183 = (_e154 + 2i);
        let _e188 = s0_[((_e148 * 256i) + _e183)];
        let _e191 = s1_[_e183];
        x2_ = ((_e188 * _e166) * _e191);
        let _e194 = (_e154 + 3i);
        let _e199 = s0_[((_e148 * 256i) + _e194)];
        let _e202 = s1_[_e194];
        x3_ = ((_e199 * _e166) * _e202);
    }
    let _e204 = x0_;
    let _e205 = x1_;
    let _e206 = x2_;
    let _e207 = x3_;
    amax[_e15] = max(max(max(max(0f, abs(_e204)), abs(_e205)), abs(_e206)), abs(_e207));
    workgroupBarrier();
    let _e217 = (_e17 * 8i);
    let _e221 = amax[(_e217 + 0i)];
    let _e226 = amax[(_e217 + 1i)];
    let _e231 = amax[(_e217 + 2i)];
    let _e236 = amax[(_e217 + 3i)];
    let _e241 = amax[(_e217 + 4i)];
    let _e246 = amax[(_e217 + 5i)];
    let _e251 = amax[(_e217 + 6i)];
    let _e256 = amax[(_e217 + 7i)];
    let _e257 = max(max(max(max(max(max(max(max(0f, _e221), _e226), _e231), _e236), _e241), _e246), _e251), _e256);
    let _e262 = select(0f, (127f / _e257), (_e257 != 0f));
    let _e265 = i32(round((_e204 * _e262)));
    let _e275 = i32(round((_e205 * _e262)));
    let _e285 = i32(round((_e206 * _e262)));
    let _e295 = i32(round((_e207 * _e262)));
    let _e303 = bitcast<u32>((_e257 / 127f));
    let _e314 = (_e303 & 8388607u);
    let _e315 = bitcast<i32>(((_e303 >> 23u) & 255u));
    let _e317 = (_e315 - 112i);
    let _e322 = ((bitcast<u32>(_e317) << 10u) | (_e314 >> 13u));
    let _e324 = (_e314 & 8191u);
    let _e336 = (_e314 | 8388608u);
    let _e341 = bitcast<u32>(min((14i - _e317), 25i));
    let _e342 = (_e336 >> _e341);
    let _e344 = (1u << _e341);
    let _e346 = (_e336 & (_e344 - 1u));
    let _e347 = (_e344 >> 1u);
    words[_e15] = ((((0u | ((bitcast<u32>(_e265) & 255u) << 0u)) | ((bitcast<u32>(_e275) & 255u) << 8u)) | ((bitcast<u32>(_e285) & 255u) << 16u)) | ((bitcast<u32>(_e295) & 255u) << 24u));
    if (_e18 == 0i) {
        scales[_e17] = ((((_e303 >> 16u) & 32768u) | select(select(select((_e342 + u32(((_e346 > _e347) || ((_e346 == _e347) && ((_e342 & 1u) == 1u))))), (_e322 + u32(((_e324 > 4096u) || ((_e324 == 4096u) && ((_e322 & 1u) == 1u))))), (_e317 >= 1i)), 31744u, (_e317 >= 31i)), (31744u | select(0u, 512u, (_e314 != 0u))), (_e315 == 255i))) & 65535u);
    }
    workgroupBarrier();
    let _e381 = (min((_e28 - _e20), 8i) * 34i);
    let _e383 = (_e14 * 68i);
    let _e385 = (_e15 + 0i);
    let _e387 = (_e385 * 4i);
    if (_e387 < _e381) {
        let _e391 = (_e387 + 0i);
        let _e394 = min((_e391 / 34i), 7i);
        let _e395 = (_e391 % 34i);
        let _e397 = (_e395 < 2i);
        let _e399 = scales[_e394];
        let _e401 = max((_e395 - 2i), 0i);
        let _e408 = words[((_e394 * 8i) + (_e401 / 4i))];
        let _e424 = (_e387 + 1i);
        let _e427 = min((_e424 / 34i), 7i);
        let _e428 = (_e424 % 34i);
        let _e430 = (_e428 < 2i);
        let _e432 = scales[_e427];
        let _e434 = max((_e428 - 2i), 0i);
        let _e441 = words[((_e427 * 8i) + (_e434 / 4i))];
        let _e457 = (_e387 + 2i);
        let _e460 = min((_e457 / 34i), 7i);
        let _e461 = (_e457 % 34i);
        let _e463 = (_e461 < 2i);
        let _e465 = scales[_e460];
        let _e467 = max((_e461 - 2i), 0i);
        let _e474 = words[((_e460 * 8i) + (_e467 / 4i))];
        let _e490 = (_e387 + 3i);
        let _e493 = min((_e490 / 34i), 7i);
        let _e494 = (_e490 % 34i);
        let _e496 = (_e494 < 2i);
        let _e498 = scales[_e493];
        let _e500 = max((_e494 - 2i), 0i);
        let _e507 = words[((_e493 * 8i) + (_e500 / 4i))];
        out[(_e383 + _e385)] = ((((0u | (select(((select(_e408, _e399, _e397) >> (bitcast<u32>(select((_e401 % 4i), _e395, _e397)) * 8u)) & 255u), 0u, (_e391 >= _e381)) << 0u)) | (select(((select(_e441, _e432, _e430) >> (bitcast<u32>(select((_e434 % 4i), _e428, _e430)) * 8u)) & 255u), 0u, (_e424 >= _e381)) << 8u)) | (select(((select(_e474, _e465, _e463) >> (bitcast<u32>(select((_e467 % 4i), _e461, _e463)) * 8u)) & 255u), 0u, (_e457 >= _e381)) << 16u)) | (select(((select(_e507, _e498, _e496) >> (bitcast<u32>(select((_e500 % 4i), _e494, _e496)) * 8u)) & 255u), 0u, (_e490 >= _e381)) << 24u));
    }
    let _e525 = (_e15 + 64i);
    let _e527 = (_e525 * 4i);
    if (_e527 < _e381) {
        let _e531 = (_e527 + 0i);
        let _e534 = min((_e531 / 34i), 7i);
        let _e535 = (_e531 % 34i);
        let _e537 = (_e535 < 2i);
        let _e539 = scales[_e534];
        let _e541 = max((_e535 - 2i), 0i);
        let _e548 = words[((_e534 * 8i) + (_e541 / 4i))];
        let _e564 = (_e527 + 1i);
        let _e567 = min((_e564 / 34i), 7i);
        let _e568 = (_e564 % 34i);
        let _e570 = (_e568 < 2i);
        let _e572 = scales[_e567];
        let _e574 = max((_e568 - 2i), 0i);
        let _e581 = words[((_e567 * 8i) + (_e574 / 4i))];
        let _e597 = (_e527 + 2i);
        let _e600 = min((_e597 / 34i), 7i);
        let _e601 = (_e597 % 34i);
        let _e603 = (_e601 < 2i);
        let _e605 = scales[_e600];
        let _e607 = max((_e601 - 2i), 0i);
        let _e614 = words[((_e600 * 8i) + (_e607 / 4i))];
        let _e630 = (_e527 + 3i);
        let _e633 = min((_e630 / 34i), 7i);
        let _e634 = (_e630 % 34i);
        let _e636 = (_e634 < 2i);
        let _e638 = scales[_e633];
        let _e640 = max((_e634 - 2i), 0i);
        let _e647 = words[((_e633 * 8i) + (_e640 / 4i))];
        out[(_e383 + _e525)] = ((((0u | (select(((select(_e548, _e539, _e537) >> (bitcast<u32>(select((_e541 % 4i), _e535, _e537)) * 8u)) & 255u), 0u, (_e531 >= _e381)) << 0u)) | (select(((select(_e581, _e572, _e570) >> (bitcast<u32>(select((_e574 % 4i), _e568, _e570)) * 8u)) & 255u), 0u, (_e564 >= _e381)) << 8u)) | (select(((select(_e614, _e605, _e603) >> (bitcast<u32>(select((_e607 % 4i), _e601, _e603)) * 8u)) & 255u), 0u, (_e597 >= _e381)) << 16u)) | (select(((select(_e647, _e638, _e636) >> (bitcast<u32>(select((_e640 % 4i), _e634, _e636)) * 8u)) & 255u), 0u, (_e630 >= _e381)) << 24u));
    }
    return;
}
