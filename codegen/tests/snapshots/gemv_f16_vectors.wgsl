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
@group(0) @binding(5) 
var<storage> s1_vectors: array<vec2<u32>>;
var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(32, 2, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    var acc: f32;
    var l8_: i32;

    let _e15 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e17 = bitcast<i32>(lid.x);
    let _e19 = bitcast<i32>(lid.y);
    acc = 0f;
    l8_ = 0i;
    loop {
        let _e25 = l8_;
        if (_e25 >= 2i) {
            break;
        }
        let _e31 = dims[0i];
        let _e32 = (1i * _e31);
        let _e40 = ((_e15 * 2i) + _e19);
        if ((_e15 < ((_e32 + 1i) / 2i)) && (_e40 < _e32)) {
            let _e49 = ((((_e25 * 32i) + _e17) * 4i) + 0i);
            let _e58 = s0_vectors[(((((_e40 / _e32) * 256i) + _e49) / 4i) + 0i)];
            let _e72 = s1_vectors[(((((_e40 % _e32) * 256i) + _e49) / 4i) + 0i)];
            let _e77 = ((_e72.x >> 0u) & 65535u);
            let _e86 = ((_e77 & 32768u) << 16u);
            let _e88 = ((_e77 >> 10u) & 31u);
            let _e89 = (_e77 & 1023u);
            let _e90 = (_e89 << 13u);
            let _e104 = (f32(_e89) * 0.000000059604645f);
            let _e115 = ((_e72.x >> 16u) & 65535u);
            let _e124 = ((_e115 & 32768u) << 16u);
            let _e126 = ((_e115 >> 10u) & 31u);
            let _e127 = (_e115 & 1023u);
            let _e128 = (_e127 << 13u);
            let _e142 = (f32(_e127) * 0.000000059604645f);
            let _e153 = ((_e72.y >> 0u) & 65535u);
            let _e162 = ((_e153 & 32768u) << 16u);
            let _e164 = ((_e153 >> 10u) & 31u);
            let _e165 = (_e153 & 1023u);
            let _e166 = (_e165 << 13u);
            let _e180 = (f32(_e165) * 0.000000059604645f);
            let _e191 = ((_e72.y >> 16u) & 65535u);
            let _e200 = ((_e191 & 32768u) << 16u);
            let _e202 = ((_e191 >> 10u) & 31u);
            let _e203 = (_e191 & 1023u);
            let _e204 = (_e203 << 13u);
            let _e218 = (f32(_e203) * 0.000000059604645f);
            let _e227 = acc;
            acc = (_e227 + (_e58.x * select(bitcast<f32>(select(((_e86 | ((_e88 + 112u) << 23u)) | _e90), ((_e86 | 2139095040u) | _e90), (_e88 == 31u))), select(_e104, -(_e104), (_e86 != 0u)), (_e88 == 0u))));
            let _e231 = acc;
            acc = (_e231 + (_e58.y * select(bitcast<f32>(select(((_e124 | ((_e126 + 112u) << 23u)) | _e128), ((_e124 | 2139095040u) | _e128), (_e126 == 31u))), select(_e142, -(_e142), (_e124 != 0u)), (_e126 == 0u))));
            let _e235 = acc;
            acc = (_e235 + (_e58.z * select(bitcast<f32>(select(((_e162 | ((_e164 + 112u) << 23u)) | _e166), ((_e162 | 2139095040u) | _e166), (_e164 == 31u))), select(_e180, -(_e180), (_e162 != 0u)), (_e164 == 0u))));
            let _e239 = acc;
            acc = (_e239 + (_e58.w * select(bitcast<f32>(select(((_e200 | ((_e202 + 112u) << 23u)) | _e204), ((_e200 | 2139095040u) | _e204), (_e202 == 31u))), select(_e218, -(_e218), (_e200 != 0u)), (_e202 == 0u))));
        }
        continuing {
            let _e241 = l8_;
            l8_ = (_e241 + 1i);
        }
    }
    let _e244 = acc;
    partial[lidx] = _e244;
    workgroupBarrier();
    if ((_e17 < 16i) && ((_e17 + 16i) < 32i)) {
        let _e256 = partial[lidx];
        let _e257 = partial[(lidx + 16u)];
        partial[lidx] = (_e256 + _e257);
    }
    workgroupBarrier();
    if ((_e17 < 8i) && ((_e17 + 8i) < 32i)) {
        let _e269 = partial[lidx];
        let _e270 = partial[(lidx + 8u)];
        partial[lidx] = (_e269 + _e270);
    }
    workgroupBarrier();
    if ((_e17 < 4i) && ((_e17 + 4i) < 32i)) {
        let _e282 = partial[lidx];
        let _e283 = partial[(lidx + 4u)];
        partial[lidx] = (_e282 + _e283);
    }
    workgroupBarrier();
    if ((_e17 < 2i) && ((_e17 + 2i) < 32i)) {
        let _e295 = partial[lidx];
        let _e296 = partial[(lidx + 2u)];
        partial[lidx] = (_e295 + _e296);
    }
    workgroupBarrier();
    if ((_e17 < 1i) && ((_e17 + 1i) < 32i)) {
        let _e308 = partial[lidx];
        let _e309 = partial[(lidx + 1u)];
        partial[lidx] = (_e308 + _e309);
    }
    workgroupBarrier();
    let _e316 = dims[0i];
    let _e317 = (1i * _e316);
    let _e325 = ((_e15 * 2i) + _e19);
    if ((_e17 == 0i) && ((_e15 < ((_e317 + 1i) / 2i)) && (_e325 < _e317))) {
        let _e330 = partial[lidx];
        let _e336 = dims[0i];
        out[(((_e325 / _e317) * (1i * _e336)) + (_e325 % _e317))] = _e330;
    }
    workgroupBarrier();
    return;
}
