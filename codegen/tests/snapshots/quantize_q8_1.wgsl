@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage, read_write> out: array<atomic<u32>>;
@group(0) @binding(2) 
var<storage> dims: array<i32>;

@compute @workgroup_size(64, 1, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    var amax: f32;
    var l3_: i32;
    var qsum: i32;
    var l3_1: i32;

    let _e11 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e17 = dims[0i];
    let _e20 = ((1i * _e17) * 2i);
    let _e28 = ((_e11 * 64i) + bitcast<i32>(lid.x));
    if ((_e11 < ((_e20 + 63i) / 64i)) && (_e28 < _e20)) {
        amax = 0f;
        l3_ = 0i;
        loop {
            let _e36 = l3_;
            if (_e36 >= 32i) {
                break;
            }
            let _e49 = s0_[(((_e28 / 2i) * 64i) + (((_e28 % 2i) * 32i) + _e36))];
            let _e51 = amax;
            amax = max(_e51, abs(_e49));
            continuing {
                let _e53 = l3_;
                l3_ = (_e53 + 1i);
            }
        }
        let _e56 = amax;
        let _e58 = (_e56 / 127f);
        let _e65 = (_e28 / 2i);
        let _e69 = ((_e28 % 2i) * 32i);
        let _e77 = ((((_e65 * 64i) + (_e69 + 0i)) / 32i) * 36i);
        qsum = 0i;
        l3_1 = 0i;
        loop {
            let _e85 = l3_1;
            if (_e85 >= 32i) {
                break;
            }
            let _e92 = s0_[((_e65 * 64i) + (_e69 + _e85))];
            let _e95 = i32(round((_e92 * select(0f, (127f / _e56), (_e56 != 0f)))));
            let _e96 = qsum;
            qsum = (_e96 + _e95);
            let _e98 = ((_e77 + 4i) + _e85);
            let _e106 = (bitcast<u32>((_e98 & 3i)) * 8u);
            atomicAnd((&out[(_e98 >> 2u)]), ~((255u << _e106)));
            atomicOr((&out[(_e98 >> 2u)]), ((bitcast<u32>(_e95) & 255u) << _e106));
            continuing {
                let _e113 = l3_1;
                l3_1 = (_e113 + 1i);
            }
        }
        let _e116 = bitcast<u32>(_e58);
        let _e127 = (_e116 & 8388607u);
        let _e128 = bitcast<i32>(((_e116 >> 23u) & 255u));
        let _e130 = (_e128 - 112i);
        let _e135 = ((bitcast<u32>(_e130) << 10u) | (_e127 >> 13u));
        let _e137 = (_e127 & 8191u);
        let _e149 = (_e127 | 8388608u);
        let _e154 = bitcast<u32>(min((14i - _e130), 25i));
        let _e155 = (_e149 >> _e154);
        let _e157 = (1u << _e154);
        let _e159 = (_e149 & (_e157 - 1u));
        let _e160 = (_e157 >> 1u);
        let _e192 = (bitcast<u32>((_e77 & 3i)) * 8u);
        atomicAnd((&out[(_e77 >> 2u)]), ~((65535u << _e192)));
        atomicOr((&out[(_e77 >> 2u)]), (((((_e116 >> 16u) & 32768u) | select(select(select((_e155 + u32(((_e159 > _e160) || ((_e159 == _e160) && ((_e155 & 1u) == 1u))))), (_e135 + u32(((_e137 > 4096u) || ((_e137 == 4096u) && ((_e135 & 1u) == 1u))))), (_e130 >= 1i)), 31744u, (_e130 >= 31i)), (31744u | select(0u, 512u, (_e127 != 0u))), (_e128 == 255i))) & 65535u) << _e192));
        let _e199 = qsum;
        let _e202 = bitcast<u32>((_e58 * f32(_e199)));
        let _e213 = (_e202 & 8388607u);
        let _e214 = bitcast<i32>(((_e202 >> 23u) & 255u));
        let _e216 = (_e214 - 112i);
        let _e221 = ((bitcast<u32>(_e216) << 10u) | (_e213 >> 13u));
        let _e223 = (_e213 & 8191u);
        let _e235 = (_e213 | 8388608u);
        let _e240 = bitcast<u32>(min((14i - _e216), 25i));
        let _e241 = (_e235 >> _e240);
        let _e243 = (1u << _e240);
        let _e245 = (_e235 & (_e243 - 1u));
        let _e246 = (_e243 >> 1u);
        let _e273 = (_e77 + 2i);
        let _e280 = (bitcast<u32>((_e273 & 3i)) * 8u);
        atomicAnd((&out[(_e273 >> 2u)]), ~((65535u << _e280)));
        atomicOr((&out[(_e273 >> 2u)]), (((((_e202 >> 16u) & 32768u) | select(select(select((_e241 + u32(((_e245 > _e246) || ((_e245 == _e246) && ((_e241 & 1u) == 1u))))), (_e221 + u32(((_e223 > 4096u) || ((_e223 == 4096u) && ((_e221 & 1u) == 1u))))), (_e216 >= 1i)), 31744u, (_e216 >= 31i)), (31744u | select(0u, 512u, (_e213 != 0u))), (_e214 == 255i))) & 65535u) << _e280));
    }
    return;
}
