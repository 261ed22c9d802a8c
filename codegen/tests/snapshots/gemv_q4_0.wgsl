@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage> s1_: array<u32>;
@group(0) @binding(2) 
var<storage, read_write> out: array<f32>;
@group(0) @binding(3) 
var<storage> dims: array<i32>;
var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64, 1, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    var acc: f32;
    var l4_: i32;

    let _e13 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e15 = bitcast<i32>(lid.x);
    acc = 0f;
    l4_ = 0i;
    loop {
        let _e21 = l4_;
        if (_e21 >= 1i) {
            break;
        }
        if (_e13 < 32i) {
            let _e34 = s0_[(((_e13 / 32i) * 64i) + ((_e21 * 64i) + _e15))];
            let _e48 = ((((((_e13 % 32i) * 64i) + ((_e21 * 64i) + _e15)) / 32i) * 18i) >> 1u);
            let _e52 = s1_[(_e48 >> 1u)];
            let _e60 = ((_e52 >> (bitcast<u32>((_e48 & 1i)) * 16u)) & 65535u);
            let _e69 = ((_e60 & 32768u) << 16u);
            let _e71 = ((_e60 >> 10u) & 31u);
            let _e72 = (_e60 & 1023u);
            let _e73 = (_e72 << 13u);
            let _e87 = (f32(_e72) * 0.000000059604645f);
            let _e120 = ((((((_e13 % 32i) * 64i) + ((_e21 * 64i) + _e15)) / 32i) * 18i) + (2i + (((((_e13 % 32i) * 64i) + ((_e21 * 64i) + _e15)) % 32i) % 16i)));
            let _e124 = s1_[(_e120 >> 2u)];
            let _e157 = acc;
            acc = (_e157 + (_e34 * (select(bitcast<f32>(select(((_e69 | ((_e71 + 112u) << 23u)) | _e73), ((_e69 | 2139095040u) | _e73), (_e71 == 31u))), select(_e87, -(_e87), (_e69 != 0u)), (_e71 == 0u)) * (f32(((bitcast<i32>(((_e124 >> (bitcast<u32>((_e120 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(((((((_e13 % 32i) * 64i) + ((_e21 * 64i) + _e15)) % 32i) / 16i) * 4i))) & 15i)) - 8f))));
        }
        continuing {
            let _e159 = l4_;
            l4_ = (_e159 + 1i);
        }
    }
    let _e162 = acc;
    partial[lidx] = _e162;
    workgroupBarrier();
    if ((_e15 < 32i) && ((_e15 + 32i) < 64i)) {
        let _e174 = partial[lidx];
        let _e175 = partial[(lidx + 32u)];
        partial[lidx] = (_e174 + _e175);
    }
    workgroupBarrier();
    if ((_e15 < 16i) && ((_e15 + 16i) < 64i)) {
        let _e187 = partial[lidx];
        let _e188 = partial[(lidx + 16u)];
        partial[lidx] = (_e187 + _e188);
    }
    workgroupBarrier();
    if ((_e15 < 8i) && ((_e15 + 8i) < 64i)) {
        let _e200 = partial[lidx];
        let _e201 = partial[(lidx + 8u)];
        partial[lidx] = (_e200 + _e201);
    }
    workgroupBarrier();
    if ((_e15 < 4i) && ((_e15 + 4i) < 64i)) {
        let _e213 = partial[lidx];
        let _e214 = partial[(lidx + 4u)];
        partial[lidx] = (_e213 + _e214);
    }
    workgroupBarrier();
    if ((_e15 < 2i) && ((_e15 + 2i) < 64i)) {
        let _e226 = partial[lidx];
        let _e227 = partial[(lidx + 2u)];
        partial[lidx] = (_e226 + _e227);
    }
    workgroupBarrier();
    if ((_e15 < 1i) && ((_e15 + 1i) < 64i)) {
        let _e239 = partial[lidx];
        let _e240 = partial[(lidx + 1u)];
        partial[lidx] = (_e239 + _e240);
    }
    workgroupBarrier();
    if ((_e15 == 0i) && (_e13 < 32i)) {
        let _e248 = partial[lidx];
        out[(((_e13 / 32i) * 32i) + (_e13 % 32i))] = _e248;
    }
    workgroupBarrier();
    return;
}
