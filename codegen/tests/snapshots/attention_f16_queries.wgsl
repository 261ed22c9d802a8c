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
    var max_: f32;
    var sum: f32;
    var score_blocks: i32;
    var round_: i32;
    var dot_: f32;
    var acc0_: f32;
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
    let _e23 = (_e15 % 4i);
    let _e24 = (_e15 / 4i);
    let _e25 = bitcast<i32>(lidx);
    let _e28 = (_e25 + 0i);
    if (_e28 < 16i) {
        let _e37 = s0_[((((_e24 * 4i) + _e23) * 16i) + _e28)];
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
    let _e150 = ((_e146 + 2047i) / 2048i);
    let _e154 = bitcast<f32>(4286578688u);
    max_ = bitcast<f32>(4286578688u);
    sum = 0f;
    score_blocks = 0i;
    loop {
        let _e163 = score_blocks;
        if (_e163 >= _e150) {
            break;
        }
        let _e165 = (_e163 * 2048i);
        round_ = 0i;
        loop {
            let _e174 = round_;
            if (_e174 >= (((min((_e146 - _e165), 2048i) - _e25) + 255i) / 256i)) {
                break;
            }
            let _e177 = ((_e174 * 256i) + _e25);
            let _e178 = (_e165 + _e177);
            dot_ = 0f;
            let _e183 = (_e23 / 2i);
            let _e189 = ((((_e178 * 2i) + _e183) * 16i) + 0i);
            let _e193 = s1_[(_e189 >> 1u)];
            let _e201 = ((_e193 >> (bitcast<u32>((_e189 & 1i)) * 16u)) & 65535u);
            let _e210 = ((_e201 & 32768u) << 16u);
            let _e212 = ((_e201 >> 10u) & 31u);
            let _e213 = (_e201 & 1023u);
            let _e214 = (_e213 << 13u);
            let _e228 = (f32(_e213) * 0.000000059604645f);
            let _e236 = query[0i];
            let _e238 = dot_;
            dot_ = (_e238 + (_e236 * select(bitcast<f32>(select(((_e210 | ((_e212 + 112u) << 23u)) | _e214), ((_e210 | 2139095040u) | _e214), (_e212 == 31u))), select(_e228, -(_e228), (_e210 != 0u)), (_e212 == 0u))));
            let _e246 = ((((_e178 * 2i) + _e183) * 16i) + 1i);
            let _e250 = s1_[(_e246 >> 1u)];
            let _e258 = ((_e250 >> (bitcast<u32>((_e246 & 1i)) * 16u)) & 65535u);
            let _e267 = ((_e258 & 32768u) << 16u);
            let _e269 = ((_e258 >> 10u) & 31u);
            let _e270 = (_e258 & 1023u);
            let _e271 = (_e270 << 13u);
            let _e285 = (f32(_e270) * 0.000000059604645f);
            let _e293 = query[1i];
            let _e295 = dot_;
            dot_ = (_e295 + (_e293 * select(bitcast<f32>(select(((_e267 | ((_e269 + 112u) << 23u)) | _e271), ((_e267 | 2139095040u) | _e271), (_e269 == 31u))), select(_e285, -(_e285), (_e267 != 0u)), (_e269 == 0u))));
            let _e303 = ((((_e178 * 2i) + _e183) * 16i) + 2i);
            let _e307 = s1_[(_e303 >> 1u)];
            let _e315 = ((_e307 >> (bitcast<u32>((_e303 & 1i)) * 16u)) & 65535u);
            let _e324 = ((_e315 & 32768u) << 16u);
            let _e326 = ((_e315 >> 10u) & 31u);
            let _e327 = (_e315 & 1023u);
            let _e328 = (_e327 << 13u);
            let _e342 = (f32(_e327) * 0.000000059604645f);
            let _e350 = query[2i];
            let _e352 = dot_;
            dot_ = (_e352 + (_e350 * select(bitcast<f32>(select(((_e324 | ((_e326 + 112u) << 23u)) | _e328), ((_e324 | 2139095040u) | _e328), (_e326 == 31u))), select(_e342, -(_e342), (_e324 != 0u)), (_e326 == 0u))));
            let _e360 = ((((_e178 * 2i) + _e183) * 16i) + 3i);
            let _e364 = s1_[(_e360 >> 1u)];
            let _e372 = ((_e364 >> (bitcast<u32>((_e360 & 1i)) * 16u)) & 65535u);
            let _e381 = ((_e372 & 32768u) << 16u);
            let _e383 = ((_e372 >> 10u) & 31u);
            let _e384 = (_e372 & 1023u);
            let _e385 = (_e384 << 13u);
            let _e399 = (f32(_e384) * 0.000000059604645f);
            let _e407 = query[3i];
            let _e409 = dot_;
            dot_ = (_e409 + (_e407 * select(bitcast<f32>(select(((_e381 | ((_e383 + 112u) << 23u)) | _e385), ((_e381 | 2139095040u) | _e385), (_e383 == 31u))), select(_e399, -(_e399), (_e381 != 0u)), (_e383 == 0u))));
            let _e417 = ((((_e178 * 2i) + _e183) * 16i) + 4i);
            let _e421 = s1_[(_e417 >> 1u)];
            let _e429 = ((_e421 >> (bitcast<u32>((_e417 & 1i)) * 16u)) & 65535u);
            let _e438 = ((_e429 & 32768u) << 16u);
            let _e440 = ((_e429 >> 10u) & 31u);
            let _e441 = (_e429 & 1023u);
            let _e442 = (_e441 << 13u);
            let _e456 = (f32(_e441) * 0.000000059604645f);
            let _e464 = query[4i];
            let _e466 = dot_;
            dot_ = (_e466 + (_e464 * select(bitcast<f32>(select(((_e438 | ((_e440 + 112u) << 23u)) | _e442), ((_e438 | 2139095040u) | _e442), (_e440 == 31u))), select(_e456, -(_e456), (_e438 != 0u)), (_e440 == 0u))));
            let _e474 = ((((_e178 * 2i) + _e183) * 16i) + 5i);
            let _e478 = s1_[(_e474 >> 1u)];
            let _e486 = ((_e478 >> (bitcast<u32>((_e474 & 1i)) * 16u)) & 65535u);
            let _e495 = ((_e486 & 32768u) << 16u);
            let _e497 = ((_e486 >> 10u) & 31u);
            let _e498 = (_e486 & 1023u);
            let _e499 = (_e498 << 13u);
            let _e513 = (f32(_e498) * 0.000000059604645f);
            let _e521 = query[5i];
            let _e523 = dot_;
            dot_ = (_e523 + (_e521 * select(bitcast<f32>(select(((_e495 | ((_e497 + 112u) << 23u)) | _e499), ((_e495 | 2139095040u) | _e499), (_e497 == 31u))), select(_e513, -(_e513), (_e495 != 0u)), (_e497 == 0u))));
            let _e531 = ((((_e178 * 2i) + _e183) * 16i) + 6i);
            let _e535 = s1_[(_e531 >> 1u)];
            let _e543 = ((_e535 >> (bitcast<u32>((_e531 & 1i)) * 16u)) & 65535u);
            let _e552 = ((_e543 & 32768u) << 16u);
            let _e554 = ((_e543 >> 10u) & 31u);
            let _e555 = (_e543 & 1023u);
            let _e556 = (_e555 << 13u);
            let _e570 = (f32(_e555) * 0.000000059604645f);
            let _e578 = query[6i];
            let _e580 = dot_;
            dot_ = (_e580 + (_e578 * select(bitcast<f32>(select(((_e552 | ((_e554 + 112u) << 23u)) | _e556), ((_e552 | 2139095040u) | _e556), (_e554 == 31u))), select(_e570, -(_e570), (_e552 != 0u)), (_e554 == 0u))));
            let _e588 = ((((_e178 * 2i) + _e183) * 16i) + 7i);
            let _e592 = s1_[(_e588 >> 1u)];
            let _e600 = ((_e592 >> (bitcast<u32>((_e588 & 1i)) * 16u)) & 65535u);
            let _e609 = ((_e600 & 32768u) << 16u);
            let _e611 = ((_e600 >> 10u) & 31u);
            let _e612 = (_e600 & 1023u);
            let _e613 = (_e612 << 13u);
            let _e627 = (f32(_e612) * 0.000000059604645f);
            let _e635 = query[7i];
            let _e637 = dot_;
            dot_ = (_e637 + (_e635 * select(bitcast<f32>(select(((_e609 | ((_e611 + 112u) << 23u)) | _e613), ((_e609 | 2139095040u) | _e613), (_e611 == 31u))), select(_e627, -(_e627), (_e609 != 0u)), (_e611 == 0u))));
            let _e645 = ((((_e178 * 2i) + _e183) * 16i) + 8i);
            let _e649 = s1_[(_e645 >> 1u)];
            let _e657 = ((_e649 >> (bitcast<u32>((_e645 & 1i)) * 16u)) & 65535u);
            let _e666 = ((_e657 & 32768u) << 16u);
            let _e668 = ((_e657 >> 10u) & 31u);
            let _e669 = (_e657 & 1023u);
            let _e670 = (_e669 << 13u);
            let _e684 = (f32(_e669) * 0.000000059604645f);
            let _e692 = query[8i];
            let _e694 = dot_;
            dot_ = (_e694 + (_e692 * select(bitcast<f32>(select(((_e666 | ((_e668 + 112u) << 23u)) | _e670), ((_e666 | 2139095040u) | _e670), (_e668 == 31u))), select(_e684, -(_e684), (_e666 != 0u)), (_e668 == 0u))));
            let _e702 = ((((_e178 * 2i) + _e183) * 16i) + 9i);
            let _e706 = s1_[(_e702 >> 1u)];
            let _e714 = ((_e706 >> (bitcast<u32>((_e702 & 1i)) * 16u)) & 65535u);
            let _e723 = ((_e714 & 32768u) << 16u);
            let _e725 = ((_e714 >> 10u) & 31u);
            let _e726 = (_e714 & 1023u);
            let _e727 = (_e726 << 13u);
            let _e741 = (f32(_e726) * 0.000000059604645f);
            let _e749 = query[9i];
            let _e751 = dot_;
            dot_ = (_e751 + (_e749 * select(bitcast<f32>(select(((_e723 | ((_e725 + 112u) << 23u)) | _e727), ((_e723 | 2139095040u) | _e727), (_e725 == 31u))), select(_e741, -(_e741), (_e723 != 0u)), (_e725 == 0u))));
            let _e759 = ((((_e178 * 2i) + _e183) * 16i) + 10i);
            let _e763 = s1_[(_e759 >> 1u)];
            let _e771 = ((_e763 >> (bitcast<u32>((_e759 & 1i)) * 16u)) & 65535u);
            let _e780 = ((_e771 & 32768u) << 16u);
            let _e782 = ((_e771 >> 10u) & 31u);
            let _e783 = (_e771 & 1023u);
            let _e784 = (_e783 << 13u);
            let _e798 = (f32(_e783) * 0.000000059604645f);
            let _e806 = query[10i];
            let _e808 = dot_;
            dot_ = (_e808 + (_e806 * select(bitcast<f32>(select(((_e780 | ((_e782 + 112u) << 23u)) | _e784), ((_e780 | 2139095040u) | _e784), (_e782 == 31u))), select(_e798, -(_e798), (_e780 != 0u)), (_e782 == 0u))));
            let _e816 = ((((_e178 * 2i) + _e183) * 16i) + 11i);
            let _e820 = s1_[(_e816 >> 1u)];
            let _e828 = ((_e820 >> (bitcast<u32>((_e816 & 1i)) * 16u)) & 65535u);
            let _e837 = ((_e828 & 32768u) << 16u);
            let _e839 = ((_e828 >> 10u) & 31u);
            let _e840 = (_e828 & 1023u);
            let _e841 = (_e840 << 13u);
            let _e855 = (f32(_e840) * 0.000000059604645f);
            let _e863 = query[11i];
            let _e865 = dot_;
            dot_ = (_e865 + (_e863 * select(bitcast<f32>(select(((_e837 | ((_e839 + 112u) << 23u)) | _e841), ((_e837 | 2139095040u) | _e841), (_e839 == 31u))), select(_e855, -(_e855), (_e837 != 0u)), (_e839 == 0u))));
            let _e873 = ((((_e178 * 2i) + _e183) * 16i) + 12i);
            let _e877 = s1_[(_e873 >> 1u)];
            let _e885 = ((_e877 >> (bitcast<u32>((_e873 & 1i)) * 16u)) & 65535u);
            let _e894 = ((_e885 & 32768u) << 16u);
            let _e896 = ((_e885 >> 10u) & 31u);
            let _e897 = (_e885 & 1023u);
            let _e898 = (_e897 << 13u);
            let _e912 = (f32(_e897) * 0.000000059604645f);
            let _e920 = query[12i];
            let _e922 = dot_;
            dot_ = (_e922 + (_e920 * select(bitcast<f32>(select(((_e894 | ((_e896 + 112u) << 23u)) | _e898), ((_e894 | 2139095040u) | _e898), (_e896 == 31u))), select(_e912, -(_e912), (_e894 != 0u)), (_e896 == 0u))));
            let _e930 = ((((_e178 * 2i) + _e183) * 16i) + 13i);
            let _e934 = s1_[(_e930 >> 1u)];
            let _e942 = ((_e934 >> (bitcast<u32>((_e930 & 1i)) * 16u)) & 65535u);
            let _e951 = ((_e942 & 32768u) << 16u);
            let _e953 = ((_e942 >> 10u) & 31u);
            let _e954 = (_e942 & 1023u);
            let _e955 = (_e954 << 13u);
            let _e969 = (f32(_e954) * 0.000000059604645f);
            let _e977 = query[13i];
            let _e979 = dot_;
            dot_ = (_e979 + (_e977 * select(bitcast<f32>(select(((_e951 | ((_e953 + 112u) << 23u)) | _e955), ((_e951 | 2139095040u) | _e955), (_e953 == 31u))), select(_e969, -(_e969), (_e951 != 0u)), (_e953 == 0u))));
            let _e987 = ((((_e178 * 2i) + _e183) * 16i) + 14i);
            let _e991 = s1_[(_e987 >> 1u)];
            let _e999 = ((_e991 >> (bitcast<u32>((_e987 & 1i)) * 16u)) & 65535u);
            let _e1008 = ((_e999 & 32768u) << 16u);
            let _e1010 = ((_e999 >> 10u) & 31u);
            let _e1011 = (_e999 & 1023u);
            let _e1012 = (_e1011 << 13u);
            let _e1026 = (f32(_e1011) * 0.000000059604645f);
            let _e1034 = query[14i];
            let _e1036 = dot_;
            dot_ = (_e1036 + (_e1034 * select(bitcast<f32>(select(((_e1008 | ((_e1010 + 112u) << 23u)) | _e1012), ((_e1008 | 2139095040u) | _e1012), (_e1010 == 31u))), select(_e1026, -(_e1026), (_e1008 != 0u)), (_e1010 == 0u))));
            let _e1044 = ((((_e178 * 2i) + _e183) * 16i) + 15i);
            let _e1048 = s1_[(_e1044 >> 1u)];
            let _e1056 = ((_e1048 >> (bitcast<u32>((_e1044 & 1i)) * 16u)) & 65535u);
            let _e1065 = ((_e1056 & 32768u) << 16u);
            let _e1067 = ((_e1056 >> 10u) & 31u);
            let _e1068 = (_e1056 & 1023u);
            let _e1069 = (_e1068 << 13u);
            let _e1083 = (f32(_e1068) * 0.000000059604645f);
            let _e1091 = query[15i];
            let _e1093 = dot_;
            dot_ = (_e1093 + (_e1091 * select(bitcast<f32>(select(((_e1065 | ((_e1067 + 112u) << 23u)) | _e1069), ((_e1065 | 2139095040u) | _e1069), (_e1067 == 31u))), select(_e1083, -(_e1083), (_e1065 != 0u)), (_e1067 == 0u))));
            let _e1095 = dot_;
            let _e1100 = dims[0i];
            let _e1105 = dims[1i];
            let _e1113 = select(_e154, (_e1095 * 0.125f), (i32((_e178 <= (((1i * _e1100) + (-1i * _e1105)) + _e24))) != 0i));
            scores[_e177] = _e1113;
            if (_e1113 > _e154) {
                let _e1116 = max_;
                let _e1117 = max(_e1116, _e1113);
                let _e1120 = sum;
                sum = ((_e1120 * exp((_e1116 - _e1117))) + exp((_e1113 - _e1117)));
                max_ = _e1117;
            }
            continuing {
                let _e1125 = round_;
                round_ = (_e1125 + 1i);
            }
        }
        continuing {
            let _e1128 = score_blocks;
            score_blocks = (_e1128 + 1i);
        }
    }
    let _e1131 = max_;
    partial[_e25] = _e1131;
    workgroupBarrier();
    if (_e25 < 128i) {
        let _e1137 = partial[(_e25 + 128i)];
        let _e1139 = partial[_e25];
        partial[_e25] = max(_e1139, _e1137);
    }
    workgroupBarrier();
    if (_e25 < 64i) {
        let _e1145 = partial[(_e25 + 64i)];
        let _e1147 = partial[_e25];
        partial[_e25] = max(_e1147, _e1145);
    }
    workgroupBarrier();
    if (_e25 < 32i) {
        let _e1153 = partial[(_e25 + 32i)];
        let _e1155 = partial[_e25];
        partial[_e25] = max(_e1155, _e1153);
    }
    workgroupBarrier();
    if (_e25 < 16i) {
        let _e1161 = partial[(_e25 + 16i)];
        let _e1163 = partial[_e25];
        partial[_e25] = max(_e1163, _e1161);
    }
    workgroupBarrier();
    if (_e25 < 8i) {
        let _e1169 = partial[(_e25 + 8i)];
        let _e1171 = partial[_e25];
        partial[_e25] = max(_e1171, _e1169);
    }
    workgroupBarrier();
    if (_e25 < 4i) {
        let _e1177 = partial[(_e25 + 4i)];
        let _e1179 = partial[_e25];
        partial[_e25] = max(_e1179, _e1177);
    }
    workgroupBarrier();
    if (_e25 < 2i) {
        let _e1185 = partial[(_e25 + 2i)];
        let _e1187 = partial[_e25];
        partial[_e25] = max(_e1187, _e1185);
    }
    workgroupBarrier();
    if (_e25 < 1i) {
        let _e1193 = partial[(_e25 + 1i)];
        let _e1195 = partial[_e25];
        partial[_e25] = max(_e1195, _e1193);
    }
    workgroupBarrier();
    let _e1198 = partial[0i];
    workgroupBarrier();
    let _e1199 = sum;
    partial[_e25] = select((_e1199 * exp((_e1131 - _e1198))), 0f, (_e1199 == 0f));
    workgroupBarrier();
    if (_e25 < 128i) {
        let _e1211 = partial[(_e25 + 128i)];
        let _e1213 = partial[_e25];
        partial[_e25] = (_e1213 + _e1211);
    }
    workgroupBarrier();
    if (_e25 < 64i) {
        let _e1219 = partial[(_e25 + 64i)];
        let _e1221 = partial[_e25];
        partial[_e25] = (_e1221 + _e1219);
    }
    workgroupBarrier();
    if (_e25 < 32i) {
        let _e1227 = partial[(_e25 + 32i)];
        let _e1229 = partial[_e25];
        partial[_e25] = (_e1229 + _e1227);
    }
    workgroupBarrier();
    if (_e25 < 16i) {
        let _e1235 = partial[(_e25 + 16i)];
        let _e1237 = partial[_e25];
        partial[_e25] = (_e1237 + _e1235);
    }
    workgroupBarrier();
    if (_e25 < 8i) {
        let _e1243 = partial[(_e25 + 8i)];
        let _e1245 = partial[_e25];
        partial[_e25] = (_e1245 + _e1243);
    }
    workgroupBarrier();
    if (_e25 < 4i) {
        let _e1251 = partial[(_e25 + 4i)];
        let _e1253 = partial[_e25];
        partial[_e25] = (_e1253 + _e1251);
    }
    workgroupBarrier();
    if (_e25 < 2i) {
        let _e1259 = partial[(_e25 + 2i)];
        let _e1261 = partial[_e25];
        partial[_e25] = (_e1261 + _e1259);
    }
    workgroupBarrier();
    if (_e25 < 1i) {
        let _e1267 = partial[(_e25 + 1i)];
        let _e1269 = partial[_e25];
        partial[_e25] = (_e1269 + _e1267);
    }
    workgroupBarrier();
    let _e1272 = partial[0i];
    workgroupBarrier();
    acc0_ = 0f;
    let _e1279 = (_e25 / 16i);
    value_blocks = 0i;
    loop {
        let _e1284 = value_blocks;
        if (_e1284 >= _e150) {
            break;
        }
        let _e1287 = (((_e150 - 1i) - _e1284) * 2048i);
        let _e1289 = min((_e146 - _e1287), 2048i);
        round_1 = 0i;
        loop {
            let _e1297 = round_1;
            if (_e1297 >= (((_e1289 - _e25) + 255i) / 256i)) {
                break;
            }
            let _e1300 = ((_e1297 * 256i) + _e25);
            let _e1302 = scores[_e1300];
            x = 0f;
            x = _e1302;
            if !((_e1284 == 0i)) {
                let _e1306 = (_e1287 + _e1300);
                dot_1 = 0f;
                let _e1311 = (_e23 / 2i);
                let _e1317 = ((((_e1306 * 2i) + _e1311) * 16i) + 0i);
                let _e1321 = s1_[(_e1317 >> 1u)];
                let _e1329 = ((_e1321 >> (bitcast<u32>((_e1317 & 1i)) * 16u)) & 65535u);
                let _e1338 = ((_e1329 & 32768u) << 16u);
                let _e1340 = ((_e1329 >> 10u) & 31u);
                let _e1341 = (_e1329 & 1023u);
                let _e1342 = (_e1341 << 13u);
                let _e1356 = (f32(_e1341) * 0.000000059604645f);
                let _e1364 = query[0i];
                let _e1366 = dot_1;
                dot_1 = (_e1366 + (_e1364 * select(bitcast<f32>(select(((_e1338 | ((_e1340 + 112u) << 23u)) | _e1342), ((_e1338 | 2139095040u) | _e1342), (_e1340 == 31u))), select(_e1356, -(_e1356), (_e1338 != 0u)), (_e1340 == 0u))));
                let _e1374 = ((((_e1306 * 2i) + _e1311) * 16i) + 1i);
                let _e1378 = s1_[(_e1374 >> 1u)];
                let _e1386 = ((_e1378 >> (bitcast<u32>((_e1374 & 1i)) * 16u)) & 65535u);
                let _e1395 = ((_e1386 & 32768u) << 16u);
                let _e1397 = ((_e1386 >> 10u) & 31u);
                let _e1398 = (_e1386 & 1023u);
                let _e1399 = (_e1398 << 13u);
                let _e1413 = (f32(_e1398) * 0.000000059604645f);
                let _e1421 = query[1i];
                let _e1423 = dot_1;
                dot_1 = (_e1423 + (_e1421 * select(bitcast<f32>(select(((_e1395 | ((_e1397 + 112u) << 23u)) | _e1399), ((_e1395 | 2139095040u) | _e1399), (_e1397 == 31u))), select(_e1413, -(_e1413), (_e1395 != 0u)), (_e1397 == 0u))));
                let _e1431 = ((((_e1306 * 2i) + _e1311) * 16i) + 2i);
                let _e1435 = s1_[(_e1431 >> 1u)];
                let _e1443 = ((_e1435 >> (bitcast<u32>((_e1431 & 1i)) * 16u)) & 65535u);
                let _e1452 = ((_e1443 & 32768u) << 16u);
                let _e1454 = ((_e1443 >> 10u) & 31u);
                let _e1455 = (_e1443 & 1023u);
                let _e1456 = (_e1455 << 13u);
                let _e1470 = (f32(_e1455) * 0.000000059604645f);
                let _e1478 = query[2i];
                let _e1480 = dot_1;
                dot_1 = (_e1480 + (_e1478 * select(bitcast<f32>(select(((_e1452 | ((_e1454 + 112u) << 23u)) | _e1456), ((_e1452 | 2139095040u) | _e1456), (_e1454 == 31u))), select(_e1470, -(_e1470), (_e1452 != 0u)), (_e1454 == 0u))));
                let _e1488 = ((((_e1306 * 2i) + _e1311) * 16i) + 3i);
                let _e1492 = s1_[(_e1488 >> 1u)];
                let _e1500 = ((_e1492 >> (bitcast<u32>((_e1488 & 1i)) * 16u)) & 65535u);
                let _e1509 = ((_e1500 & 32768u) << 16u);
                let _e1511 = ((_e1500 >> 10u) & 31u);
                let _e1512 = (_e1500 & 1023u);
                let _e1513 = (_e1512 << 13u);
                let _e1527 = (f32(_e1512) * 0.000000059604645f);
                let _e1535 = query[3i];
                let _e1537 = dot_1;
                dot_1 = (_e1537 + (_e1535 * select(bitcast<f32>(select(((_e1509 | ((_e1511 + 112u) << 23u)) | _e1513), ((_e1509 | 2139095040u) | _e1513), (_e1511 == 31u))), select(_e1527, -(_e1527), (_e1509 != 0u)), (_e1511 == 0u))));
                let _e1545 = ((((_e1306 * 2i) + _e1311) * 16i) + 4i);
                let _e1549 = s1_[(_e1545 >> 1u)];
                let _e1557 = ((_e1549 >> (bitcast<u32>((_e1545 & 1i)) * 16u)) & 65535u);
                let _e1566 = ((_e1557 & 32768u) << 16u);
                let _e1568 = ((_e1557 >> 10u) & 31u);
                let _e1569 = (_e1557 & 1023u);
                let _e1570 = (_e1569 << 13u);
                let _e1584 = (f32(_e1569) * 0.000000059604645f);
                let _e1592 = query[4i];
                let _e1594 = dot_1;
                dot_1 = (_e1594 + (_e1592 * select(bitcast<f32>(select(((_e1566 | ((_e1568 + 112u) << 23u)) | _e1570), ((_e1566 | 2139095040u) | _e1570), (_e1568 == 31u))), select(_e1584, -(_e1584), (_e1566 != 0u)), (_e1568 == 0u))));
                let _e1602 = ((((_e1306 * 2i) + _e1311) * 16i) + 5i);
                let _e1606 = s1_[(_e1602 >> 1u)];
                let _e1614 = ((_e1606 >> (bitcast<u32>((_e1602 & 1i)) * 16u)) & 65535u);
                let _e1623 = ((_e1614 & 32768u) << 16u);
                let _e1625 = ((_e1614 >> 10u) & 31u);
                let _e1626 = (_e1614 & 1023u);
                let _e1627 = (_e1626 << 13u);
                let _e1641 = (f32(_e1626) * 0.000000059604645f);
                let _e1649 = query[5i];
                let _e1651 = dot_1;
                dot_1 = (_e1651 + (_e1649 * select(bitcast<f32>(select(((_e1623 | ((_e1625 + 112u) << 23u)) | _e1627), ((_e1623 | 2139095040u) | _e1627), (_e1625 == 31u))), select(_e1641, -(_e1641), (_e1623 != 0u)), (_e1625 == 0u))));
                let _e1659 = ((((_e1306 * 2i) + _e1311) * 16i) + 6i);
                let _e1663 = s1_[(_e1659 >> 1u)];
                let _e1671 = ((_e1663 >> (bitcast<u32>((_e1659 & 1i)) * 16u)) & 65535u);
                let _e1680 = ((_e1671 & 32768u) << 16u);
                let _e1682 = ((_e1671 >> 10u) & 31u);
                let _e1683 = (_e1671 & 1023u);
                let _e1684 = (_e1683 << 13u);
                let _e1698 = (f32(_e1683) * 0.000000059604645f);
                let _e1706 = query[6i];
                let _e1708 = dot_1;
                dot_1 = (_e1708 + (_e1706 * select(bitcast<f32>(select(((_e1680 | ((_e1682 + 112u) << 23u)) | _e1684), ((_e1680 | 2139095040u) | _e1684), (_e1682 == 31u))), select(_e1698, -(_e1698), (_e1680 != 0u)), (_e1682 == 0u))));
                let _e1716 = ((((_e1306 * 2i) + _e1311) * 16i) + 7i);
                let _e1720 = s1_[(_e1716 >> 1u)];
                let _e1728 = ((_e1720 >> (bitcast<u32>((_e1716 & 1i)) * 16u)) & 65535u);
                let _e1737 = ((_e1728 & 32768u) << 16u);
                let _e1739 = ((_e1728 >> 10u) & 31u);
                let _e1740 = (_e1728 & 1023u);
                let _e1741 = (_e1740 << 13u);
                let _e1755 = (f32(_e1740) * 0.000000059604645f);
                let _e1763 = query[7i];
                let _e1765 = dot_1;
                dot_1 = (_e1765 + (_e1763 * select(bitcast<f32>(select(((_e1737 | ((_e1739 + 112u) << 23u)) | _e1741), ((_e1737 | 2139095040u) | _e1741), (_e1739 == 31u))), select(_e1755, -(_e1755), (_e1737 != 0u)), (_e1739 == 0u))));
                let _e1773 = ((((_e1306 * 2i) + _e1311) * 16i) + 8i);
                let _e1777 = s1_[(_e1773 >> 1u)];
                let _e1785 = ((_e1777 >> (bitcast<u32>((_e1773 & 1i)) * 16u)) & 65535u);
                let _e1794 = ((_e1785 & 32768u) << 16u);
                let _e1796 = ((_e1785 >> 10u) & 31u);
                let _e1797 = (_e1785 & 1023u);
                let _e1798 = (_e1797 << 13u);
                let _e1812 = (f32(_e1797) * 0.000000059604645f);
                let _e1820 = query[8i];
                let _e1822 = dot_1;
                dot_1 = (_e1822 + (_e1820 * select(bitcast<f32>(select(((_e1794 | ((_e1796 + 112u) << 23u)) | _e1798), ((_e1794 | 2139095040u) | _e1798), (_e1796 == 31u))), select(_e1812, -(_e1812), (_e1794 != 0u)), (_e1796 == 0u))));
                let _e1830 = ((((_e1306 * 2i) + _e1311) * 16i) + 9i);
                let _e1834 = s1_[(_e1830 >> 1u)];
                let _e1842 = ((_e1834 >> (bitcast<u32>((_e1830 & 1i)) * 16u)) & 65535u);
                let _e1851 = ((_e1842 & 32768u) << 16u);
                let _e1853 = ((_e1842 >> 10u) & 31u);
                let _e1854 = (_e1842 & 1023u);
                let _e1855 = (_e1854 << 13u);
                let _e1869 = (f32(_e1854) * 0.000000059604645f);
                let _e1877 = query[9i];
                let _e1879 = dot_1;
                dot_1 = (_e1879 + (_e1877 * select(bitcast<f32>(select(((_e1851 | ((_e1853 + 112u) << 23u)) | _e1855), ((_e1851 | 2139095040u) | _e1855), (_e1853 == 31u))), select(_e1869, -(_e1869), (_e1851 != 0u)), (_e1853 == 0u))));
                let _e1887 = ((((_e1306 * 2i) + _e1311) * 16i) + 10i);
                let _e1891 = s1_[(_e1887 >> 1u)];
                let _e1899 = ((_e1891 >> (bitcast<u32>((_e1887 & 1i)) * 16u)) & 65535u);
                let _e1908 = ((_e1899 & 32768u) << 16u);
                let _e1910 = ((_e1899 >> 10u) & 31u);
                let _e1911 = (_e1899 & 1023u);
                let _e1912 = (_e1911 << 13u);
                let _e1926 = (f32(_e1911) * 0.000000059604645f);
                let _e1934 = query[10i];
                let _e1936 = dot_1;
                dot_1 = (_e1936 + (_e1934 * select(bitcast<f32>(select(((_e1908 | ((_e1910 + 112u) << 23u)) | _e1912), ((_e1908 | 2139095040u) | _e1912), (_e1910 == 31u))), select(_e1926, -(_e1926), (_e1908 != 0u)), (_e1910 == 0u))));
                let _e1944 = ((((_e1306 * 2i) + _e1311) * 16i) + 11i);
                let _e1948 = s1_[(_e1944 >> 1u)];
                let _e1956 = ((_e1948 >> (bitcast<u32>((_e1944 & 1i)) * 16u)) & 65535u);
                let _e1965 = ((_e1956 & 32768u) << 16u);
                let _e1967 = ((_e1956 >> 10u) & 31u);
                let _e1968 = (_e1956 & 1023u);
                let _e1969 = (_e1968 << 13u);
                let _e1983 = (f32(_e1968) * 0.000000059604645f);
                let _e1991 = query[11i];
                let _e1993 = dot_1;
                dot_1 = (_e1993 + (_e1991 * select(bitcast<f32>(select(((_e1965 | ((_e1967 + 112u) << 23u)) | _e1969), ((_e1965 | 2139095040u) | _e1969), (_e1967 == 31u))), select(_e1983, -(_e1983), (_e1965 != 0u)), (_e1967 == 0u))));
                let _e2001 = ((((_e1306 * 2i) + _e1311) * 16i) + 12i);
                let _e2005 = s1_[(_e2001 >> 1u)];
                let _e2013 = ((_e2005 >> (bitcast<u32>((_e2001 & 1i)) * 16u)) & 65535u);
                let _e2022 = ((_e2013 & 32768u) << 16u);
                let _e2024 = ((_e2013 >> 10u) & 31u);
                let _e2025 = (_e2013 & 1023u);
                let _e2026 = (_e2025 << 13u);
                let _e2040 = (f32(_e2025) * 0.000000059604645f);
                let _e2048 = query[12i];
                let _e2050 = dot_1;
                dot_1 = (_e2050 + (_e2048 * select(bitcast<f32>(select(((_e2022 | ((_e2024 + 112u) << 23u)) | _e2026), ((_e2022 | 2139095040u) | _e2026), (_e2024 == 31u))), select(_e2040, -(_e2040), (_e2022 != 0u)), (_e2024 == 0u))));
                let _e2058 = ((((_e1306 * 2i) + _e1311) * 16i) + 13i);
                let _e2062 = s1_[(_e2058 >> 1u)];
                let _e2070 = ((_e2062 >> (bitcast<u32>((_e2058 & 1i)) * 16u)) & 65535u);
                let _e2079 = ((_e2070 & 32768u) << 16u);
                let _e2081 = ((_e2070 >> 10u) & 31u);
                let _e2082 = (_e2070 & 1023u);
                let _e2083 = (_e2082 << 13u);
                let _e2097 = (f32(_e2082) * 0.000000059604645f);
                let _e2105 = query[13i];
                let _e2107 = dot_1;
                dot_1 = (_e2107 + (_e2105 * select(bitcast<f32>(select(((_e2079 | ((_e2081 + 112u) << 23u)) | _e2083), ((_e2079 | 2139095040u) | _e2083), (_e2081 == 31u))), select(_e2097, -(_e2097), (_e2079 != 0u)), (_e2081 == 0u))));
                let _e2115 = ((((_e1306 * 2i) + _e1311) * 16i) + 14i);
                let _e2119 = s1_[(_e2115 >> 1u)];
                let _e2127 = ((_e2119 >> (bitcast<u32>((_e2115 & 1i)) * 16u)) & 65535u);
                let _e2136 = ((_e2127 & 32768u) << 16u);
                let _e2138 = ((_e2127 >> 10u) & 31u);
                let _e2139 = (_e2127 & 1023u);
                let _e2140 = (_e2139 << 13u);
                let _e2154 = (f32(_e2139) * 0.000000059604645f);
                let _e2162 = query[14i];
                let _e2164 = dot_1;
                dot_1 = (_e2164 + (_e2162 * select(bitcast<f32>(select(((_e2136 | ((_e2138 + 112u) << 23u)) | _e2140), ((_e2136 | 2139095040u) | _e2140), (_e2138 == 31u))), select(_e2154, -(_e2154), (_e2136 != 0u)), (_e2138 == 0u))));
                let _e2172 = ((((_e1306 * 2i) + _e1311) * 16i) + 15i);
                let _e2176 = s1_[(_e2172 >> 1u)];
                let _e2184 = ((_e2176 >> (bitcast<u32>((_e2172 & 1i)) * 16u)) & 65535u);
                let _e2193 = ((_e2184 & 32768u) << 16u);
                let _e2195 = ((_e2184 >> 10u) & 31u);
                let _e2196 = (_e2184 & 1023u);
                let _e2197 = (_e2196 << 13u);
                let _e2211 = (f32(_e2196) * 0.000000059604645f);
                let _e2219 = query[15i];
                let _e2221 = dot_1;
                dot_1 = (_e2221 + (_e2219 * select(bitcast<f32>(select(((_e2193 | ((_e2195 + 112u) << 23u)) | _e2197), ((_e2193 | 2139095040u) | _e2197), (_e2195 == 31u))), select(_e2211, -(_e2211), (_e2193 != 0u)), (_e2195 == 0u))));
                let _e2223 = dot_1;
                let _e2228 = dims[0i];
                let _e2233 = dims[1i];
                x = select(_e154, (_e2223 * 0.125f), (i32((_e1306 <= (((1i * _e2228) + (-1i * _e2233)) + _e24))) != 0i));
            }
            let _e2242 = x;
            let _e2246 = bitcast<u32>((exp((_e2242 - _e1198)) * (1f / _e1272)));
            let _e2257 = (_e2246 & 8388607u);
            let _e2258 = bitcast<i32>(((_e2246 >> 23u) & 255u));
            let _e2260 = (_e2258 - 112i);
            let _e2265 = ((bitcast<u32>(_e2260) << 10u) | (_e2257 >> 13u));
            let _e2267 = (_e2257 & 8191u);
            let _e2279 = (_e2257 | 8388608u);
            let _e2284 = bitcast<u32>(min((14i - _e2260), 25i));
            let _e2285 = (_e2279 >> _e2284);
            let _e2287 = (1u << _e2284);
            let _e2289 = (_e2279 & (_e2287 - 1u));
            let _e2290 = (_e2287 >> 1u);
            let _e2315 = (((_e2246 >> 16u) & 32768u) | select(select(select((_e2285 + u32(((_e2289 > _e2290) || ((_e2289 == _e2290) && ((_e2285 & 1u) == 1u))))), (_e2265 + u32(((_e2267 > 4096u) || ((_e2267 == 4096u) && ((_e2265 & 1u) == 1u))))), (_e2260 >= 1i)), 31744u, (_e2260 >= 31i)), (31744u | select(0u, 512u, (_e2257 != 0u))), (_e2258 == 255i)));
            let _e2324 = ((_e2315 & 32768u) << 16u);
            let _e2326 = ((_e2315 >> 10u) & 31u);
            let _e2327 = (_e2315 & 1023u);
            let _e2328 = (_e2327 << 13u);
            let _e2342 = (f32(_e2327) * 0.000000059604645f);
            scores[_e1300] = select(bitcast<f32>(select(((_e2324 | ((_e2326 + 112u) << 23u)) | _e2328), ((_e2324 | 2139095040u) | _e2328), (_e2326 == 31u))), select(_e2342, -(_e2342), (_e2324 != 0u)), (_e2326 == 0u));
            continuing {
                let _e2349 = round_1;
                round_1 = (_e2349 + 1i);
            }
        }
        workgroupBarrier();
        key = 0i;
        loop {
            let _e2358 = key;
            if (_e2358 >= (((_e1289 - _e1279) + 15i) / 16i)) {
                break;
            }
            let _e2361 = (_e1279 + (_e2358 * 16i));
            let _e2363 = scores[_e2361];
            let _e2372 = (((((_e1287 + _e2361) * 2i) + (_e23 / 2i)) * 16i) + (_e25 % 16i));
            let _e2376 = s2_[(_e2372 >> 1u)];
            let _e2384 = ((_e2376 >> (bitcast<u32>((_e2372 & 1i)) * 16u)) & 65535u);
            let _e2393 = ((_e2384 & 32768u) << 16u);
            let _e2395 = ((_e2384 >> 10u) & 31u);
            let _e2396 = (_e2384 & 1023u);
            let _e2397 = (_e2396 << 13u);
            let _e2411 = (f32(_e2396) * 0.000000059604645f);
            let _e2419 = acc0_;
            acc0_ = (_e2419 + (_e2363 * select(bitcast<f32>(select(((_e2393 | ((_e2395 + 112u) << 23u)) | _e2397), ((_e2393 | 2139095040u) | _e2397), (_e2395 == 31u))), select(_e2411, -(_e2411), (_e2393 != 0u)), (_e2395 == 0u))));
            continuing {
                let _e2421 = key;
                key = (_e2421 + 1i);
            }
        }
        workgroupBarrier();
        continuing {
            let _e2424 = value_blocks;
            value_blocks = (_e2424 + 1i);
        }
    }
    let _e2431 = acc0_;
    partial[_e25] = _e2431;
    workgroupBarrier();
    if (_e1279 == 0i) {
        let _e2434 = partial[_e25];
        let _e2438 = partial[(_e25 + 16i)];
        let _e2443 = partial[(_e25 + 32i)];
        let _e2448 = partial[(_e25 + 48i)];
        let _e2453 = partial[(_e25 + 64i)];
        let _e2458 = partial[(_e25 + 80i)];
        let _e2463 = partial[(_e25 + 96i)];
        let _e2468 = partial[(_e25 + 112i)];
        let _e2473 = partial[(_e25 + 128i)];
        let _e2478 = partial[(_e25 + 144i)];
        let _e2483 = partial[(_e25 + 160i)];
        let _e2488 = partial[(_e25 + 176i)];
        let _e2493 = partial[(_e25 + 192i)];
        let _e2498 = partial[(_e25 + 208i)];
        let _e2503 = partial[(_e25 + 224i)];
        let _e2508 = partial[(_e25 + 240i)];
        out[((((_e24 * 4i) + _e23) * 16i) + _e25)] = (((((((((((((((_e2434 + _e2438) + _e2443) + _e2448) + _e2453) + _e2458) + _e2463) + _e2468) + _e2473) + _e2478) + _e2483) + _e2488) + _e2493) + _e2498) + _e2503) + _e2508);
    }
    return;
}
