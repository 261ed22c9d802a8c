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
    let _e13 = bitcast<i32>(lid.x);
    let _e17 = dims[0i];
    let _e32 = dims[0i];
    if ((_e11 < ((((1i * _e17) * 2i) + 63i) / 64i)) && (((_e11 * 64i) + _e13) < ((1i * _e32) * 2i))) {
        amax = 0f;
        l3_ = 0i;
        loop {
            let _e43 = l3_;
            if (_e43 >= 32i) {
                break;
            }
            let _e62 = s0_[(((((_e11 * 64i) + _e13) / 2i) * 64i) + (((((_e11 * 64i) + _e13) % 2i) * 32i) + _e43))];
            let _e64 = amax;
            amax = max(_e64, abs(_e62));
            continuing {
                let _e66 = l3_;
                l3_ = (_e66 + 1i);
            }
        }
        let _e69 = amax;
        let _e71 = (_e69 / 127f);
        let _e96 = (((((((_e11 * 64i) + _e13) / 2i) * 64i) + (((((_e11 * 64i) + _e13) % 2i) * 32i) + 0i)) / 32i) * 36i);
        qsum = 0i;
        l3_1 = 0i;
        loop {
            let _e104 = l3_1;
            if (_e104 >= 32i) {
                break;
            }
            let _e123 = s0_[(((((_e11 * 64i) + _e13) / 2i) * 64i) + (((((_e11 * 64i) + _e13) % 2i) * 32i) + _e104))];
            let _e126 = i32(round((_e123 * select(0f, (127f / _e69), (_e69 != 0f)))));
            let _e127 = qsum;
            qsum = (_e127 + _e126);
            let _e129 = ((_e96 + 4i) + _e104);
            let _e137 = (bitcast<u32>((_e129 & 3i)) * 8u);
            atomicAnd((&out[(_e129 >> 2u)]), ~((255u << _e137)));
            atomicOr((&out[(_e129 >> 2u)]), ((bitcast<u32>(_e126) & 255u) << _e137));
            continuing {
                let _e144 = l3_1;
                l3_1 = (_e144 + 1i);
            }
        }
        let _e147 = bitcast<u32>(_e71);
        let _e158 = (_e147 & 8388607u);
        let _e159 = bitcast<i32>(((_e147 >> 23u) & 255u));
        let _e161 = (_e159 - 112i);
        let _e166 = ((bitcast<u32>(_e161) << 10u) | (_e158 >> 13u));
        let _e168 = (_e158 & 8191u);
        let _e180 = (_e158 | 8388608u);
        let _e185 = bitcast<u32>(min((14i - _e161), 25i));
        let _e186 = (_e180 >> _e185);
        let _e188 = (1u << _e185);
        let _e190 = (_e180 & (_e188 - 1u));
        let _e191 = (_e188 >> 1u);
        let _e223 = (bitcast<u32>((_e96 & 3i)) * 8u);
        atomicAnd((&out[(_e96 >> 2u)]), ~((65535u << _e223)));
        atomicOr((&out[(_e96 >> 2u)]), (((((_e147 >> 16u) & 32768u) | select(select(select((_e186 + u32(((_e190 > _e191) || ((_e190 == _e191) && ((_e186 & 1u) == 1u))))), (_e166 + u32(((_e168 > 4096u) || ((_e168 == 4096u) && ((_e166 & 1u) == 1u))))), (_e161 >= 1i)), 31744u, (_e161 >= 31i)), (31744u | select(0u, 512u, (_e158 != 0u))), (_e159 == 255i))) & 65535u) << _e223));
        let _e230 = qsum;
        let _e233 = bitcast<u32>((_e71 * f32(_e230)));
        let _e244 = (_e233 & 8388607u);
        let _e245 = bitcast<i32>(((_e233 >> 23u) & 255u));
        let _e247 = (_e245 - 112i);
        let _e252 = ((bitcast<u32>(_e247) << 10u) | (_e244 >> 13u));
        let _e254 = (_e244 & 8191u);
        let _e266 = (_e244 | 8388608u);
        let _e271 = bitcast<u32>(min((14i - _e247), 25i));
        let _e272 = (_e266 >> _e271);
        let _e274 = (1u << _e271);
        let _e276 = (_e266 & (_e274 - 1u));
        let _e277 = (_e274 >> 1u);
        let _e304 = (_e96 + 2i);
        let _e311 = (bitcast<u32>((_e304 & 3i)) * 8u);
        atomicAnd((&out[(_e304 >> 2u)]), ~((65535u << _e311)));
        atomicOr((&out[(_e304 >> 2u)]), (((((_e233 >> 16u) & 32768u) | select(select(select((_e272 + u32(((_e276 > _e277) || ((_e276 == _e277) && ((_e272 & 1u) == 1u))))), (_e252 + u32(((_e254 > 4096u) || ((_e254 == 4096u) && ((_e252 & 1u) == 1u))))), (_e247 >= 1i)), 31744u, (_e247 >= 31i)), (31744u | select(0u, 512u, (_e244 != 0u))), (_e245 == 255i))) & 65535u) << _e311));
    }
    return;
}
