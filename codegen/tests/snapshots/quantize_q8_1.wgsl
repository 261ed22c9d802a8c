@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage, read_write> out: array<u32>;
@group(0) @binding(2) 
var<storage> dims: array<i32>;
var<workgroup> amax: array<f32, 64>;
var<workgroup> sums: array<i32, 64>;

@compute @workgroup_size(64, 1, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    var x0_: f32;
    var x1_: f32;
    var x2_: f32;
    var x3_: f32;

    let _e13 = bitcast<i32>(lidx);
    let _e15 = (_e13 / 8i);
    let _e16 = (_e13 % 8i);
    let _e19 = ((bitcast<i32>((wid.x + (wid.y * 32768u))) * 8i) + _e15);
    let _e23 = dims[0i];
    let _e27 = (_e19 < ((1i * _e23) * 2i));
    x0_ = 0f;
    x1_ = 0f;
    x2_ = 0f;
    x3_ = 0f;
    if _e27 {
        let _e36 = (_e19 / 2i);
        let _e42 = (((_e19 % 2i) * 32i) + (_e16 * 4i));
        let _e49 = s0_[((_e36 * 64i) + (_e42 + 0i))];
        x0_ = _e49;
        let _e56 = s0_[((_e36 * 64i) + (_e42 + 1i))];
        x1_ = _e56;
        let _e63 = s0_[((_e36 * 64i) + (_e42 + 2i))];
        x2_ = _e63;
        let _e70 = s0_[((_e36 * 64i) + (_e42 + 3i))];
        x3_ = _e70;
    }
    let _e71 = x0_;
    let _e72 = x1_;
    let _e73 = x2_;
    let _e74 = x3_;
    amax[_e13] = max(max(max(max(0f, abs(_e71)), abs(_e72)), abs(_e73)), abs(_e74));
    workgroupBarrier();
    let _e84 = (_e15 * 8i);
    let _e88 = amax[(_e84 + 0i)];
    let _e93 = amax[(_e84 + 1i)];
    let _e98 = amax[(_e84 + 2i)];
    let _e103 = amax[(_e84 + 3i)];
    let _e108 = amax[(_e84 + 4i)];
    let _e113 = amax[(_e84 + 5i)];
    let _e118 = amax[(_e84 + 6i)];
    let _e123 = amax[(_e84 + 7i)];
    let _e124 = max(max(max(max(max(max(max(max(0f, _e88), _e93), _e98), _e103), _e108), _e113), _e118), _e123);
    let _e126 = (_e124 / 127f);
    let _e129 = select(0f, (127f / _e124), (_e124 != 0f));
    let _e132 = i32(round((_e71 * _e129)));
    let _e142 = i32(round((_e72 * _e129)));
    let _e152 = i32(round((_e73 * _e129)));
    let _e162 = i32(round((_e74 * _e129)));
    let _e170 = bitcast<u32>(_e126);
    let _e181 = (_e170 & 8388607u);
    let _e182 = bitcast<i32>(((_e170 >> 23u) & 255u));
    let _e184 = (_e182 - 112i);
    let _e189 = ((bitcast<u32>(_e184) << 10u) | (_e181 >> 13u));
    let _e191 = (_e181 & 8191u);
    let _e203 = (_e181 | 8388608u);
    let _e208 = bitcast<u32>(min((14i - _e184), 25i));
    let _e209 = (_e203 >> _e208);
    let _e211 = (1u << _e208);
    let _e213 = (_e203 & (_e211 - 1u));
    let _e214 = (_e211 >> 1u);
    sums[_e13] = ((((0i + _e132) + _e142) + _e152) + _e162);
    workgroupBarrier();
    let _e245 = (_e19 * 9i);
    if _e27 {
        out[((_e245 + 1i) + _e16)] = ((((0u | ((bitcast<u32>(_e132) & 255u) << 0u)) | ((bitcast<u32>(_e142) & 255u) << 8u)) | ((bitcast<u32>(_e152) & 255u) << 16u)) | ((bitcast<u32>(_e162) & 255u) << 24u));
        if (_e16 == 0i) {
            let _e254 = sums[(_e84 + 0i)];
            let _e259 = sums[(_e84 + 1i)];
            let _e264 = sums[(_e84 + 2i)];
            let _e269 = sums[(_e84 + 3i)];
            let _e274 = sums[(_e84 + 4i)];
            let _e279 = sums[(_e84 + 5i)];
            let _e284 = sums[(_e84 + 6i)];
            let _e289 = sums[(_e84 + 7i)];
            let _e293 = bitcast<u32>((_e126 * f32(((((((((0i + _e254) + _e259) + _e264) + _e269) + _e274) + _e279) + _e284) + _e289))));
            let _e304 = (_e293 & 8388607u);
            let _e305 = bitcast<i32>(((_e293 >> 23u) & 255u));
            let _e307 = (_e305 - 112i);
            let _e312 = ((bitcast<u32>(_e307) << 10u) | (_e304 >> 13u));
            let _e314 = (_e304 & 8191u);
            let _e326 = (_e304 | 8388608u);
            let _e331 = bitcast<u32>(min((14i - _e307), 25i));
            let _e332 = (_e326 >> _e331);
            let _e334 = (1u << _e331);
            let _e336 = (_e326 & (_e334 - 1u));
            let _e337 = (_e334 >> 1u);
            out[_e245] = (((((_e170 >> 16u) & 32768u) | select(select(select((_e209 + u32(((_e213 > _e214) || ((_e213 == _e214) && ((_e209 & 1u) == 1u))))), (_e189 + u32(((_e191 > 4096u) || ((_e191 == 4096u) && ((_e189 & 1u) == 1u))))), (_e184 >= 1i)), 31744u, (_e184 >= 31i)), (31744u | select(0u, 512u, (_e181 != 0u))), (_e182 == 255i))) & 65535u) | ((((_e293 >> 16u) & 32768u) | select(select(select((_e332 + u32(((_e336 > _e337) || ((_e336 == _e337) && ((_e332 & 1u) == 1u))))), (_e312 + u32(((_e314 > 4096u) || ((_e314 == 4096u) && ((_e312 & 1u) == 1u))))), (_e307 >= 1i)), 31744u, (_e307 >= 31i)), (31744u | select(0u, 512u, (_e304 != 0u))), (_e305 == 255i))) << 16u));
        }
    }
    return;
}
