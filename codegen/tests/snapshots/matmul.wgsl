@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage> s1_: array<f32>;
@group(0) @binding(2) 
var<storage, read_write> out: array<f32>;
@group(0) @binding(3) 
var<storage> dims: array<i32>;
@group(0) @binding(4) 
var<storage> s0_vectors: array<vec4<f32>>;
var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(8, 8, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    var acc: f32;
    var l8_: i32;

    let _e14 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e16 = bitcast<i32>(lid.x);
    let _e18 = bitcast<i32>(lid.y);
    acc = 0f;
    l8_ = 0i;
    loop {
        let _e24 = l8_;
        if (_e24 >= 1i) {
            break;
        }
        let _e30 = dims[0i];
        if (_e14 < ((((1i * _e30) * 32i) + 7i) / 8i)) {
            let _e41 = ((_e14 * 8i) + _e18);
            let _e48 = (((_e24 * 8i) + _e16) * 8i);
            let _e54 = ((((_e41 / 32i) * 64i) + (_e48 + 0i)) / 4i);
            let _e58 = s0_vectors[(_e54 + 0i)];
            let _e66 = s0_vectors[(_e54 + 1i)];
            let _e74 = (_e41 % 32i);
            let _e79 = s1_[(((_e48 + 0i) * 32i) + _e74)];
            let _e81 = acc;
            acc = (_e81 + (_e58.x * _e79));
            let _e89 = s1_[(((_e48 + 1i) * 32i) + _e74)];
            let _e91 = acc;
            acc = (_e91 + (_e58.y * _e89));
            let _e99 = s1_[(((_e48 + 2i) * 32i) + _e74)];
            let _e101 = acc;
            acc = (_e101 + (_e58.z * _e99));
            let _e109 = s1_[(((_e48 + 3i) * 32i) + _e74)];
            let _e111 = acc;
            acc = (_e111 + (_e58.w * _e109));
            let _e119 = s1_[(((_e48 + 4i) * 32i) + _e74)];
            let _e121 = acc;
            acc = (_e121 + (_e66.x * _e119));
            let _e129 = s1_[(((_e48 + 5i) * 32i) + _e74)];
            let _e131 = acc;
            acc = (_e131 + (_e66.y * _e129));
            let _e139 = s1_[(((_e48 + 6i) * 32i) + _e74)];
            let _e141 = acc;
            acc = (_e141 + (_e66.z * _e139));
            let _e149 = s1_[(((_e48 + 7i) * 32i) + _e74)];
            let _e151 = acc;
            acc = (_e151 + (_e66.w * _e149));
        }
        continuing {
            let _e153 = l8_;
            l8_ = (_e153 + 1i);
        }
    }
    let _e156 = acc;
    partial[lidx] = _e156;
    workgroupBarrier();
    if ((_e16 < 4i) && ((_e16 + 4i) < 8i)) {
        let _e168 = partial[lidx];
        let _e169 = partial[(lidx + 4u)];
        partial[lidx] = (_e168 + _e169);
    }
    workgroupBarrier();
    if ((_e16 < 2i) && ((_e16 + 2i) < 8i)) {
        let _e181 = partial[lidx];
        let _e182 = partial[(lidx + 2u)];
        partial[lidx] = (_e181 + _e182);
    }
    workgroupBarrier();
    if ((_e16 < 1i) && ((_e16 + 1i) < 8i)) {
        let _e194 = partial[lidx];
        let _e195 = partial[(lidx + 1u)];
        partial[lidx] = (_e194 + _e195);
    }
    workgroupBarrier();
    let _e202 = dims[0i];
    if ((_e16 == 0i) && (_e14 < ((((1i * _e202) * 32i) + 7i) / 8i))) {
        let _e213 = partial[lidx];
        let _e216 = ((_e14 * 8i) + _e18);
        out[(((_e216 / 32i) * 32i) + (_e216 % 32i))] = _e213;
    }
    workgroupBarrier();
    return;
}
