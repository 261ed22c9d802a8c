@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage> s1_: array<u32>;
@group(0) @binding(2) 
var<storage> s2_: array<u32>;
@group(0) @binding(3) 
var<storage, read_write> out: array<f32>;
@group(0) @binding(4) 
var<storage> dims: array<i32>;
var<workgroup> query: array<f32, 64>;
var<workgroup> partial: array<f32, 64>;
var<workgroup> probs: array<f32, 64>;

@compute @workgroup_size(64, 1, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    var max_: f32;
    var sum: f32;
    var keys: i32;
    var dot_: f32;
    var dim: i32;
    var acc0_: f32;
    var key_tiles: i32;
    var p: f32;
    var dot_1: f32;
    var dim_1: i32;
    var key: i32;

    let _e15 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e19 = dims[1i];
    if (_e15 >= (4i * _e19)) {
        return;
    }
    let _e23 = (_e15 % 4i);
    let _e24 = (_e15 / 4i);
    let _e25 = bitcast<i32>(lidx);
    let _e29 = (_e25 + 0i);
    if (_e29 < 64i) {
        let _e38 = s0_[((((_e24 * 4i) + _e23) * 64i) + _e29)];
        let _e39 = bitcast<u32>(_e38);
        let _e50 = (_e39 & 8388607u);
        let _e51 = bitcast<i32>(((_e39 >> 23u) & 255u));
        let _e53 = (_e51 - 112i);
        let _e58 = ((bitcast<u32>(_e53) << 10u) | (_e50 >> 13u));
        let _e60 = (_e50 & 8191u);
        let _e72 = (_e50 | 8388608u);
        let _e77 = bitcast<u32>(min((14i - _e53), 25i));
        let _e78 = (_e72 >> _e77);
        let _e80 = (1u << _e77);
        let _e82 = (_e72 & (_e80 - 1u));
        let _e83 = (_e80 >> 1u);
        let _e108 = (((_e39 >> 16u) & 32768u) | select(select(select((_e78 + u32(((_e82 > _e83) || ((_e82 == _e83) && ((_e78 & 1u) == 1u))))), (_e58 + u32(((_e60 > 4096u) || ((_e60 == 4096u) && ((_e58 & 1u) == 1u))))), (_e53 >= 1i)), 31744u, (_e53 >= 31i)), (31744u | select(0u, 512u, (_e50 != 0u))), (_e51 == 255i)));
        let _e117 = ((_e108 & 32768u) << 16u);
        let _e119 = ((_e108 >> 10u) & 31u);
        let _e120 = (_e108 & 1023u);
        let _e121 = (_e120 << 13u);
        let _e135 = (f32(_e120) * 0.000000059604645f);
        query[_e29] = select(bitcast<f32>(select(((_e117 | ((_e119 + 112u) << 23u)) | _e121), ((_e117 | 2139095040u) | _e121), (_e119 == 31u))), select(_e135, -(_e135), (_e117 != 0u)), (_e119 == 0u));
    }
    workgroupBarrier();
    let _e146 = dims[0i];
    let _e147 = (1i * _e146);
    let _e150 = ((_e147 + 63i) / 64i);
    max_ = bitcast<f32>(4286578688u);
    sum = 0f;
    keys = 0i;
    loop {
        let _e159 = keys;
        if (_e159 >= _e150) {
            break;
        }
        let _e162 = ((_e159 * 64i) + _e25);
        if (_e162 < _e147) {
            let _e167 = dims[0i];
            let _e172 = dims[1i];
            if (i32((_e162 <= (((1i * _e167) + (-1i * _e172)) + _e24))) != 0i) {
                dot_ = 0f;
                dim = 0i;
                loop {
                    let _e184 = dim;
                    if (_e184 >= 64i) {
                        break;
                    }
                    let _e193 = ((((_e162 * 2i) + (_e23 / 2i)) * 64i) + _e184);
                    let _e197 = s1_[(_e193 >> 1u)];
                    let _e205 = ((_e197 >> (bitcast<u32>((_e193 & 1i)) * 16u)) & 65535u);
                    let _e214 = ((_e205 & 32768u) << 16u);
                    let _e216 = ((_e205 >> 10u) & 31u);
                    let _e217 = (_e205 & 1023u);
                    let _e218 = (_e217 << 13u);
                    let _e232 = (f32(_e217) * 0.000000059604645f);
                    let _e240 = query[_e184];
                    let _e241 = dot_;
                    dot_ = (_e241 + (_e240 * select(bitcast<f32>(select(((_e214 | ((_e216 + 112u) << 23u)) | _e218), ((_e214 | 2139095040u) | _e218), (_e216 == 31u))), select(_e232, -(_e232), (_e214 != 0u)), (_e216 == 0u))));
                    continuing {
                        let _e244 = dim;
                        dim = (_e244 + 1i);
                    }
                }
                let _e247 = dot_;
                let _e248 = (_e247 * 0.125f);
                let _e249 = max_;
                let _e250 = max(_e249, _e248);
                let _e253 = sum;
                sum = ((_e253 * exp((_e249 - _e250))) + exp((_e248 - _e250)));
                max_ = _e250;
            }
        }
        continuing {
            let _e258 = keys;
            keys = (_e258 + 1i);
        }
    }
    let _e261 = max_;
    partial[_e25] = _e261;
    workgroupBarrier();
    if (_e25 < 32i) {
        let _e267 = partial[(_e25 + 32i)];
        let _e269 = partial[_e25];
        partial[_e25] = max(_e269, _e267);
    }
    workgroupBarrier();
    if (_e25 < 16i) {
        let _e275 = partial[(_e25 + 16i)];
        let _e277 = partial[_e25];
        partial[_e25] = max(_e277, _e275);
    }
    workgroupBarrier();
    if (_e25 < 8i) {
        let _e283 = partial[(_e25 + 8i)];
        let _e285 = partial[_e25];
        partial[_e25] = max(_e285, _e283);
    }
    workgroupBarrier();
    if (_e25 < 4i) {
        let _e291 = partial[(_e25 + 4i)];
        let _e293 = partial[_e25];
        partial[_e25] = max(_e293, _e291);
    }
    workgroupBarrier();
    if (_e25 < 2i) {
        let _e299 = partial[(_e25 + 2i)];
        let _e301 = partial[_e25];
        partial[_e25] = max(_e301, _e299);
    }
    workgroupBarrier();
    if (_e25 < 1i) {
        let _e307 = partial[(_e25 + 1i)];
        let _e309 = partial[_e25];
        partial[_e25] = max(_e309, _e307);
    }
    workgroupBarrier();
    let _e313 = partial[0i];
    workgroupBarrier();
    let _e314 = sum;
    partial[_e25] = select((_e314 * exp((_e261 - _e313))), 0f, (_e314 == 0f));
    workgroupBarrier();
    if (_e25 < 32i) {
        let _e326 = partial[(_e25 + 32i)];
        let _e328 = partial[_e25];
        partial[_e25] = (_e328 + _e326);
    }
    workgroupBarrier();
    if (_e25 < 16i) {
        let _e334 = partial[(_e25 + 16i)];
        let _e336 = partial[_e25];
        partial[_e25] = (_e336 + _e334);
    }
    workgroupBarrier();
    if (_e25 < 8i) {
        let _e342 = partial[(_e25 + 8i)];
        let _e344 = partial[_e25];
        partial[_e25] = (_e344 + _e342);
    }
    workgroupBarrier();
    if (_e25 < 4i) {
        let _e350 = partial[(_e25 + 4i)];
        let _e352 = partial[_e25];
        partial[_e25] = (_e352 + _e350);
    }
    workgroupBarrier();
    if (_e25 < 2i) {
        let _e358 = partial[(_e25 + 2i)];
        let _e360 = partial[_e25];
        partial[_e25] = (_e360 + _e358);
    }
    workgroupBarrier();
    if (_e25 < 1i) {
        let _e366 = partial[(_e25 + 1i)];
        let _e368 = partial[_e25];
        partial[_e25] = (_e368 + _e366);
    }
    workgroupBarrier();
    let _e372 = partial[0i];
    workgroupBarrier();
    acc0_ = 0f;
    key_tiles = 0i;
    loop {
        let _e379 = key_tiles;
        if (_e379 >= _e150) {
            break;
        }
        let _e382 = ((_e379 * 64i) + _e25);
        p = 0f;
        if (_e382 < _e147) {
            let _e389 = dims[0i];
            let _e394 = dims[1i];
            if (i32((_e382 <= (((1i * _e389) + (-1i * _e394)) + _e24))) != 0i) {
                dot_1 = 0f;
                dim_1 = 0i;
                loop {
                    let _e406 = dim_1;
                    if (_e406 >= 64i) {
                        break;
                    }
                    let _e415 = ((((_e382 * 2i) + (_e23 / 2i)) * 64i) + _e406);
                    let _e419 = s1_[(_e415 >> 1u)];
                    let _e427 = ((_e419 >> (bitcast<u32>((_e415 & 1i)) * 16u)) & 65535u);
                    let _e436 = ((_e427 & 32768u) << 16u);
                    let _e438 = ((_e427 >> 10u) & 31u);
                    let _e439 = (_e427 & 1023u);
                    let _e440 = (_e439 << 13u);
                    let _e454 = (f32(_e439) * 0.000000059604645f);
                    let _e462 = query[_e406];
                    let _e463 = dot_1;
                    dot_1 = (_e463 + (_e462 * select(bitcast<f32>(select(((_e436 | ((_e438 + 112u) << 23u)) | _e440), ((_e436 | 2139095040u) | _e440), (_e438 == 31u))), select(_e454, -(_e454), (_e436 != 0u)), (_e438 == 0u))));
                    continuing {
                        let _e466 = dim_1;
                        dim_1 = (_e466 + 1i);
                    }
                }
                let _e469 = dot_1;
                let _e474 = bitcast<u32>((exp(((_e469 * 0.125f) - _e313)) * (1f / _e372)));
                let _e485 = (_e474 & 8388607u);
                let _e486 = bitcast<i32>(((_e474 >> 23u) & 255u));
                let _e488 = (_e486 - 112i);
                let _e493 = ((bitcast<u32>(_e488) << 10u) | (_e485 >> 13u));
                let _e495 = (_e485 & 8191u);
                let _e507 = (_e485 | 8388608u);
                let _e512 = bitcast<u32>(min((14i - _e488), 25i));
                let _e513 = (_e507 >> _e512);
                let _e515 = (1u << _e512);
                let _e517 = (_e507 & (_e515 - 1u));
                let _e518 = (_e515 >> 1u);
                let _e543 = (((_e474 >> 16u) & 32768u) | select(select(select((_e513 + u32(((_e517 > _e518) || ((_e517 == _e518) && ((_e513 & 1u) == 1u))))), (_e493 + u32(((_e495 > 4096u) || ((_e495 == 4096u) && ((_e493 & 1u) == 1u))))), (_e488 >= 1i)), 31744u, (_e488 >= 31i)), (31744u | select(0u, 512u, (_e485 != 0u))), (_e486 == 255i)));
                let _e552 = ((_e543 & 32768u) << 16u);
                let _e554 = ((_e543 >> 10u) & 31u);
                let _e555 = (_e543 & 1023u);
                let _e556 = (_e555 << 13u);
                let _e570 = (f32(_e555) * 0.000000059604645f);
                p = select(bitcast<f32>(select(((_e552 | ((_e554 + 112u) << 23u)) | _e556), ((_e552 | 2139095040u) | _e556), (_e554 == 31u))), select(_e570, -(_e570), (_e552 != 0u)), (_e554 == 0u));
            }
        }
        let _e578 = p;
        probs[_e25] = _e578;
        workgroupBarrier();
        key = 0i;
        loop {
            let _e584 = key;
            if (_e584 >= min((_e147 - (_e379 * 64i)), 64i)) {
                break;
            }
            let _e589 = probs[_e584];
            let _e591 = (_e25 + 0i);
            if (_e591 < 64i) {
                let _e600 = ((((((_e379 * 64i) + _e584) * 2i) + (_e23 / 2i)) * 64i) + _e591);
                let _e604 = s2_[(_e600 >> 1u)];
                let _e612 = ((_e604 >> (bitcast<u32>((_e600 & 1i)) * 16u)) & 65535u);
                let _e621 = ((_e612 & 32768u) << 16u);
                let _e623 = ((_e612 >> 10u) & 31u);
                let _e624 = (_e612 & 1023u);
                let _e625 = (_e624 << 13u);
                let _e639 = (f32(_e624) * 0.000000059604645f);
                let _e647 = acc0_;
                acc0_ = (_e647 + (_e589 * select(bitcast<f32>(select(((_e621 | ((_e623 + 112u) << 23u)) | _e625), ((_e621 | 2139095040u) | _e625), (_e623 == 31u))), select(_e639, -(_e639), (_e621 != 0u)), (_e623 == 0u))));
            }
            continuing {
                let _e649 = key;
                key = (_e649 + 1i);
            }
        }
        workgroupBarrier();
        continuing {
            let _e652 = key_tiles;
            key_tiles = (_e652 + 1i);
        }
    }
    let _e656 = (_e25 + 0i);
    if (_e656 < 64i) {
        let _e662 = acc0_;
        out[((((_e24 * 4i) + _e23) * 64i) + _e656)] = _e662;
    }
    return;
}
