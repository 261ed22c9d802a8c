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
var<workgroup> partial: array<f32, 128>;
var<workgroup> probs: array<f32, 16>;

@compute @workgroup_size(128, 1, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    var score: f32;
    var max_: f32;
    var sum: f32;
    var key_tiles: i32;
    var dot_: f32;
    var acc0_: f32;
    var value_tiles: i32;
    var dot_1: f32;
    var key: i32;

    let _e15 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e19 = dims[1i];
    if (_e15 >= (4i * _e19)) {
        return;
    }
    let _e23 = (_e15 % 4i);
    let _e24 = (_e15 / 4i);
    let _e25 = bitcast<i32>(lidx);
    let _e28 = (_e25 + 0i);
    if (_e28 < 64i) {
        let _e37 = s0_[((((_e24 * 4i) + _e23) * 64i) + _e28)];
        let _e38 = bitcast<u32>(_e37);
        let _e49 = (_e38 & 8388607u);
        let _e50 = bitcast<i32>(((_e38 >> 23u) & 255u));
        let _e52 = (_e50 - 112i);
        let _e57 = ((bitcast<u32>(_e52) << 10u) | (_e49 >> 13u));
        let _e59 = (_e49 & 8191u);
        let _e71 = (_e49 | 8388608u);
        let _e76 = bitcast<u32>(min((14i - _e52), 25i));
        let _e77 = (_e71 >> _e76);
        let _e79 = (1u << _e76);
        let _e81 = (_e71 & (_e79 - 1u));
        let _e82 = (_e79 >> 1u);
        let _e107 = (((_e38 >> 16u) & 32768u) | select(select(select((_e77 + u32(((_e81 > _e82) || ((_e81 == _e82) && ((_e77 & 1u) == 1u))))), (_e57 + u32(((_e59 > 4096u) || ((_e59 == 4096u) && ((_e57 & 1u) == 1u))))), (_e52 >= 1i)), 31744u, (_e52 >= 31i)), (31744u | select(0u, 512u, (_e49 != 0u))), (_e50 == 255i)));
        let _e116 = ((_e107 & 32768u) << 16u);
        let _e118 = ((_e107 >> 10u) & 31u);
        let _e119 = (_e107 & 1023u);
        let _e120 = (_e119 << 13u);
        let _e134 = (f32(_e119) * 0.000000059604645f);
        query[_e28] = select(bitcast<f32>(select(((_e116 | ((_e118 + 112u) << 23u)) | _e120), ((_e116 | 2139095040u) | _e120), (_e118 == 31u))), select(_e134, -(_e134), (_e116 != 0u)), (_e118 == 0u));
    }
    workgroupBarrier();
    let _e145 = dims[0i];
    let _e146 = (1i * _e145);
    let _e150 = ((_e146 + 15i) / 16i);
    let _e153 = bitcast<f32>(4286578688u);
    let _e155 = (_e25 / 8i);
    let _e156 = (_e25 % 8i);
    let _e158 = (_e156 == 0i);
    score = bitcast<f32>(4286578688u);
    max_ = bitcast<f32>(4286578688u);
    sum = 0f;
    key_tiles = 0i;
    loop {
        let _e169 = key_tiles;
        if (_e169 >= _e150) {
            break;
        }
        let _e172 = ((_e169 * 16i) + _e155);
        let _e173 = (_e172 < _e146);
        dot_ = 0f;
        if _e173 {
            let _e177 = (_e156 * 8i);
            let _e179 = (_e177 + 0i);
            let _e181 = (_e23 / 2i);
            let _e187 = ((((_e172 * 2i) + _e181) * 64i) + _e179);
            let _e191 = s1_[(_e187 >> 1u)];
            let _e199 = ((_e191 >> (bitcast<u32>((_e187 & 1i)) * 16u)) & 65535u);
            let _e208 = ((_e199 & 32768u) << 16u);
            let _e210 = ((_e199 >> 10u) & 31u);
            let _e211 = (_e199 & 1023u);
            let _e212 = (_e211 << 13u);
            let _e226 = (f32(_e211) * 0.000000059604645f);
            let _e234 = query[_e179];
            let _e236 = dot_;
            dot_ = (_e236 + (_e234 * select(bitcast<f32>(select(((_e208 | ((_e210 + 112u) << 23u)) | _e212), ((_e208 | 2139095040u) | _e212), (_e210 == 31u))), select(_e226, -(_e226), (_e208 != 0u)), (_e210 == 0u))));
            let _e239 = (_e177 + 1i);
            let _e245 = ((((_e172 * 2i) + _e181) * 64i) + _e239);
            let _e249 = s1_[(_e245 >> 1u)];
            let _e257 = ((_e249 >> (bitcast<u32>((_e245 & 1i)) * 16u)) & 65535u);
            let _e266 = ((_e257 & 32768u) << 16u);
            let _e268 = ((_e257 >> 10u) & 31u);
            let _e269 = (_e257 & 1023u);
            let _e270 = (_e269 << 13u);
            let _e284 = (f32(_e269) * 0.000000059604645f);
            let _e292 = query[_e239];
            let _e294 = dot_;
            dot_ = (_e294 + (_e292 * select(bitcast<f32>(select(((_e266 | ((_e268 + 112u) << 23u)) | _e270), ((_e266 | 2139095040u) | _e270), (_e268 == 31u))), select(_e284, -(_e284), (_e266 != 0u)), (_e268 == 0u))));
            let _e297 = (_e177 + 2i);
            let _e303 = ((((_e172 * 2i) + _e181) * 64i) + _e297);
            let _e307 = s1_[(_e303 >> 1u)];
            let _e315 = ((_e307 >> (bitcast<u32>((_e303 & 1i)) * 16u)) & 65535u);
            let _e324 = ((_e315 & 32768u) << 16u);
            let _e326 = ((_e315 >> 10u) & 31u);
            let _e327 = (_e315 & 1023u);
            let _e328 = (_e327 << 13u);
            let _e342 = (f32(_e327) * 0.000000059604645f);
            let _e350 = query[_e297];
            let _e352 = dot_;
            dot_ = (_e352 + (_e350 * select(bitcast<f32>(select(((_e324 | ((_e326 + 112u) << 23u)) | _e328), ((_e324 | 2139095040u) | _e328), (_e326 == 31u))), select(_e342, -(_e342), (_e324 != 0u)), (_e326 == 0u))));
            let _e355 = (_e177 + 3i);
            let _e361 = ((((_e172 * 2i) + _e181) * 64i) + _e355);
            let _e365 = s1_[(_e361 >> 1u)];
            let _e373 = ((_e365 >> (bitcast<u32>((_e361 & 1i)) * 16u)) & 65535u);
            let _e382 = ((_e373 & 32768u) << 16u);
            let _e384 = ((_e373 >> 10u) & 31u);
            let _e385 = (_e373 & 1023u);
            let _e386 = (_e385 << 13u);
            let _e400 = (f32(_e385) * 0.000000059604645f);
            let _e408 = query[_e355];
            let _e410 = dot_;
            dot_ = (_e410 + (_e408 * select(bitcast<f32>(select(((_e382 | ((_e384 + 112u) << 23u)) | _e386), ((_e382 | 2139095040u) | _e386), (_e384 == 31u))), select(_e400, -(_e400), (_e382 != 0u)), (_e384 == 0u))));
            let _e413 = (_e177 + 4i);
            let _e419 = ((((_e172 * 2i) + _e181) * 64i) + _e413);
            let _e423 = s1_[(_e419 >> 1u)];
            let _e431 = ((_e423 >> (bitcast<u32>((_e419 & 1i)) * 16u)) & 65535u);
            let _e440 = ((_e431 & 32768u) << 16u);
            let _e442 = ((_e431 >> 10u) & 31u);
            let _e443 = (_e431 & 1023u);
            let _e444 = (_e443 << 13u);
            let _e458 = (f32(_e443) * 0.000000059604645f);
            let _e466 = query[_e413];
            let _e468 = dot_;
            dot_ = (_e468 + (_e466 * select(bitcast<f32>(select(((_e440 | ((_e442 + 112u) << 23u)) | _e444), ((_e440 | 2139095040u) | _e444), (_e442 == 31u))), select(_e458, -(_e458), (_e440 != 0u)), (_e442 == 0u))));
            let _e471 = (_e177 + 5i);
            let _e477 = ((((_e172 * 2i) + _e181) * 64i) + _e471);
            let _e481 = s1_[(_e477 >> 1u)];
            let _e489 = ((_e481 >> (bitcast<u32>((_e477 & 1i)) * 16u)) & 65535u);
            let _e498 = ((_e489 & 32768u) << 16u);
            let _e500 = ((_e489 >> 10u) & 31u);
            let _e501 = (_e489 & 1023u);
            let _e502 = (_e501 << 13u);
            let _e516 = (f32(_e501) * 0.000000059604645f);
            let _e524 = query[_e471];
            let _e526 = dot_;
            dot_ = (_e526 + (_e524 * select(bitcast<f32>(select(((_e498 | ((_e500 + 112u) << 23u)) | _e502), ((_e498 | 2139095040u) | _e502), (_e500 == 31u))), select(_e516, -(_e516), (_e498 != 0u)), (_e500 == 0u))));
            let _e529 = (_e177 + 6i);
            let _e535 = ((((_e172 * 2i) + _e181) * 64i) + _e529);
            let _e539 = s1_[(_e535 >> 1u)];
            let _e547 = ((_e539 >> (bitcast<u32>((_e535 & 1i)) * 16u)) & 65535u);
            let _e556 = ((_e547 & 32768u) << 16u);
            let _e558 = ((_e547 >> 10u) & 31u);
            let _e559 = (_e547 & 1023u);
            let _e560 = (_e559 << 13u);
            let _e574 = (f32(_e559) * 0.000000059604645f);
            let _e582 = query[_e529];
            let _e584 = dot_;
            dot_ = (_e584 + (_e582 * select(bitcast<f32>(select(((_e556 | ((_e558 + 112u) << 23u)) | _e560), ((_e556 | 2139095040u) | _e560), (_e558 == 31u))), select(_e574, -(_e574), (_e556 != 0u)), (_e558 == 0u))));
            let _e587 = (_e177 + 7i);
            let _e593 = ((((_e172 * 2i) + _e181) * 64i) + _e587);
            let _e597 = s1_[(_e593 >> 1u)];
            let _e605 = ((_e597 >> (bitcast<u32>((_e593 & 1i)) * 16u)) & 65535u);
            let _e614 = ((_e605 & 32768u) << 16u);
            let _e616 = ((_e605 >> 10u) & 31u);
            let _e617 = (_e605 & 1023u);
            let _e618 = (_e617 << 13u);
            let _e632 = (f32(_e617) * 0.000000059604645f);
            let _e640 = query[_e587];
            let _e642 = dot_;
            dot_ = (_e642 + (_e640 * select(bitcast<f32>(select(((_e614 | ((_e616 + 112u) << 23u)) | _e618), ((_e614 | 2139095040u) | _e618), (_e616 == 31u))), select(_e632, -(_e632), (_e614 != 0u)), (_e616 == 0u))));
        }
        let _e645 = dot_;
        partial[_e25] = _e645;
        workgroupBarrier();
        score = _e153;
        if (_e158 && _e173) {
            let _e648 = partial[_e25];
            let _e652 = partial[(_e25 + 1i)];
            let _e657 = partial[(_e25 + 2i)];
            let _e662 = partial[(_e25 + 3i)];
            let _e667 = partial[(_e25 + 4i)];
            let _e672 = partial[(_e25 + 5i)];
            let _e677 = partial[(_e25 + 6i)];
            let _e682 = partial[(_e25 + 7i)];
            let _e688 = dims[0i];
            let _e693 = dims[1i];
            score = select(_e153, ((((((((_e648 + _e652) + _e657) + _e662) + _e667) + _e672) + _e677) + _e682) * 0.125f), (i32((_e172 <= (((1i * _e688) + (-1i * _e693)) + _e24))) != 0i));
        }
        workgroupBarrier();
        let _e702 = score;
        if (_e702 > _e153) {
            let _e704 = max_;
            let _e705 = max(_e704, _e702);
            let _e708 = sum;
            sum = ((_e708 * exp((_e704 - _e705))) + exp((_e702 - _e705)));
            max_ = _e705;
        }
        continuing {
            let _e713 = key_tiles;
            key_tiles = (_e713 + 1i);
        }
    }
    let _e716 = max_;
    partial[_e25] = _e716;
    workgroupBarrier();
    if (_e25 < 64i) {
        let _e722 = partial[(_e25 + 64i)];
        let _e724 = partial[_e25];
        partial[_e25] = max(_e724, _e722);
    }
    workgroupBarrier();
    if (_e25 < 32i) {
        let _e730 = partial[(_e25 + 32i)];
        let _e732 = partial[_e25];
        partial[_e25] = max(_e732, _e730);
    }
    workgroupBarrier();
    if (_e25 < 16i) {
        let _e738 = partial[(_e25 + 16i)];
        let _e740 = partial[_e25];
        partial[_e25] = max(_e740, _e738);
    }
    workgroupBarrier();
    if (_e25 < 8i) {
        let _e746 = partial[(_e25 + 8i)];
        let _e748 = partial[_e25];
        partial[_e25] = max(_e748, _e746);
    }
    workgroupBarrier();
    if (_e25 < 4i) {
        let _e754 = partial[(_e25 + 4i)];
        let _e756 = partial[_e25];
        partial[_e25] = max(_e756, _e754);
    }
    workgroupBarrier();
    if (_e25 < 2i) {
        let _e762 = partial[(_e25 + 2i)];
        let _e764 = partial[_e25];
        partial[_e25] = max(_e764, _e762);
    }
    workgroupBarrier();
    if (_e25 < 1i) {
        let _e770 = partial[(_e25 + 1i)];
        let _e772 = partial[_e25];
        partial[_e25] = max(_e772, _e770);
    }
    workgroupBarrier();
    let _e775 = partial[0i];
    workgroupBarrier();
    let _e776 = sum;
    partial[_e25] = select((_e776 * exp((_e716 - _e775))), 0f, (_e776 == 0f));
    workgroupBarrier();
    if (_e25 < 64i) {
        let _e788 = partial[(_e25 + 64i)];
        let _e790 = partial[_e25];
        partial[_e25] = (_e790 + _e788);
    }
    workgroupBarrier();
    if (_e25 < 32i) {
        let _e796 = partial[(_e25 + 32i)];
        let _e798 = partial[_e25];
        partial[_e25] = (_e798 + _e796);
    }
    workgroupBarrier();
    if (_e25 < 16i) {
        let _e804 = partial[(_e25 + 16i)];
        let _e806 = partial[_e25];
        partial[_e25] = (_e806 + _e804);
    }
    workgroupBarrier();
    if (_e25 < 8i) {
        let _e812 = partial[(_e25 + 8i)];
        let _e814 = partial[_e25];
        partial[_e25] = (_e814 + _e812);
    }
    workgroupBarrier();
    if (_e25 < 4i) {
        let _e820 = partial[(_e25 + 4i)];
        let _e822 = partial[_e25];
        partial[_e25] = (_e822 + _e820);
    }
    workgroupBarrier();
    if (_e25 < 2i) {
        let _e828 = partial[(_e25 + 2i)];
        let _e830 = partial[_e25];
        partial[_e25] = (_e830 + _e828);
    }
    workgroupBarrier();
    if (_e25 < 1i) {
        let _e836 = partial[(_e25 + 1i)];
        let _e838 = partial[_e25];
        partial[_e25] = (_e838 + _e836);
    }
    workgroupBarrier();
    let _e841 = partial[0i];
    workgroupBarrier();
    acc0_ = 0f;
    let _e848 = (_e25 / 64i);
    value_tiles = 0i;
    loop {
        let _e851 = value_tiles;
        if (_e851 >= _e150) {
            break;
        }
        let _e853 = (_e851 * 16i);
        let _e854 = (_e853 + _e155);
        let _e855 = (_e854 < _e146);
        dot_1 = 0f;
        if _e855 {
            let _e859 = (_e156 * 8i);
            let _e861 = (_e859 + 0i);
            let _e863 = (_e23 / 2i);
            let _e869 = ((((_e854 * 2i) + _e863) * 64i) + _e861);
            let _e873 = s1_[(_e869 >> 1u)];
            let _e881 = ((_e873 >> (bitcast<u32>((_e869 & 1i)) * 16u)) & 65535u);
            let _e890 = ((_e881 & 32768u) << 16u);
            let _e892 = ((_e881 >> 10u) & 31u);
            let _e893 = (_e881 & 1023u);
            let _e894 = (_e893 << 13u);
            let _e908 = (f32(_e893) * 0.000000059604645f);
            let _e916 = query[_e861];
            let _e918 = dot_1;
            dot_1 = (_e918 + (_e916 * select(bitcast<f32>(select(((_e890 | ((_e892 + 112u) << 23u)) | _e894), ((_e890 | 2139095040u) | _e894), (_e892 == 31u))), select(_e908, -(_e908), (_e890 != 0u)), (_e892 == 0u))));
            let _e921 = (_e859 + 1i);
            let _e927 = ((((_e854 * 2i) + _e863) * 64i) + _e921);
            let _e931 = s1_[(_e927 >> 1u)];
            let _e939 = ((_e931 >> (bitcast<u32>((_e927 & 1i)) * 16u)) & 65535u);
            let _e948 = ((_e939 & 32768u) << 16u);
            let _e950 = ((_e939 >> 10u) & 31u);
            let _e951 = (_e939 & 1023u);
            let _e952 = (_e951 << 13u);
            let _e966 = (f32(_e951) * 0.000000059604645f);
            let _e974 = query[_e921];
            let _e976 = dot_1;
            dot_1 = (_e976 + (_e974 * select(bitcast<f32>(select(((_e948 | ((_e950 + 112u) << 23u)) | _e952), ((_e948 | 2139095040u) | _e952), (_e950 == 31u))), select(_e966, -(_e966), (_e948 != 0u)), (_e950 == 0u))));
            let _e979 = (_e859 + 2i);
            let _e985 = ((((_e854 * 2i) + _e863) * 64i) + _e979);
            let _e989 = s1_[(_e985 >> 1u)];
            let _e997 = ((_e989 >> (bitcast<u32>((_e985 & 1i)) * 16u)) & 65535u);
            let _e1006 = ((_e997 & 32768u) << 16u);
            let _e1008 = ((_e997 >> 10u) & 31u);
            let _e1009 = (_e997 & 1023u);
            let _e1010 = (_e1009 << 13u);
            let _e1024 = (f32(_e1009) * 0.000000059604645f);
            let _e1032 = query[_e979];
            let _e1034 = dot_1;
            dot_1 = (_e1034 + (_e1032 * select(bitcast<f32>(select(((_e1006 | ((_e1008 + 112u) << 23u)) | _e1010), ((_e1006 | 2139095040u) | _e1010), (_e1008 == 31u))), select(_e1024, -(_e1024), (_e1006 != 0u)), (_e1008 == 0u))));
            let _e1037 = (_e859 + 3i);
            let _e1043 = ((((_e854 * 2i) + _e863) * 64i) + _e1037);
            let _e1047 = s1_[(_e1043 >> 1u)];
            let _e1055 = ((_e1047 >> (bitcast<u32>((_e1043 & 1i)) * 16u)) & 65535u);
            let _e1064 = ((_e1055 & 32768u) << 16u);
            let _e1066 = ((_e1055 >> 10u) & 31u);
            let _e1067 = (_e1055 & 1023u);
            let _e1068 = (_e1067 << 13u);
            let _e1082 = (f32(_e1067) * 0.000000059604645f);
            let _e1090 = query[_e1037];
            let _e1092 = dot_1;
            dot_1 = (_e1092 + (_e1090 * select(bitcast<f32>(select(((_e1064 | ((_e1066 + 112u) << 23u)) | _e1068), ((_e1064 | 2139095040u) | _e1068), (_e1066 == 31u))), select(_e1082, -(_e1082), (_e1064 != 0u)), (_e1066 == 0u))));
            let _e1095 = (_e859 + 4i);
            let _e1101 = ((((_e854 * 2i) + _e863) * 64i) + _e1095);
            let _e1105 = s1_[(_e1101 >> 1u)];
            let _e1113 = ((_e1105 >> (bitcast<u32>((_e1101 & 1i)) * 16u)) & 65535u);
            let _e1122 = ((_e1113 & 32768u) << 16u);
            let _e1124 = ((_e1113 >> 10u) & 31u);
            let _e1125 = (_e1113 & 1023u);
            let _e1126 = (_e1125 << 13u);
            let _e1140 = (f32(_e1125) * 0.000000059604645f);
            let _e1148 = query[_e1095];
            let _e1150 = dot_1;
            dot_1 = (_e1150 + (_e1148 * select(bitcast<f32>(select(((_e1122 | ((_e1124 + 112u) << 23u)) | _e1126), ((_e1122 | 2139095040u) | _e1126), (_e1124 == 31u))), select(_e1140, -(_e1140), (_e1122 != 0u)), (_e1124 == 0u))));
            let _e1153 = (_e859 + 5i);
            let _e1159 = ((((_e854 * 2i) + _e863) * 64i) + _e1153);
            let _e1163 = s1_[(_e1159 >> 1u)];
            let _e1171 = ((_e1163 >> (bitcast<u32>((_e1159 & 1i)) * 16u)) & 65535u);
            let _e1180 = ((_e1171 & 32768u) << 16u);
            let _e1182 = ((_e1171 >> 10u) & 31u);
            let _e1183 = (_e1171 & 1023u);
            let _e1184 = (_e1183 << 13u);
            let _e1198 = (f32(_e1183) * 0.000000059604645f);
            let _e1206 = query[_e1153];
            let _e1208 = dot_1;
            dot_1 = (_e1208 + (_e1206 * select(bitcast<f32>(select(((_e1180 | ((_e1182 + 112u) << 23u)) | _e1184), ((_e1180 | 2139095040u) | _e1184), (_e1182 == 31u))), select(_e1198, -(_e1198), (_e1180 != 0u)), (_e1182 == 0u))));
            let _e1211 = (_e859 + 6i);
            let _e1217 = ((((_e854 * 2i) + _e863) * 64i) + _e1211);
            let _e1221 = s1_[(_e1217 >> 1u)];
            let _e1229 = ((_e1221 >> (bitcast<u32>((_e1217 & 1i)) * 16u)) & 65535u);
            let _e1238 = ((_e1229 & 32768u) << 16u);
            let _e1240 = ((_e1229 >> 10u) & 31u);
            let _e1241 = (_e1229 & 1023u);
            let _e1242 = (_e1241 << 13u);
            let _e1256 = (f32(_e1241) * 0.000000059604645f);
            let _e1264 = query[_e1211];
            let _e1266 = dot_1;
            dot_1 = (_e1266 + (_e1264 * select(bitcast<f32>(select(((_e1238 | ((_e1240 + 112u) << 23u)) | _e1242), ((_e1238 | 2139095040u) | _e1242), (_e1240 == 31u))), select(_e1256, -(_e1256), (_e1238 != 0u)), (_e1240 == 0u))));
            let _e1269 = (_e859 + 7i);
            let _e1275 = ((((_e854 * 2i) + _e863) * 64i) + _e1269);
            let _e1279 = s1_[(_e1275 >> 1u)];
            let _e1287 = ((_e1279 >> (bitcast<u32>((_e1275 & 1i)) * 16u)) & 65535u);
            let _e1296 = ((_e1287 & 32768u) << 16u);
            let _e1298 = ((_e1287 >> 10u) & 31u);
            let _e1299 = (_e1287 & 1023u);
            let _e1300 = (_e1299 << 13u);
            let _e1314 = (f32(_e1299) * 0.000000059604645f);
            let _e1322 = query[_e1269];
            let _e1324 = dot_1;
            dot_1 = (_e1324 + (_e1322 * select(bitcast<f32>(select(((_e1296 | ((_e1298 + 112u) << 23u)) | _e1300), ((_e1296 | 2139095040u) | _e1300), (_e1298 == 31u))), select(_e1314, -(_e1314), (_e1296 != 0u)), (_e1298 == 0u))));
        }
        let _e1327 = dot_1;
        partial[_e25] = _e1327;
        workgroupBarrier();
        score = _e153;
        if (_e158 && _e855) {
            let _e1330 = partial[_e25];
            let _e1334 = partial[(_e25 + 1i)];
            let _e1339 = partial[(_e25 + 2i)];
            let _e1344 = partial[(_e25 + 3i)];
            let _e1349 = partial[(_e25 + 4i)];
            let _e1354 = partial[(_e25 + 5i)];
            let _e1359 = partial[(_e25 + 6i)];
            let _e1364 = partial[(_e25 + 7i)];
            let _e1370 = dims[0i];
            let _e1375 = dims[1i];
            score = select(_e153, ((((((((_e1330 + _e1334) + _e1339) + _e1344) + _e1349) + _e1354) + _e1359) + _e1364) * 0.125f), (i32((_e854 <= (((1i * _e1370) + (-1i * _e1375)) + _e24))) != 0i));
        }
        workgroupBarrier();
        if _e158 {
            let _e1384 = score;
            let _e1388 = bitcast<u32>((exp((_e1384 - _e775)) * (1f / _e841)));
            let _e1399 = (_e1388 & 8388607u);
            let _e1400 = bitcast<i32>(((_e1388 >> 23u) & 255u));
            let _e1402 = (_e1400 - 112i);
            let _e1407 = ((bitcast<u32>(_e1402) << 10u) | (_e1399 >> 13u));
            let _e1409 = (_e1399 & 8191u);
            let _e1421 = (_e1399 | 8388608u);
            let _e1426 = bitcast<u32>(min((14i - _e1402), 25i));
            let _e1427 = (_e1421 >> _e1426);
            let _e1429 = (1u << _e1426);
            let _e1431 = (_e1421 & (_e1429 - 1u));
            let _e1432 = (_e1429 >> 1u);
            let _e1457 = (((_e1388 >> 16u) & 32768u) | select(select(select((_e1427 + u32(((_e1431 > _e1432) || ((_e1431 == _e1432) && ((_e1427 & 1u) == 1u))))), (_e1407 + u32(((_e1409 > 4096u) || ((_e1409 == 4096u) && ((_e1407 & 1u) == 1u))))), (_e1402 >= 1i)), 31744u, (_e1402 >= 31i)), (31744u | select(0u, 512u, (_e1399 != 0u))), (_e1400 == 255i)));
            let _e1466 = ((_e1457 & 32768u) << 16u);
            let _e1468 = ((_e1457 >> 10u) & 31u);
            let _e1469 = (_e1457 & 1023u);
            let _e1470 = (_e1469 << 13u);
            let _e1484 = (f32(_e1469) * 0.000000059604645f);
            probs[_e155] = select(bitcast<f32>(select(((_e1466 | ((_e1468 + 112u) << 23u)) | _e1470), ((_e1466 | 2139095040u) | _e1470), (_e1468 == 31u))), select(_e1484, -(_e1484), (_e1466 != 0u)), (_e1468 == 0u));
        }
        workgroupBarrier();
        key = 0i;
        loop {
            let _e1500 = key;
            if (_e1500 >= (((min((_e146 - _e853), 16i) - _e848) + 1i) / 2i)) {
                break;
            }
            let _e1503 = (_e848 + (_e1500 * 2i));
            let _e1505 = probs[_e1503];
            let _e1514 = (((((_e853 + _e1503) * 2i) + (_e23 / 2i)) * 64i) + (_e25 % 64i));
            let _e1518 = s2_[(_e1514 >> 1u)];
            let _e1526 = ((_e1518 >> (bitcast<u32>((_e1514 & 1i)) * 16u)) & 65535u);
            let _e1535 = ((_e1526 & 32768u) << 16u);
            let _e1537 = ((_e1526 >> 10u) & 31u);
            let _e1538 = (_e1526 & 1023u);
            let _e1539 = (_e1538 << 13u);
            let _e1553 = (f32(_e1538) * 0.000000059604645f);
            let _e1561 = acc0_;
            acc0_ = (_e1561 + (_e1505 * select(bitcast<f32>(select(((_e1535 | ((_e1537 + 112u) << 23u)) | _e1539), ((_e1535 | 2139095040u) | _e1539), (_e1537 == 31u))), select(_e1553, -(_e1553), (_e1535 != 0u)), (_e1537 == 0u))));
            continuing {
                let _e1563 = key;
                key = (_e1563 + 1i);
            }
        }
        workgroupBarrier();
        continuing {
            let _e1566 = value_tiles;
            value_tiles = (_e1566 + 1i);
        }
    }
    let _e1573 = acc0_;
    partial[_e25] = _e1573;
    workgroupBarrier();
    if (_e848 == 0i) {
        let _e1576 = partial[_e25];
        let _e1580 = partial[(_e25 + 64i)];
        out[((((_e24 * 4i) + _e23) * 64i) + _e25)] = (_e1576 + _e1580);
    }
    return;
}
