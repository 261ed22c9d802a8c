@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage> s1_0_: array<u32>;
@group(0) @binding(2) 
var<storage> s1_1_: array<u32>;
@group(0) @binding(3) 
var<storage> s1_2_: array<u32>;
@group(0) @binding(4) 
var<storage> s1_3_: array<u32>;
@group(0) @binding(5) 
var<storage> s1_4_: array<u32>;
@group(0) @binding(6) 
var<storage, read_write> out: array<f32>;
@group(0) @binding(7) 
var<storage> dims: array<i32>;
var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(8, 8, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    var acc: f32;
    var l6_: i32;
    var s1_element: u32;
    var s1_element_1: u32;

    let _e17 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e19 = bitcast<i32>(lid.x);
    let _e21 = bitcast<i32>(lid.y);
    acc = 0f;
    l6_ = 0i;
    loop {
        let _e27 = l6_;
        if (_e27 >= 8i) {
            break;
        }
        if (_e17 < 4i) {
            let _e33 = ((_e17 * 8i) + _e21);
            let _e38 = ((_e27 * 8i) + _e19);
            let _e43 = s0_[(((_e33 / 32i) * 64i) + _e38)];
            let _e48 = (((_e33 % 32i) * 64i) + _e38);
            let _e52 = ((_e48 / 32i) * 18i);
            let _e54 = (_e52 >> 1u);
            let _e56 = (_e54 >> 1u);
            let _e61 = (_e56 & 63i);
            switch (_e56 >> 6u) {
                case 0: {
                    let _e63 = s1_0_[_e61];
                    s1_element = _e63;
                }
                case 1: {
                    let _e65 = s1_1_[_e61];
                    s1_element = _e65;
                }
                case 2: {
                    let _e67 = s1_2_[_e61];
                    s1_element = _e67;
                }
                case 3: {
                    let _e69 = s1_3_[_e61];
                    s1_element = _e69;
                }
                default: {
                    let _e71 = s1_4_[_e61];
                    s1_element = _e71;
                }
            }
            let _e72 = s1_element;
            let _e85 = (_e48 % 32i);
            let _e89 = (_e52 + (2i + (_e85 % 16i)));
            let _e91 = (_e89 >> 2u);
            let _e96 = (_e91 & 63i);
            switch (_e91 >> 6u) {
                case 0: {
                    let _e98 = s1_0_[_e96];
                    s1_element_1 = _e98;
                }
                case 1: {
                    let _e100 = s1_1_[_e96];
                    s1_element_1 = _e100;
                }
                case 2: {
                    let _e102 = s1_2_[_e96];
                    s1_element_1 = _e102;
                }
                case 3: {
                    let _e104 = s1_3_[_e96];
                    s1_element_1 = _e104;
                }
                default: {
                    let _e106 = s1_4_[_e96];
                    s1_element_1 = _e106;
                }
            }
            let _e107 = s1_element_1;
            let _e130 = acc;
            acc = (_e130 + (_e43 * (unpack2x16float(((_e72 >> (bitcast<u32>((_e54 & 1i)) * 16u)) & 65535u)).x * (f32(((bitcast<i32>(((_e107 >> (bitcast<u32>((_e89 & 3i)) * 8u)) & 255u)) >> bitcast<u32>(((_e85 / 16i) * 4i))) & 15i)) - 8f))));
        }
        continuing {
            let _e132 = l6_;
            l6_ = (_e132 + 1i);
        }
    }
    let _e135 = acc;
    partial[lidx] = _e135;
    workgroupBarrier();
    if ((_e19 < 4i) && ((_e19 + 4i) < 8i)) {
        let _e147 = partial[lidx];
        let _e148 = partial[(lidx + 4u)];
        partial[lidx] = (_e147 + _e148);
    }
    workgroupBarrier();
    if ((_e19 < 2i) && ((_e19 + 2i) < 8i)) {
        let _e160 = partial[lidx];
        let _e161 = partial[(lidx + 2u)];
        partial[lidx] = (_e160 + _e161);
    }
    workgroupBarrier();
    if ((_e19 < 1i) && ((_e19 + 1i) < 8i)) {
        let _e173 = partial[lidx];
        let _e174 = partial[(lidx + 1u)];
        partial[lidx] = (_e173 + _e174);
    }
    workgroupBarrier();
    if ((_e19 == 0i) && (_e17 < 4i)) {
        let _e182 = partial[lidx];
        let _e185 = ((_e17 * 8i) + _e21);
        out[(((_e185 / 32i) * 32i) + (_e185 % 32i))] = _e182;
    }
    workgroupBarrier();
    return;
}
