@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage> s1_: array<f32>;
@group(0) @binding(2) 
var<storage, read_write> out: array<f32>;
@group(0) @binding(3) 
var<storage> dims: array<i32>;
var<workgroup> partials: array<f32, 64>;

@compute @workgroup_size(64, 1, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    var partial: f32;
    var reduce: i32;
    var write_: i32;

    let _e12 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e16 = dims[0i];
    if (_e12 >= (1i * _e16)) {
        return;
    }
    let _e19 = bitcast<i32>(lidx);
    partial = 0f;
    reduce = 0i;
    loop {
        let _e26 = reduce;
        if (_e26 >= 1i) {
            break;
        }
        let _e29 = ((_e26 * 576i) + _e19);
        let _e36 = s0_[((_e12 * 576i) + (_e29 + 0i))];
        let _e39 = f32(576i);
        let _e47 = s0_[((_e12 * 576i) + (_e29 + 64i))];
        let _e56 = s0_[((_e12 * 576i) + (_e29 + 128i))];
        let _e65 = s0_[((_e12 * 576i) + (_e29 + 192i))];
        let _e74 = s0_[((_e12 * 576i) + (_e29 + 256i))];
        let _e83 = s0_[((_e12 * 576i) + (_e29 + 320i))];
        let _e92 = s0_[((_e12 * 576i) + (_e29 + 384i))];
        let _e101 = s0_[((_e12 * 576i) + (_e29 + 448i))];
        let _e110 = s0_[((_e12 * 576i) + (_e29 + 512i))];
        let _e113 = partial;
        partial = (((((((((_e113 + ((_e36 * _e36) / _e39)) + ((_e47 * _e47) / _e39)) + ((_e56 * _e56) / _e39)) + ((_e65 * _e65) / _e39)) + ((_e74 * _e74) / _e39)) + ((_e83 * _e83) / _e39)) + ((_e92 * _e92) / _e39)) + ((_e101 * _e101) / _e39)) + ((_e110 * _e110) / _e39));
        continuing {
            let _e123 = reduce;
            reduce = (_e123 + 1i);
        }
    }
    let _e126 = partial;
    partials[_e19] = _e126;
    workgroupBarrier();
    if (_e19 < 32i) {
        let _e132 = partials[(_e19 + 32i)];
        let _e134 = partials[_e19];
        partials[_e19] = (_e134 + _e132);
    }
    workgroupBarrier();
    if (_e19 < 16i) {
        let _e140 = partials[(_e19 + 16i)];
        let _e142 = partials[_e19];
        partials[_e19] = (_e142 + _e140);
    }
    workgroupBarrier();
    if (_e19 < 8i) {
        let _e148 = partials[(_e19 + 8i)];
        let _e150 = partials[_e19];
        partials[_e19] = (_e150 + _e148);
    }
    workgroupBarrier();
    if (_e19 < 4i) {
        let _e156 = partials[(_e19 + 4i)];
        let _e158 = partials[_e19];
        partials[_e19] = (_e158 + _e156);
    }
    workgroupBarrier();
    if (_e19 < 2i) {
        let _e164 = partials[(_e19 + 2i)];
        let _e166 = partials[_e19];
        partials[_e19] = (_e166 + _e164);
    }
    workgroupBarrier();
    if (_e19 < 1i) {
        let _e172 = partials[(_e19 + 1i)];
        let _e174 = partials[_e19];
        partials[_e19] = (_e174 + _e172);
    }
    workgroupBarrier();
    let _e178 = partials[0i];
    workgroupBarrier();
    let _e182 = (_e12 * 576i);
    write_ = 0i;
    loop {
        let _e185 = write_;
        if (_e185 >= 1i) {
            break;
        }
        let _e188 = ((_e185 * 576i) + _e19);
        let _e190 = (_e188 + 0i);
        let _e195 = s0_[((_e12 * 576i) + _e190)];
        let _e200 = (1f / sqrt((_e178 + 0.00001f)));
        let _e203 = s1_[_e190];
        out[(_e182 + _e190)] = ((_e195 * _e200) * _e203);
        let _e208 = (_e188 + 64i);
        let _e213 = s0_[((_e12 * 576i) + _e208)];
        let _e216 = s1_[_e208];
        out[(_e182 + _e208)] = ((_e213 * _e200) * _e216);
        let _e221 = (_e188 + 128i);
        let _e226 = s0_[((_e12 * 576i) + _e221)];
        let _e229 = s1_[_e221];
        out[(_e182 + _e221)] = ((_e226 * _e200) * _e229);
        let _e234 = (_e188 + 192i);
        let _e239 = s0_[((_e12 * 576i) + _e234)];
        let _e242 = s1_[_e234];
        out[(_e182 + _e234)] = ((_e239 * _e200) * _e242);
        let _e247 = (_e188 + 256i);
        let _e252 = s0_[((_e12 * 576i) + _e247)];
        let _e255 = s1_[_e247];
        out[(_e182 + _e247)] = ((_e252 * _e200) * _e255);
        let _e260 = (_e188 + 320i);
        let _e265 = s0_[((_e12 * 576i) + _e260)];
        let _e268 = s1_[_e260];
        out[(_e182 + _e260)] = ((_e265 * _e200) * _e268);
        let _e273 = (_e188 + 384i);
        let _e278 = s0_[((_e12 * 576i) + _e273)];
        let _e281 = s1_[_e273];
        out[(_e182 + _e273)] = ((_e278 * _e200) * _e281);
        let _e286 = (_e188 + 448i);
        let _e291 = s0_[((_e12 * 576i) + _e286)];
        let _e294 = s1_[_e286];
        out[(_e182 + _e286)] = ((_e291 * _e200) * _e294);
        let _e299 = (_e188 + 512i);
        let _e304 = s0_[((_e12 * 576i) + _e299)];
        let _e307 = s1_[_e299];
        out[(_e182 + _e299)] = ((_e304 * _e200) * _e307);
        continuing {
            let _e311 = write_;
            write_ = (_e311 + 1i);
        }
    }
    return;
}
