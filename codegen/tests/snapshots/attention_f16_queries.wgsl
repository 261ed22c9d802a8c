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
    let _e21 = dims[1i];
    if (_e15 >= (4i * _e21)) {
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
    let _e1211 = partial[0i];
    workgroupBarrier();
    let _e1212 = sum;
    partial[_e27] = select((_e1212 * exp((_e1144 - _e1211))), 0f, (_e1212 == 0f));
    workgroupBarrier();
    if (_e27 < 128i) {
        let _e1223 = partial[(_e27 + 128i)];
        let _e1225 = partial[_e27];
        partial[_e27] = (_e1225 + _e1223);
    }
    workgroupBarrier();
    if (_e27 < 64i) {
        let _e1231 = partial[(_e27 + 64i)];
        let _e1233 = partial[_e27];
        partial[_e27] = (_e1233 + _e1231);
    }
    workgroupBarrier();
    if (_e27 < 32i) {
        let _e1239 = partial[(_e27 + 32i)];
        let _e1241 = partial[_e27];
        partial[_e27] = (_e1241 + _e1239);
    }
    workgroupBarrier();
    if (_e27 < 16i) {
        let _e1247 = partial[(_e27 + 16i)];
        let _e1249 = partial[_e27];
        partial[_e27] = (_e1249 + _e1247);
    }
    workgroupBarrier();
    if (_e27 < 8i) {
        let _e1255 = partial[(_e27 + 8i)];
        let _e1257 = partial[_e27];
        partial[_e27] = (_e1257 + _e1255);
    }
    workgroupBarrier();
    if (_e27 < 4i) {
        let _e1263 = partial[(_e27 + 4i)];
        let _e1265 = partial[_e27];
        partial[_e27] = (_e1265 + _e1263);
    }
    workgroupBarrier();
    if (_e27 < 2i) {
        let _e1271 = partial[(_e27 + 2i)];
        let _e1273 = partial[_e27];
        partial[_e27] = (_e1273 + _e1271);
    }
    workgroupBarrier();
    if (_e27 < 1i) {
        let _e1279 = partial[(_e27 + 1i)];
        let _e1281 = partial[_e27];
        partial[_e27] = (_e1281 + _e1279);
    }
    workgroupBarrier();
    let _e1284 = partial[0i];
    workgroupBarrier();
    let _e1288 = ((_e33 + 2047i) / 2048i);
    value_blocks = 0i;
    loop {
        let _e1293 = value_blocks;
        if (_e1293 >= _e1288) {
            break;
        }
        let _e1296 = (((_e1288 - 1i) - _e1293) * 2048i);
        let _e1297 = (0i + _e1296);
        let _e1299 = min((_e33 - _e1296), 2048i);
        round_1 = 0i;
        loop {
            let _e1307 = round_1;
            if (_e1307 >= (((_e1299 - _e27) + 255i) / 256i)) {
                break;
            }
            let _e1310 = ((_e1307 * 256i) + _e27);
            let _e1312 = scores[_e1310];
            x = 0f;
            x = _e1312;
            if !((_e1293 == 0i)) {
                let _e1316 = (_e1297 + _e1310);
                dot_1 = 0f;
                let _e1321 = (_e25 / 2i);
                let _e1327 = ((((_e1316 * 2i) + _e1321) * 16i) + 0i);
                let _e1331 = s1_[(_e1327 >> 1u)];
                let _e1339 = ((_e1331 >> (bitcast<u32>((_e1327 & 1i)) * 16u)) & 65535u);
                let _e1348 = ((_e1339 & 32768u) << 16u);
                let _e1350 = ((_e1339 >> 10u) & 31u);
                let _e1351 = (_e1339 & 1023u);
                let _e1352 = (_e1351 << 13u);
                let _e1366 = (f32(_e1351) * 0.000000059604645f);
                let _e1374 = query[0i];
                let _e1376 = dot_1;
                dot_1 = (_e1376 + (_e1374 * select(bitcast<f32>(select(((_e1348 | ((_e1350 + 112u) << 23u)) | _e1352), ((_e1348 | 2139095040u) | _e1352), (_e1350 == 31u))), select(_e1366, -(_e1366), (_e1348 != 0u)), (_e1350 == 0u))));
                let _e1384 = ((((_e1316 * 2i) + _e1321) * 16i) + 1i);
                let _e1388 = s1_[(_e1384 >> 1u)];
                let _e1396 = ((_e1388 >> (bitcast<u32>((_e1384 & 1i)) * 16u)) & 65535u);
                let _e1405 = ((_e1396 & 32768u) << 16u);
                let _e1407 = ((_e1396 >> 10u) & 31u);
                let _e1408 = (_e1396 & 1023u);
                let _e1409 = (_e1408 << 13u);
                let _e1423 = (f32(_e1408) * 0.000000059604645f);
                let _e1431 = query[1i];
                let _e1433 = dot_1;
                dot_1 = (_e1433 + (_e1431 * select(bitcast<f32>(select(((_e1405 | ((_e1407 + 112u) << 23u)) | _e1409), ((_e1405 | 2139095040u) | _e1409), (_e1407 == 31u))), select(_e1423, -(_e1423), (_e1405 != 0u)), (_e1407 == 0u))));
                let _e1441 = ((((_e1316 * 2i) + _e1321) * 16i) + 2i);
                let _e1445 = s1_[(_e1441 >> 1u)];
                let _e1453 = ((_e1445 >> (bitcast<u32>((_e1441 & 1i)) * 16u)) & 65535u);
                let _e1462 = ((_e1453 & 32768u) << 16u);
                let _e1464 = ((_e1453 >> 10u) & 31u);
                let _e1465 = (_e1453 & 1023u);
                let _e1466 = (_e1465 << 13u);
                let _e1480 = (f32(_e1465) * 0.000000059604645f);
                let _e1488 = query[2i];
                let _e1490 = dot_1;
                dot_1 = (_e1490 + (_e1488 * select(bitcast<f32>(select(((_e1462 | ((_e1464 + 112u) << 23u)) | _e1466), ((_e1462 | 2139095040u) | _e1466), (_e1464 == 31u))), select(_e1480, -(_e1480), (_e1462 != 0u)), (_e1464 == 0u))));
                let _e1498 = ((((_e1316 * 2i) + _e1321) * 16i) + 3i);
                let _e1502 = s1_[(_e1498 >> 1u)];
                let _e1510 = ((_e1502 >> (bitcast<u32>((_e1498 & 1i)) * 16u)) & 65535u);
                let _e1519 = ((_e1510 & 32768u) << 16u);
                let _e1521 = ((_e1510 >> 10u) & 31u);
                let _e1522 = (_e1510 & 1023u);
                let _e1523 = (_e1522 << 13u);
                let _e1537 = (f32(_e1522) * 0.000000059604645f);
                let _e1545 = query[3i];
                let _e1547 = dot_1;
                dot_1 = (_e1547 + (_e1545 * select(bitcast<f32>(select(((_e1519 | ((_e1521 + 112u) << 23u)) | _e1523), ((_e1519 | 2139095040u) | _e1523), (_e1521 == 31u))), select(_e1537, -(_e1537), (_e1519 != 0u)), (_e1521 == 0u))));
                let _e1555 = ((((_e1316 * 2i) + _e1321) * 16i) + 4i);
                let _e1559 = s1_[(_e1555 >> 1u)];
                let _e1567 = ((_e1559 >> (bitcast<u32>((_e1555 & 1i)) * 16u)) & 65535u);
                let _e1576 = ((_e1567 & 32768u) << 16u);
                let _e1578 = ((_e1567 >> 10u) & 31u);
                let _e1579 = (_e1567 & 1023u);
                let _e1580 = (_e1579 << 13u);
                let _e1594 = (f32(_e1579) * 0.000000059604645f);
                let _e1602 = query[4i];
                let _e1604 = dot_1;
                dot_1 = (_e1604 + (_e1602 * select(bitcast<f32>(select(((_e1576 | ((_e1578 + 112u) << 23u)) | _e1580), ((_e1576 | 2139095040u) | _e1580), (_e1578 == 31u))), select(_e1594, -(_e1594), (_e1576 != 0u)), (_e1578 == 0u))));
                let _e1612 = ((((_e1316 * 2i) + _e1321) * 16i) + 5i);
                let _e1616 = s1_[(_e1612 >> 1u)];
                let _e1624 = ((_e1616 >> (bitcast<u32>((_e1612 & 1i)) * 16u)) & 65535u);
                let _e1633 = ((_e1624 & 32768u) << 16u);
                let _e1635 = ((_e1624 >> 10u) & 31u);
                let _e1636 = (_e1624 & 1023u);
                let _e1637 = (_e1636 << 13u);
                let _e1651 = (f32(_e1636) * 0.000000059604645f);
                let _e1659 = query[5i];
                let _e1661 = dot_1;
                dot_1 = (_e1661 + (_e1659 * select(bitcast<f32>(select(((_e1633 | ((_e1635 + 112u) << 23u)) | _e1637), ((_e1633 | 2139095040u) | _e1637), (_e1635 == 31u))), select(_e1651, -(_e1651), (_e1633 != 0u)), (_e1635 == 0u))));
                let _e1669 = ((((_e1316 * 2i) + _e1321) * 16i) + 6i);
                let _e1673 = s1_[(_e1669 >> 1u)];
                let _e1681 = ((_e1673 >> (bitcast<u32>((_e1669 & 1i)) * 16u)) & 65535u);
                let _e1690 = ((_e1681 & 32768u) << 16u);
                let _e1692 = ((_e1681 >> 10u) & 31u);
                let _e1693 = (_e1681 & 1023u);
                let _e1694 = (_e1693 << 13u);
                let _e1708 = (f32(_e1693) * 0.000000059604645f);
                let _e1716 = query[6i];
                let _e1718 = dot_1;
                dot_1 = (_e1718 + (_e1716 * select(bitcast<f32>(select(((_e1690 | ((_e1692 + 112u) << 23u)) | _e1694), ((_e1690 | 2139095040u) | _e1694), (_e1692 == 31u))), select(_e1708, -(_e1708), (_e1690 != 0u)), (_e1692 == 0u))));
                let _e1726 = ((((_e1316 * 2i) + _e1321) * 16i) + 7i);
                let _e1730 = s1_[(_e1726 >> 1u)];
                let _e1738 = ((_e1730 >> (bitcast<u32>((_e1726 & 1i)) * 16u)) & 65535u);
                let _e1747 = ((_e1738 & 32768u) << 16u);
                let _e1749 = ((_e1738 >> 10u) & 31u);
                let _e1750 = (_e1738 & 1023u);
                let _e1751 = (_e1750 << 13u);
                let _e1765 = (f32(_e1750) * 0.000000059604645f);
                let _e1773 = query[7i];
                let _e1775 = dot_1;
                dot_1 = (_e1775 + (_e1773 * select(bitcast<f32>(select(((_e1747 | ((_e1749 + 112u) << 23u)) | _e1751), ((_e1747 | 2139095040u) | _e1751), (_e1749 == 31u))), select(_e1765, -(_e1765), (_e1747 != 0u)), (_e1749 == 0u))));
                let _e1783 = ((((_e1316 * 2i) + _e1321) * 16i) + 8i);
                let _e1787 = s1_[(_e1783 >> 1u)];
                let _e1795 = ((_e1787 >> (bitcast<u32>((_e1783 & 1i)) * 16u)) & 65535u);
                let _e1804 = ((_e1795 & 32768u) << 16u);
                let _e1806 = ((_e1795 >> 10u) & 31u);
                let _e1807 = (_e1795 & 1023u);
                let _e1808 = (_e1807 << 13u);
                let _e1822 = (f32(_e1807) * 0.000000059604645f);
                let _e1830 = query[8i];
                let _e1832 = dot_1;
                dot_1 = (_e1832 + (_e1830 * select(bitcast<f32>(select(((_e1804 | ((_e1806 + 112u) << 23u)) | _e1808), ((_e1804 | 2139095040u) | _e1808), (_e1806 == 31u))), select(_e1822, -(_e1822), (_e1804 != 0u)), (_e1806 == 0u))));
                let _e1840 = ((((_e1316 * 2i) + _e1321) * 16i) + 9i);
                let _e1844 = s1_[(_e1840 >> 1u)];
                let _e1852 = ((_e1844 >> (bitcast<u32>((_e1840 & 1i)) * 16u)) & 65535u);
                let _e1861 = ((_e1852 & 32768u) << 16u);
                let _e1863 = ((_e1852 >> 10u) & 31u);
                let _e1864 = (_e1852 & 1023u);
                let _e1865 = (_e1864 << 13u);
                let _e1879 = (f32(_e1864) * 0.000000059604645f);
                let _e1887 = query[9i];
                let _e1889 = dot_1;
                dot_1 = (_e1889 + (_e1887 * select(bitcast<f32>(select(((_e1861 | ((_e1863 + 112u) << 23u)) | _e1865), ((_e1861 | 2139095040u) | _e1865), (_e1863 == 31u))), select(_e1879, -(_e1879), (_e1861 != 0u)), (_e1863 == 0u))));
                let _e1897 = ((((_e1316 * 2i) + _e1321) * 16i) + 10i);
                let _e1901 = s1_[(_e1897 >> 1u)];
                let _e1909 = ((_e1901 >> (bitcast<u32>((_e1897 & 1i)) * 16u)) & 65535u);
                let _e1918 = ((_e1909 & 32768u) << 16u);
                let _e1920 = ((_e1909 >> 10u) & 31u);
                let _e1921 = (_e1909 & 1023u);
                let _e1922 = (_e1921 << 13u);
                let _e1936 = (f32(_e1921) * 0.000000059604645f);
                let _e1944 = query[10i];
                let _e1946 = dot_1;
                dot_1 = (_e1946 + (_e1944 * select(bitcast<f32>(select(((_e1918 | ((_e1920 + 112u) << 23u)) | _e1922), ((_e1918 | 2139095040u) | _e1922), (_e1920 == 31u))), select(_e1936, -(_e1936), (_e1918 != 0u)), (_e1920 == 0u))));
                let _e1954 = ((((_e1316 * 2i) + _e1321) * 16i) + 11i);
                let _e1958 = s1_[(_e1954 >> 1u)];
                let _e1966 = ((_e1958 >> (bitcast<u32>((_e1954 & 1i)) * 16u)) & 65535u);
                let _e1975 = ((_e1966 & 32768u) << 16u);
                let _e1977 = ((_e1966 >> 10u) & 31u);
                let _e1978 = (_e1966 & 1023u);
                let _e1979 = (_e1978 << 13u);
                let _e1993 = (f32(_e1978) * 0.000000059604645f);
                let _e2001 = query[11i];
                let _e2003 = dot_1;
                dot_1 = (_e2003 + (_e2001 * select(bitcast<f32>(select(((_e1975 | ((_e1977 + 112u) << 23u)) | _e1979), ((_e1975 | 2139095040u) | _e1979), (_e1977 == 31u))), select(_e1993, -(_e1993), (_e1975 != 0u)), (_e1977 == 0u))));
                let _e2011 = ((((_e1316 * 2i) + _e1321) * 16i) + 12i);
                let _e2015 = s1_[(_e2011 >> 1u)];
                let _e2023 = ((_e2015 >> (bitcast<u32>((_e2011 & 1i)) * 16u)) & 65535u);
                let _e2032 = ((_e2023 & 32768u) << 16u);
                let _e2034 = ((_e2023 >> 10u) & 31u);
                let _e2035 = (_e2023 & 1023u);
                let _e2036 = (_e2035 << 13u);
                let _e2050 = (f32(_e2035) * 0.000000059604645f);
                let _e2058 = query[12i];
                let _e2060 = dot_1;
                dot_1 = (_e2060 + (_e2058 * select(bitcast<f32>(select(((_e2032 | ((_e2034 + 112u) << 23u)) | _e2036), ((_e2032 | 2139095040u) | _e2036), (_e2034 == 31u))), select(_e2050, -(_e2050), (_e2032 != 0u)), (_e2034 == 0u))));
                let _e2068 = ((((_e1316 * 2i) + _e1321) * 16i) + 13i);
                let _e2072 = s1_[(_e2068 >> 1u)];
                let _e2080 = ((_e2072 >> (bitcast<u32>((_e2068 & 1i)) * 16u)) & 65535u);
                let _e2089 = ((_e2080 & 32768u) << 16u);
                let _e2091 = ((_e2080 >> 10u) & 31u);
                let _e2092 = (_e2080 & 1023u);
                let _e2093 = (_e2092 << 13u);
                let _e2107 = (f32(_e2092) * 0.000000059604645f);
                let _e2115 = query[13i];
                let _e2117 = dot_1;
                dot_1 = (_e2117 + (_e2115 * select(bitcast<f32>(select(((_e2089 | ((_e2091 + 112u) << 23u)) | _e2093), ((_e2089 | 2139095040u) | _e2093), (_e2091 == 31u))), select(_e2107, -(_e2107), (_e2089 != 0u)), (_e2091 == 0u))));
                let _e2125 = ((((_e1316 * 2i) + _e1321) * 16i) + 14i);
                let _e2129 = s1_[(_e2125 >> 1u)];
                let _e2137 = ((_e2129 >> (bitcast<u32>((_e2125 & 1i)) * 16u)) & 65535u);
                let _e2146 = ((_e2137 & 32768u) << 16u);
                let _e2148 = ((_e2137 >> 10u) & 31u);
                let _e2149 = (_e2137 & 1023u);
                let _e2150 = (_e2149 << 13u);
                let _e2164 = (f32(_e2149) * 0.000000059604645f);
                let _e2172 = query[14i];
                let _e2174 = dot_1;
                dot_1 = (_e2174 + (_e2172 * select(bitcast<f32>(select(((_e2146 | ((_e2148 + 112u) << 23u)) | _e2150), ((_e2146 | 2139095040u) | _e2150), (_e2148 == 31u))), select(_e2164, -(_e2164), (_e2146 != 0u)), (_e2148 == 0u))));
                let _e2182 = ((((_e1316 * 2i) + _e1321) * 16i) + 15i);
                let _e2186 = s1_[(_e2182 >> 1u)];
                let _e2194 = ((_e2186 >> (bitcast<u32>((_e2182 & 1i)) * 16u)) & 65535u);
                let _e2203 = ((_e2194 & 32768u) << 16u);
                let _e2205 = ((_e2194 >> 10u) & 31u);
                let _e2206 = (_e2194 & 1023u);
                let _e2207 = (_e2206 << 13u);
                let _e2221 = (f32(_e2206) * 0.000000059604645f);
                let _e2229 = query[15i];
                let _e2231 = dot_1;
                dot_1 = (_e2231 + (_e2229 * select(bitcast<f32>(select(((_e2203 | ((_e2205 + 112u) << 23u)) | _e2207), ((_e2203 | 2139095040u) | _e2207), (_e2205 == 31u))), select(_e2221, -(_e2221), (_e2203 != 0u)), (_e2205 == 0u))));
                let _e2233 = dot_1;
                let _e2238 = dims[0i];
                let _e2243 = dims[1i];
                x = select(_e37, (_e2233 * 0.125f), (i32((_e1316 <= (((1i * _e2238) + (-1i * _e2243)) + _e26))) != 0i));
            }
            let _e2252 = x;
            let _e2256 = bitcast<u32>((exp((_e2252 - _e1211)) * (1f / _e1284)));
            let _e2267 = (_e2256 & 8388607u);
            let _e2268 = bitcast<i32>(((_e2256 >> 23u) & 255u));
            let _e2270 = (_e2268 - 112i);
            let _e2275 = ((bitcast<u32>(_e2270) << 10u) | (_e2267 >> 13u));
            let _e2277 = (_e2267 & 8191u);
            let _e2289 = (_e2267 | 8388608u);
            let _e2294 = bitcast<u32>(min((14i - _e2270), 25i));
            let _e2295 = (_e2289 >> _e2294);
            let _e2297 = (1u << _e2294);
            let _e2299 = (_e2289 & (_e2297 - 1u));
            let _e2300 = (_e2297 >> 1u);
            let _e2325 = (((_e2256 >> 16u) & 32768u) | select(select(select((_e2295 + u32(((_e2299 > _e2300) || ((_e2299 == _e2300) && ((_e2295 & 1u) == 1u))))), (_e2275 + u32(((_e2277 > 4096u) || ((_e2277 == 4096u) && ((_e2275 & 1u) == 1u))))), (_e2270 >= 1i)), 31744u, (_e2270 >= 31i)), (31744u | select(0u, 512u, (_e2267 != 0u))), (_e2268 == 255i)));
            let _e2334 = ((_e2325 & 32768u) << 16u);
            let _e2336 = ((_e2325 >> 10u) & 31u);
            let _e2337 = (_e2325 & 1023u);
            let _e2338 = (_e2337 << 13u);
            let _e2352 = (f32(_e2337) * 0.000000059604645f);
            scores[_e1310] = select(bitcast<f32>(select(((_e2334 | ((_e2336 + 112u) << 23u)) | _e2338), ((_e2334 | 2139095040u) | _e2338), (_e2336 == 31u))), select(_e2352, -(_e2352), (_e2334 != 0u)), (_e2336 == 0u));
            continuing {
                let _e2359 = round_1;
                round_1 = (_e2359 + 1i);
            }
        }
        workgroupBarrier();
        key = 0i;
        loop {
            let _e2368 = key;
            if (_e2368 >= (((_e1299 - _e162) + 15i) / 16i)) {
                break;
            }
            let _e2371 = (_e162 + (_e2368 * 16i));
            let _e2373 = scores[_e2371];
            let _e2382 = (((((_e1297 + _e2371) * 2i) + (_e25 / 2i)) * 16i) + (_e27 % 16i));
            let _e2386 = s2_[(_e2382 >> 1u)];
            let _e2394 = ((_e2386 >> (bitcast<u32>((_e2382 & 1i)) * 16u)) & 65535u);
            let _e2403 = ((_e2394 & 32768u) << 16u);
            let _e2405 = ((_e2394 >> 10u) & 31u);
            let _e2406 = (_e2394 & 1023u);
            let _e2407 = (_e2406 << 13u);
            let _e2421 = (f32(_e2406) * 0.000000059604645f);
            let _e2429 = acc0_;
            acc0_ = (_e2429 + (_e2373 * select(bitcast<f32>(select(((_e2403 | ((_e2405 + 112u) << 23u)) | _e2407), ((_e2403 | 2139095040u) | _e2407), (_e2405 == 31u))), select(_e2421, -(_e2421), (_e2403 != 0u)), (_e2405 == 0u))));
            continuing {
                let _e2431 = key;
                key = (_e2431 + 1i);
            }
        }
        workgroupBarrier();
        continuing {
            let _e2434 = value_blocks;
            value_blocks = (_e2434 + 1i);
        }
    }
    let _e2439 = acc0_;
    partial[_e27] = _e2439;
    workgroupBarrier();
    if (_e162 == 0i) {
        let _e2442 = partial[_e27];
        let _e2446 = partial[(_e27 + 16i)];
        let _e2451 = partial[(_e27 + 32i)];
        let _e2456 = partial[(_e27 + 48i)];
        let _e2461 = partial[(_e27 + 64i)];
        let _e2466 = partial[(_e27 + 80i)];
        let _e2471 = partial[(_e27 + 96i)];
        let _e2476 = partial[(_e27 + 112i)];
        let _e2481 = partial[(_e27 + 128i)];
        let _e2486 = partial[(_e27 + 144i)];
        let _e2491 = partial[(_e27 + 160i)];
        let _e2496 = partial[(_e27 + 176i)];
        let _e2501 = partial[(_e27 + 192i)];
        let _e2506 = partial[(_e27 + 208i)];
        let _e2511 = partial[(_e27 + 224i)];
        let _e2516 = partial[(_e27 + 240i)];
        out[((_e15 * 16i) + _e27)] = (((((((((((((((_e2442 + _e2446) + _e2451) + _e2456) + _e2461) + _e2466) + _e2471) + _e2476) + _e2481) + _e2486) + _e2491) + _e2496) + _e2501) + _e2506) + _e2511) + _e2516);
    }
    return;
}
