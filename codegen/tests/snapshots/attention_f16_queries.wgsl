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
var<workgroup> query: array<f32, 16>;
var<workgroup> partial: array<f32, 256>;
var<workgroup> scores: array<f32, 2048>;

@compute @workgroup_size(256, 1, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    var acc0_: f32;
    var max_: f32;
    var sum: f32;
    var score_blocks: i32;
    var round_: i32;
    var dot_: f32;
    var value_blocks: i32;
    var round_1: i32;
    var x: f32;
    var dot_1: f32;
    var key: i32;

    let _e15 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e19 = dims[1i];
    if (_e15 >= (4i * _e19)) {
        return;
    }
    let _e25 = (_e15 % 4i);
    let _e26 = (_e15 / 4i);
    let _e27 = bitcast<i32>(lidx);
    let _e32 = dims[0i];
    let _e33 = (1i * _e32);
    let _e37 = bitcast<f32>(4286578688u);
    let _e43 = (_e27 + 0i);
    if (_e43 < 16i) {
        let _e52 = s0_[((((_e26 * 4i) + _e25) * 16i) + _e43)];
        let _e53 = bitcast<u32>(_e52);
        let _e64 = (_e53 & 8388607u);
        let _e65 = bitcast<i32>(((_e53 >> 23u) & 255u));
        let _e67 = (_e65 - 112i);
        let _e72 = ((bitcast<u32>(_e67) << 10u) | (_e64 >> 13u));
        let _e74 = (_e64 & 8191u);
        let _e86 = (_e64 | 8388608u);
        let _e91 = bitcast<u32>(min((14i - _e67), 25i));
        let _e92 = (_e86 >> _e91);
        let _e94 = (1u << _e91);
        let _e96 = (_e86 & (_e94 - 1u));
        let _e97 = (_e94 >> 1u);
        let _e122 = (((_e53 >> 16u) & 32768u) | select(select(select((_e92 + u32(((_e96 > _e97) || ((_e96 == _e97) && ((_e92 & 1u) == 1u))))), (_e72 + u32(((_e74 > 4096u) || ((_e74 == 4096u) && ((_e72 & 1u) == 1u))))), (_e67 >= 1i)), 31744u, (_e67 >= 31i)), (31744u | select(0u, 512u, (_e64 != 0u))), (_e65 == 255i)));
        let _e131 = ((_e122 & 32768u) << 16u);
        let _e133 = ((_e122 >> 10u) & 31u);
        let _e134 = (_e122 & 1023u);
        let _e135 = (_e134 << 13u);
        let _e149 = (f32(_e134) * 0.000000059604645f);
        query[_e43] = select(bitcast<f32>(select(((_e131 | ((_e133 + 112u) << 23u)) | _e135), ((_e131 | 2139095040u) | _e135), (_e133 == 31u))), select(_e149, -(_e149), (_e131 != 0u)), (_e133 == 0u));
    }
    workgroupBarrier();
    acc0_ = 0f;
    let _e162 = (_e27 / 16i);
    max_ = bitcast<f32>(4286578688u);
    sum = 0f;
    let _e170 = ((_e33 + 2047i) / 2048i);
    score_blocks = 0i;
    loop {
        let _e175 = score_blocks;
        if (_e175 >= _e170) {
            break;
        }
        let _e177 = (_e175 * 2048i);
        round_ = 0i;
        loop {
            let _e187 = round_;
            if (_e187 >= (((min((_e33 - _e177), 2048i) - _e27) + 255i) / 256i)) {
                break;
            }
            let _e190 = ((_e187 * 256i) + _e27);
            let _e191 = ((0i + _e177) + _e190);
            dot_ = 0f;
            let _e196 = (_e25 / 2i);
            let _e202 = ((((_e191 * 2i) + _e196) * 16i) + 0i);
            let _e206 = s1_[(_e202 >> 1u)];
            let _e214 = ((_e206 >> (bitcast<u32>((_e202 & 1i)) * 16u)) & 65535u);
            let _e223 = ((_e214 & 32768u) << 16u);
            let _e225 = ((_e214 >> 10u) & 31u);
            let _e226 = (_e214 & 1023u);
            let _e227 = (_e226 << 13u);
            let _e241 = (f32(_e226) * 0.000000059604645f);
            let _e249 = query[0i];
            let _e251 = dot_;
            dot_ = (_e251 + (_e249 * select(bitcast<f32>(select(((_e223 | ((_e225 + 112u) << 23u)) | _e227), ((_e223 | 2139095040u) | _e227), (_e225 == 31u))), select(_e241, -(_e241), (_e223 != 0u)), (_e225 == 0u))));
            let _e259 = ((((_e191 * 2i) + _e196) * 16i) + 1i);
            let _e263 = s1_[(_e259 >> 1u)];
            let _e271 = ((_e263 >> (bitcast<u32>((_e259 & 1i)) * 16u)) & 65535u);
            let _e280 = ((_e271 & 32768u) << 16u);
            let _e282 = ((_e271 >> 10u) & 31u);
            let _e283 = (_e271 & 1023u);
            let _e284 = (_e283 << 13u);
            let _e298 = (f32(_e283) * 0.000000059604645f);
            let _e306 = query[1i];
            let _e308 = dot_;
            dot_ = (_e308 + (_e306 * select(bitcast<f32>(select(((_e280 | ((_e282 + 112u) << 23u)) | _e284), ((_e280 | 2139095040u) | _e284), (_e282 == 31u))), select(_e298, -(_e298), (_e280 != 0u)), (_e282 == 0u))));
            let _e316 = ((((_e191 * 2i) + _e196) * 16i) + 2i);
            let _e320 = s1_[(_e316 >> 1u)];
            let _e328 = ((_e320 >> (bitcast<u32>((_e316 & 1i)) * 16u)) & 65535u);
            let _e337 = ((_e328 & 32768u) << 16u);
            let _e339 = ((_e328 >> 10u) & 31u);
            let _e340 = (_e328 & 1023u);
            let _e341 = (_e340 << 13u);
            let _e355 = (f32(_e340) * 0.000000059604645f);
            let _e363 = query[2i];
            let _e365 = dot_;
            dot_ = (_e365 + (_e363 * select(bitcast<f32>(select(((_e337 | ((_e339 + 112u) << 23u)) | _e341), ((_e337 | 2139095040u) | _e341), (_e339 == 31u))), select(_e355, -(_e355), (_e337 != 0u)), (_e339 == 0u))));
            let _e373 = ((((_e191 * 2i) + _e196) * 16i) + 3i);
            let _e377 = s1_[(_e373 >> 1u)];
            let _e385 = ((_e377 >> (bitcast<u32>((_e373 & 1i)) * 16u)) & 65535u);
            let _e394 = ((_e385 & 32768u) << 16u);
            let _e396 = ((_e385 >> 10u) & 31u);
            let _e397 = (_e385 & 1023u);
            let _e398 = (_e397 << 13u);
            let _e412 = (f32(_e397) * 0.000000059604645f);
            let _e420 = query[3i];
            let _e422 = dot_;
            dot_ = (_e422 + (_e420 * select(bitcast<f32>(select(((_e394 | ((_e396 + 112u) << 23u)) | _e398), ((_e394 | 2139095040u) | _e398), (_e396 == 31u))), select(_e412, -(_e412), (_e394 != 0u)), (_e396 == 0u))));
            let _e430 = ((((_e191 * 2i) + _e196) * 16i) + 4i);
            let _e434 = s1_[(_e430 >> 1u)];
            let _e442 = ((_e434 >> (bitcast<u32>((_e430 & 1i)) * 16u)) & 65535u);
            let _e451 = ((_e442 & 32768u) << 16u);
            let _e453 = ((_e442 >> 10u) & 31u);
            let _e454 = (_e442 & 1023u);
            let _e455 = (_e454 << 13u);
            let _e469 = (f32(_e454) * 0.000000059604645f);
            let _e477 = query[4i];
            let _e479 = dot_;
            dot_ = (_e479 + (_e477 * select(bitcast<f32>(select(((_e451 | ((_e453 + 112u) << 23u)) | _e455), ((_e451 | 2139095040u) | _e455), (_e453 == 31u))), select(_e469, -(_e469), (_e451 != 0u)), (_e453 == 0u))));
            let _e487 = ((((_e191 * 2i) + _e196) * 16i) + 5i);
            let _e491 = s1_[(_e487 >> 1u)];
            let _e499 = ((_e491 >> (bitcast<u32>((_e487 & 1i)) * 16u)) & 65535u);
            let _e508 = ((_e499 & 32768u) << 16u);
            let _e510 = ((_e499 >> 10u) & 31u);
            let _e511 = (_e499 & 1023u);
            let _e512 = (_e511 << 13u);
            let _e526 = (f32(_e511) * 0.000000059604645f);
            let _e534 = query[5i];
            let _e536 = dot_;
            dot_ = (_e536 + (_e534 * select(bitcast<f32>(select(((_e508 | ((_e510 + 112u) << 23u)) | _e512), ((_e508 | 2139095040u) | _e512), (_e510 == 31u))), select(_e526, -(_e526), (_e508 != 0u)), (_e510 == 0u))));
            let _e544 = ((((_e191 * 2i) + _e196) * 16i) + 6i);
            let _e548 = s1_[(_e544 >> 1u)];
            let _e556 = ((_e548 >> (bitcast<u32>((_e544 & 1i)) * 16u)) & 65535u);
            let _e565 = ((_e556 & 32768u) << 16u);
            let _e567 = ((_e556 >> 10u) & 31u);
            let _e568 = (_e556 & 1023u);
            let _e569 = (_e568 << 13u);
            let _e583 = (f32(_e568) * 0.000000059604645f);
            let _e591 = query[6i];
            let _e593 = dot_;
            dot_ = (_e593 + (_e591 * select(bitcast<f32>(select(((_e565 | ((_e567 + 112u) << 23u)) | _e569), ((_e565 | 2139095040u) | _e569), (_e567 == 31u))), select(_e583, -(_e583), (_e565 != 0u)), (_e567 == 0u))));
            let _e601 = ((((_e191 * 2i) + _e196) * 16i) + 7i);
            let _e605 = s1_[(_e601 >> 1u)];
            let _e613 = ((_e605 >> (bitcast<u32>((_e601 & 1i)) * 16u)) & 65535u);
            let _e622 = ((_e613 & 32768u) << 16u);
            let _e624 = ((_e613 >> 10u) & 31u);
            let _e625 = (_e613 & 1023u);
            let _e626 = (_e625 << 13u);
            let _e640 = (f32(_e625) * 0.000000059604645f);
            let _e648 = query[7i];
            let _e650 = dot_;
            dot_ = (_e650 + (_e648 * select(bitcast<f32>(select(((_e622 | ((_e624 + 112u) << 23u)) | _e626), ((_e622 | 2139095040u) | _e626), (_e624 == 31u))), select(_e640, -(_e640), (_e622 != 0u)), (_e624 == 0u))));
            let _e658 = ((((_e191 * 2i) + _e196) * 16i) + 8i);
            let _e662 = s1_[(_e658 >> 1u)];
            let _e670 = ((_e662 >> (bitcast<u32>((_e658 & 1i)) * 16u)) & 65535u);
            let _e679 = ((_e670 & 32768u) << 16u);
            let _e681 = ((_e670 >> 10u) & 31u);
            let _e682 = (_e670 & 1023u);
            let _e683 = (_e682 << 13u);
            let _e697 = (f32(_e682) * 0.000000059604645f);
            let _e705 = query[8i];
            let _e707 = dot_;
            dot_ = (_e707 + (_e705 * select(bitcast<f32>(select(((_e679 | ((_e681 + 112u) << 23u)) | _e683), ((_e679 | 2139095040u) | _e683), (_e681 == 31u))), select(_e697, -(_e697), (_e679 != 0u)), (_e681 == 0u))));
            let _e715 = ((((_e191 * 2i) + _e196) * 16i) + 9i);
            let _e719 = s1_[(_e715 >> 1u)];
            let _e727 = ((_e719 >> (bitcast<u32>((_e715 & 1i)) * 16u)) & 65535u);
            let _e736 = ((_e727 & 32768u) << 16u);
            let _e738 = ((_e727 >> 10u) & 31u);
            let _e739 = (_e727 & 1023u);
            let _e740 = (_e739 << 13u);
            let _e754 = (f32(_e739) * 0.000000059604645f);
            let _e762 = query[9i];
            let _e764 = dot_;
            dot_ = (_e764 + (_e762 * select(bitcast<f32>(select(((_e736 | ((_e738 + 112u) << 23u)) | _e740), ((_e736 | 2139095040u) | _e740), (_e738 == 31u))), select(_e754, -(_e754), (_e736 != 0u)), (_e738 == 0u))));
            let _e772 = ((((_e191 * 2i) + _e196) * 16i) + 10i);
            let _e776 = s1_[(_e772 >> 1u)];
            let _e784 = ((_e776 >> (bitcast<u32>((_e772 & 1i)) * 16u)) & 65535u);
            let _e793 = ((_e784 & 32768u) << 16u);
            let _e795 = ((_e784 >> 10u) & 31u);
            let _e796 = (_e784 & 1023u);
            let _e797 = (_e796 << 13u);
            let _e811 = (f32(_e796) * 0.000000059604645f);
            let _e819 = query[10i];
            let _e821 = dot_;
            dot_ = (_e821 + (_e819 * select(bitcast<f32>(select(((_e793 | ((_e795 + 112u) << 23u)) | _e797), ((_e793 | 2139095040u) | _e797), (_e795 == 31u))), select(_e811, -(_e811), (_e793 != 0u)), (_e795 == 0u))));
            let _e829 = ((((_e191 * 2i) + _e196) * 16i) + 11i);
            let _e833 = s1_[(_e829 >> 1u)];
            let _e841 = ((_e833 >> (bitcast<u32>((_e829 & 1i)) * 16u)) & 65535u);
            let _e850 = ((_e841 & 32768u) << 16u);
            let _e852 = ((_e841 >> 10u) & 31u);
            let _e853 = (_e841 & 1023u);
            let _e854 = (_e853 << 13u);
            let _e868 = (f32(_e853) * 0.000000059604645f);
            let _e876 = query[11i];
            let _e878 = dot_;
            dot_ = (_e878 + (_e876 * select(bitcast<f32>(select(((_e850 | ((_e852 + 112u) << 23u)) | _e854), ((_e850 | 2139095040u) | _e854), (_e852 == 31u))), select(_e868, -(_e868), (_e850 != 0u)), (_e852 == 0u))));
            let _e886 = ((((_e191 * 2i) + _e196) * 16i) + 12i);
            let _e890 = s1_[(_e886 >> 1u)];
            let _e898 = ((_e890 >> (bitcast<u32>((_e886 & 1i)) * 16u)) & 65535u);
            let _e907 = ((_e898 & 32768u) << 16u);
            let _e909 = ((_e898 >> 10u) & 31u);
            let _e910 = (_e898 & 1023u);
            let _e911 = (_e910 << 13u);
            let _e925 = (f32(_e910) * 0.000000059604645f);
            let _e933 = query[12i];
            let _e935 = dot_;
            dot_ = (_e935 + (_e933 * select(bitcast<f32>(select(((_e907 | ((_e909 + 112u) << 23u)) | _e911), ((_e907 | 2139095040u) | _e911), (_e909 == 31u))), select(_e925, -(_e925), (_e907 != 0u)), (_e909 == 0u))));
            let _e943 = ((((_e191 * 2i) + _e196) * 16i) + 13i);
            let _e947 = s1_[(_e943 >> 1u)];
            let _e955 = ((_e947 >> (bitcast<u32>((_e943 & 1i)) * 16u)) & 65535u);
            let _e964 = ((_e955 & 32768u) << 16u);
            let _e966 = ((_e955 >> 10u) & 31u);
            let _e967 = (_e955 & 1023u);
            let _e968 = (_e967 << 13u);
            let _e982 = (f32(_e967) * 0.000000059604645f);
            let _e990 = query[13i];
            let _e992 = dot_;
            dot_ = (_e992 + (_e990 * select(bitcast<f32>(select(((_e964 | ((_e966 + 112u) << 23u)) | _e968), ((_e964 | 2139095040u) | _e968), (_e966 == 31u))), select(_e982, -(_e982), (_e964 != 0u)), (_e966 == 0u))));
            let _e1000 = ((((_e191 * 2i) + _e196) * 16i) + 14i);
            let _e1004 = s1_[(_e1000 >> 1u)];
            let _e1012 = ((_e1004 >> (bitcast<u32>((_e1000 & 1i)) * 16u)) & 65535u);
            let _e1021 = ((_e1012 & 32768u) << 16u);
            let _e1023 = ((_e1012 >> 10u) & 31u);
            let _e1024 = (_e1012 & 1023u);
            let _e1025 = (_e1024 << 13u);
            let _e1039 = (f32(_e1024) * 0.000000059604645f);
            let _e1047 = query[14i];
            let _e1049 = dot_;
            dot_ = (_e1049 + (_e1047 * select(bitcast<f32>(select(((_e1021 | ((_e1023 + 112u) << 23u)) | _e1025), ((_e1021 | 2139095040u) | _e1025), (_e1023 == 31u))), select(_e1039, -(_e1039), (_e1021 != 0u)), (_e1023 == 0u))));
            let _e1057 = ((((_e191 * 2i) + _e196) * 16i) + 15i);
            let _e1061 = s1_[(_e1057 >> 1u)];
            let _e1069 = ((_e1061 >> (bitcast<u32>((_e1057 & 1i)) * 16u)) & 65535u);
            let _e1078 = ((_e1069 & 32768u) << 16u);
            let _e1080 = ((_e1069 >> 10u) & 31u);
            let _e1081 = (_e1069 & 1023u);
            let _e1082 = (_e1081 << 13u);
            let _e1096 = (f32(_e1081) * 0.000000059604645f);
            let _e1104 = query[15i];
            let _e1106 = dot_;
            dot_ = (_e1106 + (_e1104 * select(bitcast<f32>(select(((_e1078 | ((_e1080 + 112u) << 23u)) | _e1082), ((_e1078 | 2139095040u) | _e1082), (_e1080 == 31u))), select(_e1096, -(_e1096), (_e1078 != 0u)), (_e1080 == 0u))));
            let _e1108 = dot_;
            let _e1113 = dims[0i];
            let _e1118 = dims[1i];
            let _e1126 = select(_e37, (_e1108 * 0.125f), (i32((_e191 <= (((1i * _e1113) + (-1i * _e1118)) + _e26))) != 0i));
            scores[_e190] = _e1126;
            if (_e1126 > _e37) {
                let _e1129 = max_;
                let _e1130 = max(_e1129, _e1126);
                let _e1133 = sum;
                sum = ((_e1133 * exp((_e1129 - _e1130))) + exp((_e1126 - _e1130)));
                max_ = _e1130;
            }
            continuing {
                let _e1138 = round_;
                round_ = (_e1138 + 1i);
            }
        }
        continuing {
            let _e1141 = score_blocks;
            score_blocks = (_e1141 + 1i);
        }
    }
    let _e1144 = max_;
    partial[_e27] = _e1144;
    workgroupBarrier();
    if (_e27 < 128i) {
        let _e1150 = partial[(_e27 + 128i)];
        let _e1152 = partial[_e27];
        partial[_e27] = max(_e1152, _e1150);
    }
    workgroupBarrier();
    if (_e27 < 64i) {
        let _e1158 = partial[(_e27 + 64i)];
        let _e1160 = partial[_e27];
        partial[_e27] = max(_e1160, _e1158);
    }
    workgroupBarrier();
    if (_e27 < 32i) {
        let _e1166 = partial[(_e27 + 32i)];
        let _e1168 = partial[_e27];
        partial[_e27] = max(_e1168, _e1166);
    }
    workgroupBarrier();
    if (_e27 < 16i) {
        let _e1174 = partial[(_e27 + 16i)];
        let _e1176 = partial[_e27];
        partial[_e27] = max(_e1176, _e1174);
    }
    workgroupBarrier();
    if (_e27 < 8i) {
        let _e1182 = partial[(_e27 + 8i)];
        let _e1184 = partial[_e27];
        partial[_e27] = max(_e1184, _e1182);
    }
    workgroupBarrier();
    if (_e27 < 4i) {
        let _e1190 = partial[(_e27 + 4i)];
        let _e1192 = partial[_e27];
        partial[_e27] = max(_e1192, _e1190);
    }
    workgroupBarrier();
    if (_e27 < 2i) {
        let _e1198 = partial[(_e27 + 2i)];
        let _e1200 = partial[_e27];
        partial[_e27] = max(_e1200, _e1198);
    }
    workgroupBarrier();
    if (_e27 < 1i) {
        let _e1206 = partial[(_e27 + 1i)];
        let _e1208 = partial[_e27];
        partial[_e27] = max(_e1208, _e1206);
    }
    workgroupBarrier();
    let _e1212 = partial[0i];
    workgroupBarrier();
    let _e1213 = sum;
    partial[_e27] = select((_e1213 * exp((_e1144 - _e1212))), 0f, (_e1213 == 0f));
    workgroupBarrier();
    if (_e27 < 128i) {
        let _e1224 = partial[(_e27 + 128i)];
        let _e1226 = partial[_e27];
        partial[_e27] = (_e1226 + _e1224);
    }
    workgroupBarrier();
    if (_e27 < 64i) {
        let _e1232 = partial[(_e27 + 64i)];
        let _e1234 = partial[_e27];
        partial[_e27] = (_e1234 + _e1232);
    }
    workgroupBarrier();
    if (_e27 < 32i) {
        let _e1240 = partial[(_e27 + 32i)];
        let _e1242 = partial[_e27];
        partial[_e27] = (_e1242 + _e1240);
    }
    workgroupBarrier();
    if (_e27 < 16i) {
        let _e1248 = partial[(_e27 + 16i)];
        let _e1250 = partial[_e27];
        partial[_e27] = (_e1250 + _e1248);
    }
    workgroupBarrier();
    if (_e27 < 8i) {
        let _e1256 = partial[(_e27 + 8i)];
        let _e1258 = partial[_e27];
        partial[_e27] = (_e1258 + _e1256);
    }
    workgroupBarrier();
    if (_e27 < 4i) {
        let _e1264 = partial[(_e27 + 4i)];
        let _e1266 = partial[_e27];
        partial[_e27] = (_e1266 + _e1264);
    }
    workgroupBarrier();
    if (_e27 < 2i) {
        let _e1272 = partial[(_e27 + 2i)];
        let _e1274 = partial[_e27];
        partial[_e27] = (_e1274 + _e1272);
    }
    workgroupBarrier();
    if (_e27 < 1i) {
        let _e1280 = partial[(_e27 + 1i)];
        let _e1282 = partial[_e27];
        partial[_e27] = (_e1282 + _e1280);
    }
    workgroupBarrier();
    let _e1286 = partial[0i];
    workgroupBarrier();
    let _e1290 = ((_e33 + 2047i) / 2048i);
    value_blocks = 0i;
    loop {
        let _e1295 = value_blocks;
        if (_e1295 >= _e1290) {
            break;
        }
        let _e1298 = (((_e1290 - 1i) - _e1295) * 2048i);
        let _e1299 = (0i + _e1298);
        let _e1301 = min((_e33 - _e1298), 2048i);
        round_1 = 0i;
        loop {
            let _e1309 = round_1;
            if (_e1309 >= (((_e1301 - _e27) + 255i) / 256i)) {
                break;
            }
            let _e1312 = ((_e1309 * 256i) + _e27);
            let _e1314 = scores[_e1312];
            x = 0f;
            x = _e1314;
            if !((_e1295 == 0i)) {
                let _e1318 = (_e1299 + _e1312);
                dot_1 = 0f;
                let _e1323 = (_e25 / 2i);
                let _e1329 = ((((_e1318 * 2i) + _e1323) * 16i) + 0i);
                let _e1333 = s1_[(_e1329 >> 1u)];
                let _e1341 = ((_e1333 >> (bitcast<u32>((_e1329 & 1i)) * 16u)) & 65535u);
                let _e1350 = ((_e1341 & 32768u) << 16u);
                let _e1352 = ((_e1341 >> 10u) & 31u);
                let _e1353 = (_e1341 & 1023u);
                let _e1354 = (_e1353 << 13u);
                let _e1368 = (f32(_e1353) * 0.000000059604645f);
                let _e1376 = query[0i];
                let _e1378 = dot_1;
                dot_1 = (_e1378 + (_e1376 * select(bitcast<f32>(select(((_e1350 | ((_e1352 + 112u) << 23u)) | _e1354), ((_e1350 | 2139095040u) | _e1354), (_e1352 == 31u))), select(_e1368, -(_e1368), (_e1350 != 0u)), (_e1352 == 0u))));
                let _e1386 = ((((_e1318 * 2i) + _e1323) * 16i) + 1i);
                let _e1390 = s1_[(_e1386 >> 1u)];
                let _e1398 = ((_e1390 >> (bitcast<u32>((_e1386 & 1i)) * 16u)) & 65535u);
                let _e1407 = ((_e1398 & 32768u) << 16u);
                let _e1409 = ((_e1398 >> 10u) & 31u);
                let _e1410 = (_e1398 & 1023u);
                let _e1411 = (_e1410 << 13u);
                let _e1425 = (f32(_e1410) * 0.000000059604645f);
                let _e1433 = query[1i];
                let _e1435 = dot_1;
                dot_1 = (_e1435 + (_e1433 * select(bitcast<f32>(select(((_e1407 | ((_e1409 + 112u) << 23u)) | _e1411), ((_e1407 | 2139095040u) | _e1411), (_e1409 == 31u))), select(_e1425, -(_e1425), (_e1407 != 0u)), (_e1409 == 0u))));
                let _e1443 = ((((_e1318 * 2i) + _e1323) * 16i) + 2i);
                let _e1447 = s1_[(_e1443 >> 1u)];
                let _e1455 = ((_e1447 >> (bitcast<u32>((_e1443 & 1i)) * 16u)) & 65535u);
                let _e1464 = ((_e1455 & 32768u) << 16u);
                let _e1466 = ((_e1455 >> 10u) & 31u);
                let _e1467 = (_e1455 & 1023u);
                let _e1468 = (_e1467 << 13u);
                let _e1482 = (f32(_e1467) * 0.000000059604645f);
                let _e1490 = query[2i];
                let _e1492 = dot_1;
                dot_1 = (_e1492 + (_e1490 * select(bitcast<f32>(select(((_e1464 | ((_e1466 + 112u) << 23u)) | _e1468), ((_e1464 | 2139095040u) | _e1468), (_e1466 == 31u))), select(_e1482, -(_e1482), (_e1464 != 0u)), (_e1466 == 0u))));
                let _e1500 = ((((_e1318 * 2i) + _e1323) * 16i) + 3i);
                let _e1504 = s1_[(_e1500 >> 1u)];
                let _e1512 = ((_e1504 >> (bitcast<u32>((_e1500 & 1i)) * 16u)) & 65535u);
                let _e1521 = ((_e1512 & 32768u) << 16u);
                let _e1523 = ((_e1512 >> 10u) & 31u);
                let _e1524 = (_e1512 & 1023u);
                let _e1525 = (_e1524 << 13u);
                let _e1539 = (f32(_e1524) * 0.000000059604645f);
                let _e1547 = query[3i];
                let _e1549 = dot_1;
                dot_1 = (_e1549 + (_e1547 * select(bitcast<f32>(select(((_e1521 | ((_e1523 + 112u) << 23u)) | _e1525), ((_e1521 | 2139095040u) | _e1525), (_e1523 == 31u))), select(_e1539, -(_e1539), (_e1521 != 0u)), (_e1523 == 0u))));
                let _e1557 = ((((_e1318 * 2i) + _e1323) * 16i) + 4i);
                let _e1561 = s1_[(_e1557 >> 1u)];
                let _e1569 = ((_e1561 >> (bitcast<u32>((_e1557 & 1i)) * 16u)) & 65535u);
                let _e1578 = ((_e1569 & 32768u) << 16u);
                let _e1580 = ((_e1569 >> 10u) & 31u);
                let _e1581 = (_e1569 & 1023u);
                let _e1582 = (_e1581 << 13u);
                let _e1596 = (f32(_e1581) * 0.000000059604645f);
                let _e1604 = query[4i];
                let _e1606 = dot_1;
                dot_1 = (_e1606 + (_e1604 * select(bitcast<f32>(select(((_e1578 | ((_e1580 + 112u) << 23u)) | _e1582), ((_e1578 | 2139095040u) | _e1582), (_e1580 == 31u))), select(_e1596, -(_e1596), (_e1578 != 0u)), (_e1580 == 0u))));
                let _e1614 = ((((_e1318 * 2i) + _e1323) * 16i) + 5i);
                let _e1618 = s1_[(_e1614 >> 1u)];
                let _e1626 = ((_e1618 >> (bitcast<u32>((_e1614 & 1i)) * 16u)) & 65535u);
                let _e1635 = ((_e1626 & 32768u) << 16u);
                let _e1637 = ((_e1626 >> 10u) & 31u);
                let _e1638 = (_e1626 & 1023u);
                let _e1639 = (_e1638 << 13u);
                let _e1653 = (f32(_e1638) * 0.000000059604645f);
                let _e1661 = query[5i];
                let _e1663 = dot_1;
                dot_1 = (_e1663 + (_e1661 * select(bitcast<f32>(select(((_e1635 | ((_e1637 + 112u) << 23u)) | _e1639), ((_e1635 | 2139095040u) | _e1639), (_e1637 == 31u))), select(_e1653, -(_e1653), (_e1635 != 0u)), (_e1637 == 0u))));
                let _e1671 = ((((_e1318 * 2i) + _e1323) * 16i) + 6i);
                let _e1675 = s1_[(_e1671 >> 1u)];
                let _e1683 = ((_e1675 >> (bitcast<u32>((_e1671 & 1i)) * 16u)) & 65535u);
                let _e1692 = ((_e1683 & 32768u) << 16u);
                let _e1694 = ((_e1683 >> 10u) & 31u);
                let _e1695 = (_e1683 & 1023u);
                let _e1696 = (_e1695 << 13u);
                let _e1710 = (f32(_e1695) * 0.000000059604645f);
                let _e1718 = query[6i];
                let _e1720 = dot_1;
                dot_1 = (_e1720 + (_e1718 * select(bitcast<f32>(select(((_e1692 | ((_e1694 + 112u) << 23u)) | _e1696), ((_e1692 | 2139095040u) | _e1696), (_e1694 == 31u))), select(_e1710, -(_e1710), (_e1692 != 0u)), (_e1694 == 0u))));
                let _e1728 = ((((_e1318 * 2i) + _e1323) * 16i) + 7i);
                let _e1732 = s1_[(_e1728 >> 1u)];
                let _e1740 = ((_e1732 >> (bitcast<u32>((_e1728 & 1i)) * 16u)) & 65535u);
                let _e1749 = ((_e1740 & 32768u) << 16u);
                let _e1751 = ((_e1740 >> 10u) & 31u);
                let _e1752 = (_e1740 & 1023u);
                let _e1753 = (_e1752 << 13u);
                let _e1767 = (f32(_e1752) * 0.000000059604645f);
                let _e1775 = query[7i];
                let _e1777 = dot_1;
                dot_1 = (_e1777 + (_e1775 * select(bitcast<f32>(select(((_e1749 | ((_e1751 + 112u) << 23u)) | _e1753), ((_e1749 | 2139095040u) | _e1753), (_e1751 == 31u))), select(_e1767, -(_e1767), (_e1749 != 0u)), (_e1751 == 0u))));
                let _e1785 = ((((_e1318 * 2i) + _e1323) * 16i) + 8i);
                let _e1789 = s1_[(_e1785 >> 1u)];
                let _e1797 = ((_e1789 >> (bitcast<u32>((_e1785 & 1i)) * 16u)) & 65535u);
                let _e1806 = ((_e1797 & 32768u) << 16u);
                let _e1808 = ((_e1797 >> 10u) & 31u);
                let _e1809 = (_e1797 & 1023u);
                let _e1810 = (_e1809 << 13u);
                let _e1824 = (f32(_e1809) * 0.000000059604645f);
                let _e1832 = query[8i];
                let _e1834 = dot_1;
                dot_1 = (_e1834 + (_e1832 * select(bitcast<f32>(select(((_e1806 | ((_e1808 + 112u) << 23u)) | _e1810), ((_e1806 | 2139095040u) | _e1810), (_e1808 == 31u))), select(_e1824, -(_e1824), (_e1806 != 0u)), (_e1808 == 0u))));
                let _e1842 = ((((_e1318 * 2i) + _e1323) * 16i) + 9i);
                let _e1846 = s1_[(_e1842 >> 1u)];
                let _e1854 = ((_e1846 >> (bitcast<u32>((_e1842 & 1i)) * 16u)) & 65535u);
                let _e1863 = ((_e1854 & 32768u) << 16u);
                let _e1865 = ((_e1854 >> 10u) & 31u);
                let _e1866 = (_e1854 & 1023u);
                let _e1867 = (_e1866 << 13u);
                let _e1881 = (f32(_e1866) * 0.000000059604645f);
                let _e1889 = query[9i];
                let _e1891 = dot_1;
                dot_1 = (_e1891 + (_e1889 * select(bitcast<f32>(select(((_e1863 | ((_e1865 + 112u) << 23u)) | _e1867), ((_e1863 | 2139095040u) | _e1867), (_e1865 == 31u))), select(_e1881, -(_e1881), (_e1863 != 0u)), (_e1865 == 0u))));
                let _e1899 = ((((_e1318 * 2i) + _e1323) * 16i) + 10i);
                let _e1903 = s1_[(_e1899 >> 1u)];
                let _e1911 = ((_e1903 >> (bitcast<u32>((_e1899 & 1i)) * 16u)) & 65535u);
                let _e1920 = ((_e1911 & 32768u) << 16u);
                let _e1922 = ((_e1911 >> 10u) & 31u);
                let _e1923 = (_e1911 & 1023u);
                let _e1924 = (_e1923 << 13u);
                let _e1938 = (f32(_e1923) * 0.000000059604645f);
                let _e1946 = query[10i];
                let _e1948 = dot_1;
                dot_1 = (_e1948 + (_e1946 * select(bitcast<f32>(select(((_e1920 | ((_e1922 + 112u) << 23u)) | _e1924), ((_e1920 | 2139095040u) | _e1924), (_e1922 == 31u))), select(_e1938, -(_e1938), (_e1920 != 0u)), (_e1922 == 0u))));
                let _e1956 = ((((_e1318 * 2i) + _e1323) * 16i) + 11i);
                let _e1960 = s1_[(_e1956 >> 1u)];
                let _e1968 = ((_e1960 >> (bitcast<u32>((_e1956 & 1i)) * 16u)) & 65535u);
                let _e1977 = ((_e1968 & 32768u) << 16u);
                let _e1979 = ((_e1968 >> 10u) & 31u);
                let _e1980 = (_e1968 & 1023u);
                let _e1981 = (_e1980 << 13u);
                let _e1995 = (f32(_e1980) * 0.000000059604645f);
                let _e2003 = query[11i];
                let _e2005 = dot_1;
                dot_1 = (_e2005 + (_e2003 * select(bitcast<f32>(select(((_e1977 | ((_e1979 + 112u) << 23u)) | _e1981), ((_e1977 | 2139095040u) | _e1981), (_e1979 == 31u))), select(_e1995, -(_e1995), (_e1977 != 0u)), (_e1979 == 0u))));
                let _e2013 = ((((_e1318 * 2i) + _e1323) * 16i) + 12i);
                let _e2017 = s1_[(_e2013 >> 1u)];
                let _e2025 = ((_e2017 >> (bitcast<u32>((_e2013 & 1i)) * 16u)) & 65535u);
                let _e2034 = ((_e2025 & 32768u) << 16u);
                let _e2036 = ((_e2025 >> 10u) & 31u);
                let _e2037 = (_e2025 & 1023u);
                let _e2038 = (_e2037 << 13u);
                let _e2052 = (f32(_e2037) * 0.000000059604645f);
                let _e2060 = query[12i];
                let _e2062 = dot_1;
                dot_1 = (_e2062 + (_e2060 * select(bitcast<f32>(select(((_e2034 | ((_e2036 + 112u) << 23u)) | _e2038), ((_e2034 | 2139095040u) | _e2038), (_e2036 == 31u))), select(_e2052, -(_e2052), (_e2034 != 0u)), (_e2036 == 0u))));
                let _e2070 = ((((_e1318 * 2i) + _e1323) * 16i) + 13i);
                let _e2074 = s1_[(_e2070 >> 1u)];
                let _e2082 = ((_e2074 >> (bitcast<u32>((_e2070 & 1i)) * 16u)) & 65535u);
                let _e2091 = ((_e2082 & 32768u) << 16u);
                let _e2093 = ((_e2082 >> 10u) & 31u);
                let _e2094 = (_e2082 & 1023u);
                let _e2095 = (_e2094 << 13u);
                let _e2109 = (f32(_e2094) * 0.000000059604645f);
                let _e2117 = query[13i];
                let _e2119 = dot_1;
                dot_1 = (_e2119 + (_e2117 * select(bitcast<f32>(select(((_e2091 | ((_e2093 + 112u) << 23u)) | _e2095), ((_e2091 | 2139095040u) | _e2095), (_e2093 == 31u))), select(_e2109, -(_e2109), (_e2091 != 0u)), (_e2093 == 0u))));
                let _e2127 = ((((_e1318 * 2i) + _e1323) * 16i) + 14i);
                let _e2131 = s1_[(_e2127 >> 1u)];
                let _e2139 = ((_e2131 >> (bitcast<u32>((_e2127 & 1i)) * 16u)) & 65535u);
                let _e2148 = ((_e2139 & 32768u) << 16u);
                let _e2150 = ((_e2139 >> 10u) & 31u);
                let _e2151 = (_e2139 & 1023u);
                let _e2152 = (_e2151 << 13u);
                let _e2166 = (f32(_e2151) * 0.000000059604645f);
                let _e2174 = query[14i];
                let _e2176 = dot_1;
                dot_1 = (_e2176 + (_e2174 * select(bitcast<f32>(select(((_e2148 | ((_e2150 + 112u) << 23u)) | _e2152), ((_e2148 | 2139095040u) | _e2152), (_e2150 == 31u))), select(_e2166, -(_e2166), (_e2148 != 0u)), (_e2150 == 0u))));
                let _e2184 = ((((_e1318 * 2i) + _e1323) * 16i) + 15i);
                let _e2188 = s1_[(_e2184 >> 1u)];
                let _e2196 = ((_e2188 >> (bitcast<u32>((_e2184 & 1i)) * 16u)) & 65535u);
                let _e2205 = ((_e2196 & 32768u) << 16u);
                let _e2207 = ((_e2196 >> 10u) & 31u);
                let _e2208 = (_e2196 & 1023u);
                let _e2209 = (_e2208 << 13u);
                let _e2223 = (f32(_e2208) * 0.000000059604645f);
                let _e2231 = query[15i];
                let _e2233 = dot_1;
                dot_1 = (_e2233 + (_e2231 * select(bitcast<f32>(select(((_e2205 | ((_e2207 + 112u) << 23u)) | _e2209), ((_e2205 | 2139095040u) | _e2209), (_e2207 == 31u))), select(_e2223, -(_e2223), (_e2205 != 0u)), (_e2207 == 0u))));
                let _e2235 = dot_1;
                let _e2240 = dims[0i];
                let _e2245 = dims[1i];
                x = select(_e37, (_e2235 * 0.125f), (i32((_e1318 <= (((1i * _e2240) + (-1i * _e2245)) + _e26))) != 0i));
            }
            let _e2254 = x;
            let _e2258 = bitcast<u32>((exp((_e2254 - _e1212)) * (1f / _e1286)));
            let _e2269 = (_e2258 & 8388607u);
            let _e2270 = bitcast<i32>(((_e2258 >> 23u) & 255u));
            let _e2272 = (_e2270 - 112i);
            let _e2277 = ((bitcast<u32>(_e2272) << 10u) | (_e2269 >> 13u));
            let _e2279 = (_e2269 & 8191u);
            let _e2291 = (_e2269 | 8388608u);
            let _e2296 = bitcast<u32>(min((14i - _e2272), 25i));
            let _e2297 = (_e2291 >> _e2296);
            let _e2299 = (1u << _e2296);
            let _e2301 = (_e2291 & (_e2299 - 1u));
            let _e2302 = (_e2299 >> 1u);
            let _e2327 = (((_e2258 >> 16u) & 32768u) | select(select(select((_e2297 + u32(((_e2301 > _e2302) || ((_e2301 == _e2302) && ((_e2297 & 1u) == 1u))))), (_e2277 + u32(((_e2279 > 4096u) || ((_e2279 == 4096u) && ((_e2277 & 1u) == 1u))))), (_e2272 >= 1i)), 31744u, (_e2272 >= 31i)), (31744u | select(0u, 512u, (_e2269 != 0u))), (_e2270 == 255i)));
            let _e2336 = ((_e2327 & 32768u) << 16u);
            let _e2338 = ((_e2327 >> 10u) & 31u);
            let _e2339 = (_e2327 & 1023u);
            let _e2340 = (_e2339 << 13u);
            let _e2354 = (f32(_e2339) * 0.000000059604645f);
            scores[_e1312] = select(bitcast<f32>(select(((_e2336 | ((_e2338 + 112u) << 23u)) | _e2340), ((_e2336 | 2139095040u) | _e2340), (_e2338 == 31u))), select(_e2354, -(_e2354), (_e2336 != 0u)), (_e2338 == 0u));
            continuing {
                let _e2361 = round_1;
                round_1 = (_e2361 + 1i);
            }
        }
        workgroupBarrier();
        key = 0i;
        loop {
            let _e2370 = key;
            if (_e2370 >= (((_e1301 - _e162) + 15i) / 16i)) {
                break;
            }
            let _e2373 = (_e162 + (_e2370 * 16i));
            let _e2375 = scores[_e2373];
            let _e2384 = (((((_e1299 + _e2373) * 2i) + (_e25 / 2i)) * 16i) + (_e27 % 16i));
            let _e2388 = s2_[(_e2384 >> 1u)];
            let _e2396 = ((_e2388 >> (bitcast<u32>((_e2384 & 1i)) * 16u)) & 65535u);
            let _e2405 = ((_e2396 & 32768u) << 16u);
            let _e2407 = ((_e2396 >> 10u) & 31u);
            let _e2408 = (_e2396 & 1023u);
            let _e2409 = (_e2408 << 13u);
            let _e2423 = (f32(_e2408) * 0.000000059604645f);
            let _e2431 = acc0_;
            acc0_ = (_e2431 + (_e2375 * select(bitcast<f32>(select(((_e2405 | ((_e2407 + 112u) << 23u)) | _e2409), ((_e2405 | 2139095040u) | _e2409), (_e2407 == 31u))), select(_e2423, -(_e2423), (_e2405 != 0u)), (_e2407 == 0u))));
            continuing {
                let _e2433 = key;
                key = (_e2433 + 1i);
            }
        }
        workgroupBarrier();
        continuing {
            let _e2436 = value_blocks;
            value_blocks = (_e2436 + 1i);
        }
    }
    let _e2441 = acc0_;
    partial[_e27] = _e2441;
    workgroupBarrier();
    if (_e162 == 0i) {
        let _e2444 = partial[_e27];
        let _e2448 = partial[(_e27 + 16i)];
        let _e2453 = partial[(_e27 + 32i)];
        let _e2458 = partial[(_e27 + 48i)];
        let _e2463 = partial[(_e27 + 64i)];
        let _e2468 = partial[(_e27 + 80i)];
        let _e2473 = partial[(_e27 + 96i)];
        let _e2478 = partial[(_e27 + 112i)];
        let _e2483 = partial[(_e27 + 128i)];
        let _e2488 = partial[(_e27 + 144i)];
        let _e2493 = partial[(_e27 + 160i)];
        let _e2498 = partial[(_e27 + 176i)];
        let _e2503 = partial[(_e27 + 192i)];
        let _e2508 = partial[(_e27 + 208i)];
        let _e2513 = partial[(_e27 + 224i)];
        let _e2518 = partial[(_e27 + 240i)];
        out[((_e15 * 16i) + _e27)] = (((((((((((((((_e2444 + _e2448) + _e2453) + _e2458) + _e2463) + _e2468) + _e2473) + _e2478) + _e2483) + _e2488) + _e2493) + _e2498) + _e2503) + _e2508) + _e2513) + _e2518);
    }
    return;
}
